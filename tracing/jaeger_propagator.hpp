// Jaeger native propagation
// (https://www.jaegertracing.io/docs/1.x/client-libraries/#propagation-format), OpenTelemetry name
// "jaeger".
#pragma once

#include "tracing/propagator.hpp"

#include <string>

namespace tracegate::tracing {

/// `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`, also URL-encoded
/// (`%3A` for `:`). Ids are hex with leading zeros optional (trace up to 32 digits, span
/// up to 16); parent 0 means none; flags 0x01 sampled, 0x02 debug.
///
/// `uberctx-{key}` baggage headers are not among fields(): a proxy passes them through.
class jaeger_propagator final : public propagator {
public:
    /// "uber-trace-id"
    static constexpr std::string_view trace_header = "uber-trace-id";

    /// "jaeger"
    std::string_view name() const noexcept override { return "jaeger"; }
    /// A valid context; nullopt when the header is absent or malformed.
    std::optional<span_context> extract(const carrier& headers) const override;
    /// Writes `uber-trace-id` with zero-padded ids (16 trace digits for a 64-bit trace id).
    void inject(const span_context& ctx, carrier& headers) const override;
    /// uber-trace-id
    std::span<const std::string_view> fields() const noexcept override;

    /// Parses one `uber-trace-id` value; nullopt when malformed.
    static std::optional<span_context> parse(std::string_view value) noexcept;
    /// The `uber-trace-id` value for a valid `ctx`.
    static std::string format(const span_context& ctx);
};

}  // namespace tracegate::tracing
