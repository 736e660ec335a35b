#include "tracing/cloudtrace_encoder.hpp"

#include "tracing/encode_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

// Field names and limits from google/devtools/cloudtrace/v2/trace.proto, written in the
// proto3 JSON mapping the REST API takes (lowerCamelCase, int64 as decimal strings,
// enums by name, Timestamp as RFC 3339, BoolValue as a bare boolean).

namespace tracegate::tracing {
namespace {

/// Span.attributes: "You can have up to 32 attributes per span" (also per link).
constexpr std::size_t max_attributes = 32;
/// Attributes.attribute_map: "Each attribute's key can be up to 128 bytes long".
constexpr std::size_t max_attribute_key_bytes = 128;
/// AttributeValue.string_value: "A string up to 256 bytes long".
constexpr std::size_t max_string_value_bytes = 256;
/// Span.display_name: "up to 128 bytes".
constexpr std::size_t max_display_name_bytes = 128;
/// Annotation.description: "The maximum length for the description is 256 bytes".
constexpr std::size_t max_annotation_bytes = 256;
/// Span.time_events: "up to 32 annotations ... per span".
constexpr std::size_t max_annotations = 32;
/// Span.links: "up to 128 links per Span".
constexpr std::size_t max_links = 128;

/// google.rpc.Code: OK = 0, UNKNOWN = 2 (the code of an error with no better code).
constexpr int rpc_code_ok = 0;
constexpr int rpc_code_unknown = 2;

/// Resource attribute copied onto every span, the first in its map.
constexpr std::string_view service_name_key = "service.name";
/// The agent label Google's own exporters set ("g.co/agent"), added when there is room.
constexpr std::string_view agent_key = "g.co/agent";

/// TruncatableString: `{"value": ..., "truncatedByteCount": n}`, cut to `limit` bytes on a
/// UTF-8 character boundary; the count (bytes of the original left out) only when > 0.
void append_truncatable(detail::json_writer& w, std::string_view s, std::size_t limit) {
    const auto prefix = detail::utf8_prefix_within(s, limit);
    w.raw("{\"value\":\"");
    w.escaped(s.substr(0, prefix.input_size));
    w.raw('"');
    if (prefix.input_size < s.size()) {
        w.raw(",\"truncatedByteCount\":");
        w.decimal(s.size() - prefix.input_size);
    }
    w.raw('}');
}

/// One `"key":{AttributeValue}` entry. A double has no AttributeValue member, so it goes
/// as a stringValue in its shortest round-trip form ("NaN", "Infinity", "-Infinity").
void append_attribute(detail::json_writer& w, std::string_view key, const attribute_value& value) {
    w.string(key);
    w.raw(':');
    std::visit(
        [&w](const auto& v) {
            using type = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<type, std::string>) {
                w.raw("{\"stringValue\":");
                append_truncatable(w, v, max_string_value_bytes);
            } else if constexpr (std::is_same_v<type, bool>) {
                w.raw(v ? "{\"boolValue\":true" : "{\"boolValue\":false");
            } else if constexpr (std::is_same_v<type, std::int64_t>) {
                w.raw("{\"intValue\":");
                w.quoted_decimal(v);
            } else {
                w.raw("{\"stringValue\":{\"value\":\"");
                if (std::isfinite(v))
                    w.shortest(v);
                else
                    w.raw(detail::non_finite_name(v));
                w.raw("\"}");
            }
        },
        value);
    w.raw('}');
}

/// Appends `"attributes":{"attributeMap":{...},"droppedAttributesCount":n}`: at most
/// max_attributes entries; keys over max_attribute_key_bytes, entries past the limit and
/// the keys the encoder sets itself are dropped and counted, with `already_dropped`.
/// For a span (`res` set) the map starts with the resource's service.name and ends with
/// the agent label when there is room for it (neither is counted when left out).
void append_attributes(detail::json_writer& w, const std::vector<attribute>& attributes,
                       std::uint32_t already_dropped, const resource* res) {
    w.raw("\"attributes\":{\"attributeMap\":{");
    std::size_t written = 0;
    std::uint64_t dropped = already_dropped;
    const auto separator = [&] {
        if (written++ != 0) w.raw(',');
    };
    if (res != nullptr) {
        separator();
        w.string(service_name_key);
        w.raw(":{\"stringValue\":");
        append_truncatable(w, res->service_name(), max_string_value_bytes);
        w.raw('}');
    }
    for (const auto& a : attributes) {
        const bool reserved = res != nullptr && (a.key == service_name_key || a.key == agent_key);
        if (reserved || a.key.size() > max_attribute_key_bytes || written == max_attributes) {
            ++dropped;
            continue;
        }
        separator();
        append_attribute(w, a.key, a.value);
    }
    if (res != nullptr && written < max_attributes) {
        separator();
        w.string(agent_key);
        w.raw(":{\"stringValue\":{\"value\":\"tracegate ");
        w.escaped(tracegate_version());
        w.raw("\"}}");
    }
    w.raw('}');
    if (dropped != 0) {
        w.raw(",\"droppedAttributesCount\":");
        w.decimal(dropped);
    }
    w.raw('}');
}

void append_span(detail::json_writer& w, const span_data& s, const resource& res, std::string_view project_id) {
    w.raw("{\"name\":\"projects/");
    w.escaped(project_id);
    w.raw("/traces/");
    w.hex(s.trace_id);
    w.raw("/spans/");
    w.hex(s.span_id);
    w.raw("\",\"spanId\":\"");
    w.hex(s.span_id);
    w.raw('"');
    if (s.parent_span_id) {
        w.raw(",\"parentSpanId\":\"");
        w.hex(*s.parent_span_id);
        w.raw('"');
    }
    w.raw(",\"displayName\":");
    append_truncatable(w, s.name, max_display_name_bytes);
    w.raw(",\"startTime\":\"");
    w.rfc3339(s.start_time_unix_nano);
    w.raw("\",\"endTime\":\"");
    w.rfc3339(s.end_time_unix_nano);
    w.raw("\",");
    append_attributes(w, s.attributes, s.dropped_attributes_count, &res);

    if (!s.events.empty() || s.dropped_events_count != 0) {
        w.raw(",\"timeEvents\":{\"timeEvent\":[");
        const std::size_t kept = std::min(s.events.size(), max_annotations);
        for (std::size_t i = 0; i < kept; ++i) {
            if (i != 0) w.raw(',');
            w.raw("{\"time\":\"");
            w.rfc3339(s.events[i].time_unix_nano);
            w.raw("\",\"annotation\":{\"description\":");
            append_truncatable(w, s.events[i].name, max_annotation_bytes);
            w.raw("}}");
        }
        w.raw(']');
        if (const std::uint64_t dropped = s.events.size() - kept + s.dropped_events_count; dropped != 0) {
            w.raw(",\"droppedAnnotationsCount\":");
            w.decimal(dropped);
        }
        w.raw('}');
    }

    if (!s.links.empty() || s.dropped_links_count != 0) {
        w.raw(",\"links\":{\"link\":[");
        const std::size_t kept = std::min(s.links.size(), max_links);
        for (std::size_t i = 0; i < kept; ++i) {
            const auto& l = s.links[i];
            if (i != 0) w.raw(',');
            w.raw("{\"traceId\":\"");
            w.hex(l.context.trace_id);
            w.raw("\",\"spanId\":\"");
            w.hex(l.context.span_id);
            w.raw("\",\"type\":\"TYPE_UNSPECIFIED\"");
            if (!l.attributes.empty()) {
                w.raw(',');
                append_attributes(w, l.attributes, 0, nullptr);
            }
            w.raw('}');
        }
        w.raw(']');
        if (const std::uint64_t dropped = s.links.size() - kept + s.dropped_links_count; dropped != 0) {
            w.raw(",\"droppedLinksCount\":");
            w.decimal(dropped);
        }
        w.raw('}');
    }

    w.raw(",\"status\":{\"code\":");
    w.decimal(s.status == status_code::error ? rpc_code_unknown : rpc_code_ok);
    if (!s.status_message.empty()) {
        w.raw(",\"message\":");
        w.string(s.status_message);
    }
    w.raw('}');
    if (s.parent_span_id) w.raw(s.parent_is_remote ? ",\"sameProcessAsParentSpan\":false" : ",\"sameProcessAsParentSpan\":true");
    w.raw(",\"spanKind\":\"");
    w.raw(kind_name(s.kind));
    w.raw("\"}");
}


}  // namespace

void encode_cloudtrace_v2(std::span<const span_data> spans, const resource& res,
                          std::string_view project_id, std::string& out) {
    out.clear();
    detail::json_writer w(out);
    w.reserve(16 + detail::estimate_size(spans, {.per_span = 512 + project_id.size(), .per_attribute = 48,
                                                .per_event = 96, .per_link = 128, .per_link_attribute = 80}));
    w.raw("{\"spans\":[");
    bool first = true;
    for (const auto& s : spans) {
        if (!first) w.raw(',');
        first = false;
        append_span(w, s, res, project_id);
    }
    w.raw("]}");
    w.finish();
}

}  // namespace tracegate::tracing
