// Zipkin v2 JSON (POST /api/v2/spans): an array of spans.
#pragma once

#include "tracing/resource.hpp"
#include "tracing/span_data.hpp"

#include <span>
#include <string>

namespace tracegate::tracing {

/// Replaces `out` with the Zipkin v2 JSON array for `spans`: 128-bit hex traceId, id,
/// parentId, name, kind SERVER/CLIENT, timestamp and duration in microseconds,
/// localEndpoint {serviceName}, remoteEndpoint from the peer attributes, tags as strings
/// (status error -> tag "error"), events as annotations.
void encode_zipkin_v2(std::span<const span_data> spans, const resource& res, std::string& out);

}  // namespace tracegate::tracing
