// Google Cloud Trace's legacy header
// (https://cloud.google.com/trace/docs/trace-context#legacy-http-header), named "cloudtrace" here
// (OpenTelemetry's Google propagator package calls it so too).
#pragma once

#include "tracing/propagator.hpp"

#include <string>

namespace tracegate::tracing {

/// `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS`
///
///     105445aa7843bc8bf206b12000100000/1;o=1
///     TRACE_ID: 32 lowercase hex       SPAN_ID: decimal unsigned 64-bit (not 0)
///                                        ;o=1 sampled, ;o=0 not, absent: no decision
class google_cloud_trace_propagator final : public propagator {
public:
    /// "x-cloud-trace-context"
    static constexpr std::string_view trace_header = "x-cloud-trace-context";

    /// "cloudtrace"
    std::string_view name() const noexcept override { return "cloudtrace"; }
    /// A valid context; nullopt when the header is absent or malformed.
    std::optional<span_context> extract(const carrier& headers) const override;
    /// Writes the header with a decimal span id; `;o=` only when there is a decision.
    void inject(const span_context& ctx, carrier& headers) const override;
    /// x-cloud-trace-context
    std::span<const std::string_view> fields() const noexcept override;

    /// Parses one header value; nullopt when malformed.
    static std::optional<span_context> parse(std::string_view value) noexcept;
    /// The header value for a valid `ctx`.
    static std::string format(const span_context& ctx);
};

}  // namespace tracegate::tracing
