// One trace-context wire format behind a small interface, working on a header carrier.
// Shape after opentelemetry-cpp's TextMapPropagator; formats are stateless.
#pragma once

#include "tracing/carrier.hpp"
#include "tracing/span_context.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace tracegate::tracing {

/// Reads and writes one propagation format. Implementations are stateless and thread-safe.
class propagator {
public:
    virtual ~propagator() = default;

    /// The OpenTelemetry name of the format: "tracecontext", "b3", "b3multi", "jaeger",
    /// "xray", or "cloudtrace".
    virtual std::string_view name() const noexcept = 0;

    /// The context carried by `headers`, with `is_remote` set. Either valid (both ids) or,
    /// for the b3 formats only, a context without ids carrying just a sampling decision.
    /// nullopt when the format is absent or malformed: bad input never throws.
    virtual std::optional<span_context> extract(const carrier& headers) const = 0;

    /// Writes `ctx` into `headers`, replacing this format's headers and removing the
    /// optional ones it does not write. Writes nothing for a context it cannot express
    /// (no ids; b3 formats still send a sampling-only decision).
    virtual void inject(const span_context& ctx, carrier& headers) const = 0;

    /// Every header name this format owns (lowercase), so a proxy can remove them all.
    virtual std::span<const std::string_view> fields() const noexcept = 0;
};

}  // namespace tracegate::tracing
