// Zipkin B3 multiple headers (https://github.com/openzipkin/b3-propagation#multiple-headers),
// OpenTelemetry name "b3multi".
#pragma once

#include "tracing/propagator.hpp"

namespace tracegate::tracing {

/// `X-B3-TraceId` (32 or 16 lower-hex), `X-B3-SpanId` (16), `X-B3-ParentSpanId` (16,
/// absent on a root), `X-B3-Sampled` (1 / 0; "true" / "false" from old clients),
/// `X-B3-Flags: 1` (debug, which implies accept).
class b3_multi_propagator final : public propagator {
public:
    /// "x-b3-traceid"
    static constexpr std::string_view trace_id_header = "x-b3-traceid";
    /// "x-b3-spanid"
    static constexpr std::string_view span_id_header = "x-b3-spanid";
    /// "x-b3-parentspanid"
    static constexpr std::string_view parent_span_id_header = "x-b3-parentspanid";
    /// "x-b3-sampled"
    static constexpr std::string_view sampled_header = "x-b3-sampled";
    /// "x-b3-flags"
    static constexpr std::string_view flags_header = "x-b3-flags";

    /// "b3multi"
    std::string_view name() const noexcept override { return "b3multi"; }
    /// A valid context; a sampling-only one when only X-B3-Sampled / X-B3-Flags came;
    /// nullopt when any present field is malformed or only one of the two ids came.
    std::optional<span_context> extract(const carrier& headers) const override;
    /// Writes the headers for `ctx`, removing those it leaves out (e.g. X-B3-Sampled
    /// when deferred or debug, X-B3-ParentSpanId on a root).
    void inject(const span_context& ctx, carrier& headers) const override;
    /// The five X-B3-* names.
    std::span<const std::string_view> fields() const noexcept override;
};

}  // namespace tracegate::tracing
