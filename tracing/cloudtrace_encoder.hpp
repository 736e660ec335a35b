// Google Cloud Trace API v2: the body of POST
// https://cloudtrace.googleapis.com/v2/projects/{project}/traces:batchWrite.
#pragma once

#include "tracing/resource.hpp"
#include "tracing/span_data.hpp"

#include <span>
#include <string>
#include <string_view>

namespace tracegate::tracing {

/// Replaces `out` with `{"spans":[...]}` for `project_id`: name
/// projects/P/traces/T/spans/S, spanId, parentSpanId, displayName {value, truncatedByteCount},
/// RFC 3339 startTime/endTime with nanoseconds, attributes {attributeMap, droppedAttributesCount}
/// (stringValue as TruncatableString, intValue as string, boolValue, a double as its
/// shortest text in stringValue), spanKind SERVER/CLIENT, status {code (google.rpc.Code:
/// 0, or 2 UNKNOWN for an error), message}, timeEvents annotations, links,
/// sameProcessAsParentSpan (false for a remote parent; absent for a root).
///
/// Cloud Trace's limits (trace.proto) are kept, so a span is never rejected: 32
/// attributes per span and per link (service.name first, the agent label "g.co/agent" last
/// when there is room; the rest counted in droppedAttributesCount), keys up to 128 bytes
/// (longer ones dropped and counted), string values up to 256 bytes, displayName up to
/// 128, annotation descriptions up to 256 (cut on a UTF-8 boundary, truncatedByteCount
/// set), 32 annotations and 128 links (the rest counted).
void encode_cloudtrace_v2(std::span<const span_data> spans, const resource& res,
                          std::string_view project_id, std::string& out);

}  // namespace tracegate::tracing
