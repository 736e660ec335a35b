// W3C Trace Context Level 1 (https://www.w3.org/TR/trace-context/), OpenTelemetry name
// "tracecontext", with the Level 2 `random` flag kept.
#pragma once

#include "tracing/propagator.hpp"

namespace tracegate::tracing {

/// `traceparent: {version}-{trace-id}-{parent-id}-{trace-flags}` and `tracestate`.
///
///     00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
///     |  |                                |                |
///     0  3                               36               53  (55 characters for version 00)
class w3c_trace_context_propagator final : public propagator {
public:
    /// "traceparent"
    static constexpr std::string_view traceparent_header = "traceparent";
    /// "tracestate"
    static constexpr std::string_view tracestate_header = "tracestate";

    /// "tracecontext"
    std::string_view name() const noexcept override { return "tracecontext"; }
    /// A valid traceparent (and its tracestate when that is valid too); nullopt otherwise,
    /// which drops the tracestate with it (#tracestate-header: "If the vendor failed to parse
    /// traceparent, it MUST NOT attempt to parse tracestate").
    std::optional<span_context> extract(const carrier& headers) const override;
    /// Writes `traceparent` version 00 and `tracestate` when non-empty (removed otherwise).
    void inject(const span_context& ctx, carrier& headers) const override;
    /// traceparent, tracestate
    std::span<const std::string_view> fields() const noexcept override;

    /// Parses one traceparent value (the ids, flags, sampling; no tracestate); nullopt
    /// when it breaks any rule of #traceparent-header-field-values or
    /// #versioning-of-traceparent.
    static std::optional<span_context> parse_traceparent(std::string_view value) noexcept;
    /// The 55-character version-00 traceparent of a valid `ctx`.
    static std::string format_traceparent(const span_context& ctx);
};

}  // namespace tracegate::tracing
