// Head sampling (trace-id ratio, parent based, a rate cap on new roots) and the tail
// "keep" rules that still export the proxy's own span when head sampling said no.
#pragma once

#include "tracing/ids.hpp"
#include "tracing/span_context.hpp"
#include "tracing/span_data.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace tracegate::tracing {

/// Sampling settings (`tracing.sampling` in config).
struct sampler_options {
    /// TraceIdRatioBased probability for traces whose decision is ours, in [0, 1].
    double ratio = 1.0;
    /// Honour a decision that arrived with the request (OpenTelemetry ParentBased).
    bool parent_based = true;
    /// At most this many traces sampled per second by our own decision (new roots, and
    /// contexts that deferred the decision to us); none = no cap, <= 0 = none at all.
    std::optional<double> max_per_second;
    /// Export the proxy's span even when not sampled if it ended with status ERROR.
    bool keep_errors = true;
    /// Export the proxy's span even when not sampled if it lasted longer; 0 = off.
    std::chrono::milliseconds keep_slower_than{0};
};

/// The head decision for one span.
struct sampling_decision {
    /// Sampled flag to propagate; the span is exported.
    bool sampled = false;
    /// The span records data: true when sampled, or when a keep rule may still export it.
    bool record = false;
};

/// The sampler. Thread-safe: the only mutable state is the atomic rate limiter.
class sampler {
public:
    /// 2^56: W3C Trace Context Level 2 guarantees the right-most 7 bytes (56 bits) of a
    /// random trace id are random (https://www.w3.org/TR/trace-context-2/#randomness-of-trace-id).
    static constexpr std::uint64_t max_adjusted_count = std::uint64_t{1} << 56;

    /// A sampler with `options`; ratio is clamped to [0, 1] (NaN counts as 0).
    explicit sampler(const sampler_options& options);

    /// The head decision for a span in `trace`. `parent` is the extracted context (or a
    /// sampling-only one, b3 `0`); with parent_based, its decision is honoured when it
    /// carries one. Otherwise the trace-id ratio decides and max_per_second caps the yes.
    sampling_decision decide(const std::optional<span_context>& parent, const trace_id& trace) noexcept;
    /// decide() at a given monotonic time (tests drive the rate limiter with it).
    sampling_decision decide_at(const std::optional<span_context>& parent, const trace_id& trace,
                                std::chrono::steady_clock::time_point now) noexcept;

    /// True when a keep rule exports a recorded but unsampled span with this outcome.
    bool keeps(status_code status, std::chrono::nanoseconds duration) const noexcept;
    /// True when any keep rule is on (unsampled spans must then record).
    bool any_keep_rule() const noexcept { return options_.keep_errors || options_.keep_slower_than.count() > 0; }

    /// The options in force (ratio clamped).
    const sampler_options& options() const noexcept { return options_; }
    /// How many sampled decisions max_per_second turned into "not sampled".
    std::uint64_t rate_limited() const noexcept { return rate_limited_.load(std::memory_order_relaxed); }

    /// OpenTelemetry TraceIdRatioBased rejection threshold T for `ratio`:
    /// `2^56 - round(ratio * 2^56)`; a trace is sampled iff its randomness R >= T.
    static std::uint64_t rejection_threshold(double ratio) noexcept;
    /// The randomness R of `trace`: its least-significant 56 bits (bytes 9..15, big-endian).
    static std::uint64_t randomness(const trace_id& trace) noexcept { return trace.low() & (max_adjusted_count - 1); }
    /// TraceIdRatioBased: R(trace) >= rejection_threshold(ratio).
    static bool ratio_samples(double ratio, const trace_id& trace) noexcept {
        return randomness(trace) >= rejection_threshold(ratio);
    }

private:
    bool take_token(std::chrono::steady_clock::time_point now) noexcept;

    sampler_options options_;
    std::uint64_t threshold_;
    // Rate cap as GCRA (a token bucket in one atomic): the theoretical arrival time of
    // the next token, in steady-clock nanoseconds. Burst = one second of tokens (>= 1).
    bool capped_ = false;
    std::int64_t emission_interval_ns_ = 0;
    std::int64_t burst_tolerance_ns_ = 0;
    std::atomic<std::int64_t> next_token_ns_{0};
    std::atomic<std::uint64_t> rate_limited_{0};
};

}  // namespace tracegate::tracing
