// OTLP/HTTP request bodies (ExportTraceServiceRequest) read back into span records: the
// receiving side of tracing/otlp_encoder.hpp, for the admin server's POST /v1/traces.
//
// Both decoders are strict about what they use and lenient about what they do not: an
// unknown field is skipped (protobuf wire types 0, 1, 2 and 5; JSON members), a field
// tracegate reads must have its type and size, and the first problem ends the decode with
// an otlp_decode_error naming where it is and what is wrong. Neither reads outside `body`
// nor recurses without bound, whatever the input.
#pragma once

#include "tracing/span_data.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracegate::tracing {

/// A request body that is not a well-formed ExportTraceServiceRequest, or one over a limit.
/// what() says where and why, e.g. `resource_spans[0]: field 2 of ResourceSpans: length
/// 900 past the end of the message (12 bytes left)` or
/// `resourceSpans[0].scopeSpans[0].spans[3].traceId: must be 32 hex digits, got "abc"`.
class otlp_decode_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Most spans one request may hold by default: a collector's default batch is 8192, so
/// this is generous, and bounds the memory of a decode to some tens of megabytes.
inline constexpr std::size_t otlp_default_max_spans = 65'536;

/// Deepest nesting of AnyValue arrays and key-value lists inside one attribute value
/// (a scalar is depth 1); deeper is an error rather than a deep recursion.
inline constexpr std::size_t otlp_max_value_depth = 32;

/// The service.name a resource without one (or with a non-string or empty one) gets, as
/// the OpenTelemetry SDK specification names it.
inline constexpr std::string_view otlp_unknown_service = "unknown_service";

/// The spans of one request, grouped by the `service.name` of their resource.
struct decoded_spans {
    /// (service name, its spans in request order), one entry per distinct name in order of
    /// first appearance: two ResourceSpans of the same service share an entry.
    std::vector<std::pair<std::string, std::vector<span_data>>> by_service;

    /// Spans over all services.
    std::size_t span_count() const noexcept;
};

/// Decodes a protobuf ExportTraceServiceRequest (Content-Type application/x-protobuf).
///
/// Every span_data field is filled: ids (trace_id 16 bytes and span_id 8 bytes, not all
/// zero; parent_span_id 8 bytes, or empty / all zero for a root), trace_flags (Span.flags
/// bits 0-7 masked to sampled|random), parent_is_remote (flags bits 8 and 9 both set, with a
/// parent), tracestate, name, kind (SPAN_KIND_UNSPECIFIED and unknown numbers read as
/// internal), times (an end before the start is moved to the start: a span_data never has a
/// negative duration), attributes, events (name and time; their attributes are dropped),
/// links (ids, tracestate, flags, attributes), status (unknown codes read as unset) and
/// the dropped counts (clamped to 32 bits).
///
/// Attribute values: string, int, double and bool are kept as such; an array or key-value
/// list becomes its JSON text (`["a",1,true]`, `{"k":"v"}`, nested values the same way,
/// bytes inside them as a base64 string, a missing value as null); bytes become their
/// base64 text; an attribute without a value is left out. A key repeated in one list keeps
/// its first position and its last value. Strings are taken as bytes, not checked for UTF-8
/// (every encoder repairs UTF-8 on output).
///
/// Throws otlp_decode_error when the body is malformed (a truncated or over-long varint or
/// fixed field, a length past the end of its message, field number 0, a group (wire type
/// 3/4) or an invalid wire type, a known field with the wrong wire type or size), when a
/// value nests deeper than otlp_max_value_depth, or when the request holds more than
/// `max_spans` spans. An empty body is an empty request.
decoded_spans decode_otlp_protobuf(std::string_view body, std::size_t max_spans = otlp_default_max_spans);

/// Decodes an OTLP JSON ExportTraceServiceRequest (Content-Type application/json), the
/// proto3 JSON mapping of https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding:
/// member names in lowerCamelCase or as the proto field names (snake_case); trace and span
/// ids as hex (either letter case; base64 is rejected, as OTLP specifies hex); 64-bit
/// integers as numbers or decimal strings; enums as integers or their names
/// (`SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`); doubles as numbers or "NaN", "Infinity",
/// "-Infinity"; bytesValue as base64 (standard or URL-safe); null as an absent member.
/// The result is what decode_otlp_protobuf() makes of the same request, field for field.
///
/// Throws otlp_decode_error for text that is not JSON, a member of the wrong type, an id
/// of the wrong length or with a non-hex digit, an unknown enum name, a number out of its
/// field's range, nesting deeper than otlp_max_value_depth, or more than `max_spans` spans.
/// An empty object is an empty request.
decoded_spans decode_otlp_json(std::string_view body, std::size_t max_spans = otlp_default_max_spans);

}  // namespace tracegate::tracing
