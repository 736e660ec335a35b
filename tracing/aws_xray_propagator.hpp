// AWS X-Ray tracing header
// (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader),
// OpenTelemetry name "xray".
#pragma once

#include "tracing/propagator.hpp"

#include <string>

namespace tracegate::tracing {

/// `X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`
///
/// Root is version `1`, 8 hex digits of epoch seconds and 24 hex digits unique; together
/// (32 digits) they are the 128-bit trace id. Fields come in any order; others (Self=,
/// Lineage=, custom ones) are ignored. Sampled is 1, 0, or `?` / absent (no decision).
class aws_xray_propagator final : public propagator {
public:
    /// "x-amzn-trace-id"
    static constexpr std::string_view trace_header = "x-amzn-trace-id";

    /// "xray"
    std::string_view name() const noexcept override { return "xray"; }
    /// A valid context (Root and Parent both present); nullopt otherwise.
    std::optional<span_context> extract(const carrier& headers) const override;
    /// Writes Root, Parent and, unless deferred, Sampled.
    void inject(const span_context& ctx, carrier& headers) const override;
    /// x-amzn-trace-id
    std::span<const std::string_view> fields() const noexcept override;

    /// Parses one header value; nullopt when malformed or Root / Parent is missing.
    static std::optional<span_context> parse(std::string_view value) noexcept;
    /// The header value for a valid `ctx`.
    static std::string format(const span_context& ctx);
};

}  // namespace tracegate::tracing
