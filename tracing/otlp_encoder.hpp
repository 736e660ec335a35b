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
/// Default-valued fields are left out as protobuf does, except trace_id, span_id, name,
/// kind and both times, always written. Span.flags = W3C flags | 0x100 (is-remote known)
/// | 0x200 when the parent is remote; a link's flags say whether its context is remote.
/// Bytes that are not UTF-8 in strings are written as U+FFFD (collectors reject proto3
/// strings that are not UTF-8). An empty batch is an empty request (zero bytes). Sizes
/// every nested message once, then writes front to back into `out` sized exactly: one
/// allocation at most, none once `out` has grown to a batch's size.
void encode_otlp_protobuf(std::span<const span_data> spans, const resource& res, std::string& out);

/// Replaces `out` with the OTLP JSON encoding (Content-Type application/json): the proto3
/// JSON mapping with hex trace and span ids, lowerCamelCase keys, integer enums, 64-bit
/// integers (times, intValue) as decimal strings, default values left out. A NaN or
/// infinite doubleValue is the string "NaN", "Infinity" or "-Infinity" (proto3 JSON).
/// An empty batch is `{}`.
void encode_otlp_json(std::span<const span_data> spans, const resource& res, std::string& out);

}  // namespace tracegate::tracing
