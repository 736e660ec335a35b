// The part of a span that crosses process boundaries.
#pragma once

#include "tracing/ids.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace tracegate::tracing {

/// W3C trace-flags bit 0: the caller may have recorded
/// (https://www.w3.org/TR/trace-context/#sampled-flag).
inline constexpr std::uint8_t sampled_flag = 0x01;
/// W3C Level 2 trace-flags bit 1: the trace id's right-most 7 bytes are random
/// (https://www.w3.org/TR/trace-context-2/#random-trace-id-flag).
inline constexpr std::uint8_t random_flag = 0x02;

/// A trace position as one propagation format carried it (or as the tracer will send it).
///
/// Invariants kept by every propagator: `sampling_deferred` implies the sampled bit is
/// clear; `debug` implies the sampled bit is set and the decision is not deferred.
///
/// Types are written `tracing::trace_id` inside the struct because the members share
/// their names.
struct span_context {
    /// The trace; all zero only in a sampling-only context (b3 `b3: 0`, see is_valid()).
    tracing::trace_id trace_id;
    /// The sender's span, i.e. the parent of the span the receiver starts.
    tracing::span_id span_id;
    /// W3C trace-flags byte. From `traceparent` version 00 every bit is kept as received;
    /// other formats set only sampled_flag.
    std::uint8_t trace_flags = 0;
    /// True when the sender left the sampling decision to the receiver (b3 without a
    /// sampling state, X-Ray `Sampled=?` or absent, Cloud Trace without `;o=`).
    bool sampling_deferred = false;
    /// Forced sampling: b3 `d`, `X-B3-Flags: 1`, Jaeger flag 0x02.
    bool debug = false;
    /// The span id of `span_id`'s parent, when a format carried one (b3, Jaeger).
    std::optional<tracing::span_id> parent_span_id;
    /// The trace id arrived as 16 hex digits (b3, b3multi, Jaeger); `trace_id.high()` is
    /// then 0 and the same format sends it on as 16 hex digits.
    bool trace_id_64bit = false;
    /// W3C `tracestate`, already validated and limited by parse_tracestate(); may be empty.
    std::string tracestate;
    /// True when the context was extracted from a request rather than created here.
    bool is_remote = false;

    /// Both ids are valid. A context returned by a propagator is either valid or carries
    /// only a sampling decision (b3 `b3: 0` / `X-B3-Sampled: 0` without ids).
    bool is_valid() const noexcept { return trace_id.is_valid() && span_id.is_valid(); }
    /// The sampled bit of trace_flags.
    bool sampled() const noexcept { return (trace_flags & sampled_flag) != 0; }
    /// The sender's decision: true (record), false (drop), nullopt (deferred to us).
    std::optional<bool> sampling_decision() const noexcept {
        if (sampling_deferred) return std::nullopt;
        return sampled();
    }
    /// Sets the sampled bit and `sampling_deferred` together; nullopt = deferred.
    void set_sampling_decision(std::optional<bool> decision) noexcept {
        sampling_deferred = !decision.has_value();
        trace_flags = static_cast<std::uint8_t>(
            decision.value_or(false) ? trace_flags | sampled_flag : trace_flags & ~sampled_flag);
    }

    /// Member-wise equality (round-trip tests compare whole contexts).
    friend bool operator==(const span_context&, const span_context&) = default;
};

}  // namespace tracegate::tracing
