// Where finished spans go: the seam between the tracer (request path) and export.
#pragma once

#include "tracing/span_data.hpp"

namespace tracegate::tracing {

/// Receives finished spans. Called from every worker thread on the request path, so
/// implementations must be thread-safe and must never block: enqueue, or drop and count.
class span_sink {
public:
    virtual ~span_sink() = default;
    /// Takes a finished span. Never blocks and never throws.
    virtual void submit(span_data&& span) noexcept = 0;
};

}  // namespace tracegate::tracing
