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
/// (stringValue as TruncatableString, intValue as string, boolValue), spanKind
/// SERVER/CLIENT, status {code (google.rpc.Code), message}, timeEvents annotations, links,
/// sameProcessAsParentSpan.
void encode_cloudtrace_v2(std::span<const span_data> spans, const resource& res,
                          std::string_view project_id, std::string& out);

}  // namespace tracegate::tracing
