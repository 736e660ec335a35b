// OTLP/HTTP request bodies (ExportTraceServiceRequest) in protobuf and in OTLP JSON.
// Protobuf is written by hand from the opentelemetry-proto field numbers: one
// ResourceSpans (the process resource), one ScopeSpans (scope "tracegate", its version),
// every span of the batch with its attributes, events, links and status.
#pragma once

#include "tracing/resource.hpp"
#include "tracing/span_data.hpp"

#include <span>
#include <string>

namespace tracegate::tracing {

/// Replaces `out` with the protobuf encoding (Content-Type application/x-protobuf).
void encode_otlp_protobuf(std::span<const span_data> spans, const resource& res, std::string& out);

/// Replaces `out` with the OTLP JSON encoding (Content-Type application/json): hex ids,
/// lowerCamelCase keys, integer enums, 64-bit integers as decimal strings.
void encode_otlp_json(std::span<const span_data> spans, const resource& res, std::string& out);

}  // namespace tracegate::tracing
