// JSON lines: one JSON object per span per line (the `file` exporter's format).
#pragma once

#include "tracing/resource.hpp"
#include "tracing/span_data.hpp"

#include <span>
#include <string>
#include <string_view>

namespace tracegate::tracing {

/// Appends one line per span to `out`, each ending in '\n'. Fields: traceId, spanId,
/// parentSpanId (hex, "" for a root), name, kind ("SERVER"/"CLIENT"), startTimeUnixNano,
/// endTimeUnixNano, attributes {key: value}, events [{name, timeUnixNano}], links
/// [{traceId, spanId, attributes?}], status {code: "UNSET"|"OK"|"ERROR", message},
/// traceFlags, traceState, service (the resource's service.name). Every line is valid
/// JSON: a NaN or infinite double is the string "NaN", "Infinity" or "-Infinity", bytes
/// that are not UTF-8 are written as U+FFFD.
void encode_jsonl(std::span<const span_data> spans, const resource& res, std::string& out);

}  // namespace tracegate::tracing
