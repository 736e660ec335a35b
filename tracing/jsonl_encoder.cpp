#include "tracing/jsonl_encoder.hpp"

#include "tracing/encode_util.hpp"

#include <cstdint>
#include <type_traits>

// The fields, their order and their JSON types are those of the span file README.md
// documents. Written by hand rather than through boost::json: doubles are in their shortest
// form with a ".0" when integral (0.25, 3.0), NaN and infinities are the strings "NaN",
// "Infinity", "-Infinity" (a bare NaN is not JSON), and bytes that are not UTF-8 are
// written as U+FFFD so every line stays valid JSON.

namespace tracegate::tracing {
namespace {

void append_value(detail::json_writer& w, const attribute_value& value) {
    std::visit(
        [&w](const auto& v) {
            using type = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<type, std::string>)
                w.string(v);
            else if constexpr (std::is_same_v<type, bool>)
                w.raw(v ? "true" : "false");
            else if constexpr (std::is_same_v<type, std::int64_t>)
                w.decimal(v);
            else
                w.json_double(v);
        },
        value);
}

/// `{"key":value,...}`
void append_attributes(detail::json_writer& w, const std::vector<attribute>& attributes) {
    w.raw('{');
    bool first = true;
    for (const auto& a : attributes) {
        if (!first) w.raw(',');
        first = false;
        w.string(a.key);
        w.raw(':');
        append_value(w, a.value);
    }
    w.raw('}');
}

void append_line(detail::json_writer& w, const span_data& s, std::string_view service_name) {
    w.raw("{\"traceId\":\"");
    w.hex(s.trace_id);
    w.raw("\",\"spanId\":\"");
    w.hex(s.span_id);
    w.raw("\",\"parentSpanId\":\"");
    if (s.parent_span_id) w.hex(*s.parent_span_id);
    w.raw("\",\"name\":");
    w.string(s.name);
    w.raw(",\"kind\":\"");
    w.raw(kind_name(s.kind));
    w.raw("\",\"startTimeUnixNano\":");
    w.decimal(s.start_time_unix_nano);
    w.raw(",\"endTimeUnixNano\":");
    w.decimal(s.end_time_unix_nano);
    w.raw(",\"attributes\":");
    append_attributes(w, s.attributes);
    w.raw(",\"events\":[");
    bool first = true;
    for (const auto& e : s.events) {
        if (!first) w.raw(',');
        first = false;
        w.raw("{\"name\":");
        w.string(e.name);
        w.raw(",\"timeUnixNano\":");
        w.decimal(e.time_unix_nano);
        w.raw('}');
    }
    w.raw("],\"links\":[");
    first = true;
    for (const auto& l : s.links) {
        if (!first) w.raw(',');
        first = false;
        w.raw("{\"traceId\":\"");
        w.hex(l.context.trace_id);
        w.raw("\",\"spanId\":\"");
        w.hex(l.context.span_id);
        w.raw('"');
        if (!l.attributes.empty()) {
            w.raw(",\"attributes\":");
            append_attributes(w, l.attributes);
        }
        w.raw('}');
    }
    w.raw("],\"status\":{\"code\":\"");
    w.raw(status_name(s.status));
    w.raw("\",\"message\":");
    w.string(s.status_message);
    w.raw("},\"traceFlags\":");
    w.decimal(unsigned{s.trace_flags});
    w.raw(",\"traceState\":");
    w.string(s.tracestate);
    w.raw(",\"service\":");
    w.string(service_name);
    w.raw("}\n");
}


}  // namespace

void encode_jsonl(std::span<const span_data> spans, const resource& res, std::string& out) {
    const std::string_view service_name = res.service_name();
    detail::json_writer w(out);
    w.reserve(detail::estimate_size(spans, {.per_span = 320 + service_name.size(), .per_attribute = 24,
                                           .per_event = 48, .per_link = 96, .per_link_attribute = 64}));
    for (const auto& s : spans) append_line(w, s, service_name);
    w.finish();
}

}  // namespace tracegate::tracing
