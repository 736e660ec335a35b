// Zipkin B3 single header (https://github.com/openzipkin/b3-propagation#single-header),
// OpenTelemetry name "b3".
#pragma once

#include "tracing/propagator.hpp"

#include <string>

namespace tracegate::tracing {

/// `b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]` or `b3: {SamplingState}`.
///
///     80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90
///     TraceId (32 or 16 hex)           SpanId (16)      |  ParentSpanId (16)
///                                      SamplingState: 1 accept, 0 deny, d debug, absent defer
class b3_single_propagator final : public propagator {
public:
    /// "b3"
    static constexpr std::string_view b3_header = "b3";

    /// "b3"
    std::string_view name() const noexcept override { return "b3"; }
    /// A valid context, or a sampling-only one for `b3: 0` / `1` / `d`; nullopt otherwise.
    std::optional<span_context> extract(const carrier& headers) const override;
    /// Writes `b3`; a context without ids is written as its sampling state alone.
    void inject(const span_context& ctx, carrier& headers) const override;
    /// b3
    std::span<const std::string_view> fields() const noexcept override;

    /// Parses one `b3` value; nullopt when it breaks the format.
    static std::optional<span_context> parse(std::string_view value) noexcept;
    /// The `b3` value for `ctx`; empty when there is nothing to say (no ids, deferred).
    static std::string format(const span_context& ctx);
};

}  // namespace tracegate::tracing
