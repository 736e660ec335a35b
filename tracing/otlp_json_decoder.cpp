// decode_otlp_json: OTLP JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding),
// the proto3 JSON mapping (https://protobuf.dev/programming-guides/json/) with hex ids.
// Parsed into a Boost.JSON document first (bounded depth), then walked.
#include "tracing/otlp_decode_common.hpp"
#include "tracing/encode_util.hpp"
#include "tracing/parse_util.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace tracegate::tracing {
namespace {

namespace json = boost::json;
using detail::fail;
using detail::where;

/// Deepest JSON nesting accepted by the parser: the request's own structure (about a dozen
/// levels down to a span attribute's value) plus three per nested AnyValue level
/// (`{"arrayValue":{"values":[...]}}`), so otlp_max_value_depth is reached first and
/// reported with its path.
constexpr std::size_t max_json_depth = 16 + 3 * (otlp_max_value_depth + 1);

/// A member by its lowerCamelCase name or its proto field name (the proto3 JSON mapping
/// accepts both); nullptr when absent or null (null means "default value").
const json::value* member(const json::object& o, std::string_view camel, std::string_view snake = {}) {
    const json::value* v = o.if_contains(camel);
    if (v == nullptr && !snake.empty()) v = o.if_contains(snake);
    return v == nullptr || v->is_null() ? nullptr : v;
}

/// A short quotation of a JSON value for an error message.
std::string quote(const json::value& v) {
    std::string text = json::serialize(v);
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
}

const json::object& as_object(const json::value& v, const where& at) {
    if (!v.is_object()) fail(at, "expected an object, got " + quote(v));
    return v.get_object();
}

const json::array& as_array(const json::value& v, const where& at) {
    if (!v.is_array()) fail(at, "expected an array, got " + quote(v));
    return v.get_array();
}

std::string_view as_string(const json::value& v, const where& at) {
    if (!v.is_string()) fail(at, "expected a string, got " + quote(v));
    return v.get_string();
}

/// An integral double within [low, high], as a 64-bit integer.
template <typename Integer>
std::optional<Integer> integral(double d) {
    if (!std::isfinite(d) || d != std::trunc(d)) return std::nullopt;
    // 2^63 and 2^64 are exact doubles: compare against them, not against max().
    constexpr double high = std::is_signed_v<Integer> ? 9223372036854775808.0 : 18446744073709551616.0;
    constexpr double low = std::is_signed_v<Integer> ? -9223372036854775808.0 : 0.0;
    if (d < low || d >= high) return std::nullopt;
    return static_cast<Integer>(d);
}

/// A decimal string of the whole `text` as Integer.
template <typename Integer>
std::optional<Integer> from_decimal(std::string_view text) {
    Integer value{};
    if (text.empty() || text.front() == '+') return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

/// proto3 JSON (u)int64: a number or a decimal string.
template <typename Integer>
Integer integer(const json::value& v, const where& at) {
    std::optional<Integer> out;
    if (v.is_int64()) {
        const std::int64_t n = v.get_int64();
        if (std::is_signed_v<Integer> || n >= 0) out = static_cast<Integer>(n);
    } else if (v.is_uint64()) {
        const std::uint64_t n = v.get_uint64();
        if (n <= static_cast<std::uint64_t>(std::numeric_limits<Integer>::max())) out = static_cast<Integer>(n);
    } else if (v.is_double()) {
        out = integral<Integer>(v.get_double());
    } else if (v.is_string()) {
        out = from_decimal<Integer>(v.get_string());
    }
    if (!out)
        fail(at, std::string(std::is_signed_v<Integer> ? "expected an int64" : "expected a uint64") +
                     " (a number or a decimal string), got " + quote(v));
    return *out;
}

/// proto3 JSON uint32 (counts, flags).
std::uint32_t uint32(const json::value& v, const where& at) {
    const std::uint64_t n = integer<std::uint64_t>(v, at);
    if (n > std::numeric_limits<std::uint32_t>::max()) fail(at, "out of range for a uint32: " + quote(v));
    return static_cast<std::uint32_t>(n);
}

/// proto3 JSON double: a number, "NaN", "Infinity", "-Infinity" or a numeric string.
double float64(const json::value& v, const where& at) {
    if (v.is_number()) return v.to_number<double>();
    if (v.is_string()) {
        const std::string_view text = v.get_string();
        if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
        if (text == "Infinity") return std::numeric_limits<double>::infinity();
        if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
        double d = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (!text.empty() && ec == std::errc{} && end == text.data() + text.size()) return d;
    }
    fail(at, "expected a double, got " + quote(v));
}

/// A proto3 JSON enum: its integer or one of `names` (names[i] has number i).
std::int64_t enumeration(const json::value& v, const where& at, std::initializer_list<std::string_view> names) {
    if (v.is_string()) {
        std::int64_t number = 0;
        for (const std::string_view name : names) {
            if (v.get_string() == name) return number;
            ++number;
        }
        fail(at, "unknown enum value " + quote(v));
    }
    if (v.is_number()) {
        const auto n = integer<std::int64_t>(v, at);
        if (n < std::numeric_limits<std::int32_t>::min() || n > std::numeric_limits<std::int32_t>::max())
            fail(at, "out of range for an enum: " + quote(v));
        return n;
    }
    fail(at, "expected an enum name or number, got " + quote(v));
}

/// A hex id of exactly N bytes (2N digits, either case).
template <std::size_t N>
std::array<std::uint8_t, N> hex_id(const json::value& v, const where& at) {
    const std::string_view text = as_string(v, at);
    std::array<std::uint8_t, N> bytes{};
    if (!detail::decode_hex(text, bytes, detail::hex_case::any))
        fail(at, "must be " + std::to_string(2 * N) + " hex digits, got " + quote(v));
    return bytes;
}

// ---- AnyValue ---------------------------------------------------------------------------

/// The member of an AnyValue object that is set, by its kind; none when it is empty.
enum class any_kind { none, string, boolean, integer, float64, array, kvlist, bytes };

struct any_member {
    any_kind kind = any_kind::none;
    const json::value* value = nullptr;
    std::string_view name;
};

any_member any_value_member(const json::object& o) {
    static constexpr struct {
        any_kind kind;
        std::string_view camel, snake;
    } members[] = {
        {any_kind::string, "stringValue", "string_value"}, {any_kind::boolean, "boolValue", "bool_value"},
        {any_kind::integer, "intValue", "int_value"},      {any_kind::float64, "doubleValue", "double_value"},
        {any_kind::array, "arrayValue", "array_value"},    {any_kind::kvlist, "kvlistValue", "kvlist_value"},
        {any_kind::bytes, "bytesValue", "bytes_value"},
    };
    for (const auto& m : members)
        if (const json::value* v = member(o, m.camel, m.snake)) return {m.kind, v, m.camel};
    return {};
}

std::string base64_of(const json::value& v, const where& at) {
    std::string bytes;
    if (!detail::decode_base64(as_string(v, at), bytes)) fail(at, "bytesValue is not base64: " + quote(v));
    std::string text;
    detail::append_base64(bytes, text);
    return text;
}

void check_depth(std::size_t depth, const where& at) {
    if (depth > otlp_max_value_depth)
        fail(at, "values nested deeper than " + std::to_string(otlp_max_value_depth) + " levels");
}

void render_any_value(detail::json_writer& w, const json::value& any, std::size_t depth, const where& at);

/// The `values` array of an ArrayValue or KeyValueList object.
const json::array* values_of(const json::value& v, const where& at) {
    const json::value* values = member(as_object(v, at), "values");
    return values == nullptr ? nullptr : &as_array(*values, at);
}

void render_member(detail::json_writer& w, const any_member& m, std::size_t depth, const where& at) {
    const where value_at{&at, m.name};
    switch (m.kind) {
        case any_kind::none: w.raw("null"); break;
        case any_kind::string: w.string(as_string(*m.value, value_at)); break;
        case any_kind::boolean:
            if (!m.value->is_bool()) fail(value_at, "expected true or false, got " + quote(*m.value));
            w.raw(m.value->get_bool() ? "true" : "false");
            break;
        case any_kind::integer: w.decimal(integer<std::int64_t>(*m.value, value_at)); break;
        case any_kind::float64: w.json_double(float64(*m.value, value_at)); break;
        case any_kind::bytes: w.string(base64_of(*m.value, value_at)); break;
        case any_kind::array: {
            check_depth(depth + 1, value_at);
            w.raw('[');
            if (const json::array* values = values_of(*m.value, value_at)) {
                for (std::size_t i = 0; i < values->size(); ++i) {
                    if (i != 0) w.raw(',');
                    render_any_value(w, (*values)[i], depth + 1, where{&value_at, "values", i});
                }
            }
            w.raw(']');
            break;
        }
        case any_kind::kvlist: {
            check_depth(depth + 1, value_at);
            w.raw('{');
            if (const json::array* values = values_of(*m.value, value_at)) {
                for (std::size_t i = 0; i < values->size(); ++i) {
                    const where kv_at{&value_at, "values", i};
                    const json::object& kv = as_object((*values)[i], kv_at);
                    if (i != 0) w.raw(',');
                    const json::value* key = member(kv, "key");
                    w.string(key == nullptr ? std::string_view{} : as_string(*key, where{&kv_at, "key"}));
                    w.raw(':');
                    if (const json::value* value = member(kv, "value"))
                        render_any_value(w, *value, depth + 1, where{&kv_at, "value"});
                    else
                        w.raw("null");
                }
            }
            w.raw('}');
            break;
        }
    }
}

void render_any_value(detail::json_writer& w, const json::value& any, std::size_t depth, const where& at) {
    render_member(w, any_value_member(as_object(any, at)), depth, at);
}

/// An attribute's value; nullopt when the AnyValue has no member set.
std::optional<attribute_value> attribute_value_of(const json::value& any, const where& at) {
    const any_member m = any_value_member(as_object(any, at));
    const where value_at{&at, m.name};
    switch (m.kind) {
        case any_kind::none: return std::nullopt;
        case any_kind::string: return attribute_value{std::string(as_string(*m.value, value_at))};
        case any_kind::boolean:
            if (!m.value->is_bool()) fail(value_at, "expected true or false, got " + quote(*m.value));
            return attribute_value{m.value->get_bool()};
        case any_kind::integer: return attribute_value{integer<std::int64_t>(*m.value, value_at)};
        case any_kind::float64: return attribute_value{float64(*m.value, value_at)};
        case any_kind::bytes: return attribute_value{base64_of(*m.value, value_at)};
        case any_kind::array:
        case any_kind::kvlist: break;
    }
    std::string text;
    {
        detail::json_writer w(text);
        render_member(w, m, 1, at);
    }
    return attribute_value{std::move(text)};
}

/// A KeyValue list into `out` (entries without a value are left out).
void read_attributes(const json::value& list, const where& at, std::vector<attribute>& out) {
    const json::array& items = as_array(list, at);
    for (std::size_t i = 0; i < items.size(); ++i) {
        const where kv_at{at.parent, at.name, i};
        const json::object& kv = as_object(items[i], kv_at);
        const json::value* key = member(kv, "key");
        const json::value* value = member(kv, "value");
        if (value == nullptr) continue;
        auto decoded = attribute_value_of(*value, where{&kv_at, "value"});
        if (!decoded) continue;
        out.push_back({key == nullptr ? std::string() : std::string(as_string(*key, where{&kv_at, "key"})),
                       std::move(*decoded)});
    }
    detail::dedupe_attributes(out);
}

// ---- Span -------------------------------------------------------------------------------

void read_link(const json::object& o, const where& at, span_link& link) {
    const json::value* trace = member(o, "traceId", "trace_id");
    const json::value* span = member(o, "spanId", "span_id");
    if (trace == nullptr) fail(at, "traceId is missing");
    if (span == nullptr) fail(at, "spanId is missing");
    link.context.trace_id = trace_id(hex_id<trace_id::size>(*trace, where{&at, "traceId"}));
    link.context.span_id = span_id(hex_id<span_id::size>(*span, where{&at, "spanId"}));
    if (!link.context.trace_id.is_valid()) fail(where{&at, "traceId"}, "all zero");
    if (!link.context.span_id.is_valid()) fail(where{&at, "spanId"}, "all zero");
    if (const json::value* v = member(o, "traceState", "trace_state"))
        link.context.tracestate = std::string(as_string(*v, where{&at, "traceState"}));
    if (const json::value* v = member(o, "attributes")) read_attributes(*v, where{&at, "attributes"}, link.attributes);
    if (const json::value* v = member(o, "flags")) detail::apply_link_flags(link, uint32(*v, where{&at, "flags"}));
}

std::uint64_t time_of(const json::object& o, std::string_view camel, std::string_view snake, const where& at) {
    const json::value* v = member(o, camel, snake);
    return v == nullptr ? 0 : integer<std::uint64_t>(*v, where{&at, camel});
}

std::uint32_t count_of(const json::object& o, std::string_view camel, std::string_view snake, const where& at) {
    const json::value* v = member(o, camel, snake);
    return v == nullptr ? 0 : uint32(*v, where{&at, camel});
}

void read_span(const json::object& o, const where& at, span_data& s) {
    const json::value* trace = member(o, "traceId", "trace_id");
    const json::value* span = member(o, "spanId", "span_id");
    if (trace == nullptr) fail(at, "traceId is missing");
    if (span == nullptr) fail(at, "spanId is missing");
    s.trace_id = trace_id(hex_id<trace_id::size>(*trace, where{&at, "traceId"}));
    s.span_id = span_id(hex_id<span_id::size>(*span, where{&at, "spanId"}));
    if (!s.trace_id.is_valid()) fail(where{&at, "traceId"}, "all zero");
    if (!s.span_id.is_valid()) fail(where{&at, "spanId"}, "all zero");
    if (const json::value* v = member(o, "parentSpanId", "parent_span_id")) {
        const where parent_at{&at, "parentSpanId"};
        if (!as_string(*v, parent_at).empty()) {  // "" is a root span
            const span_id parent(hex_id<span_id::size>(*v, parent_at));
            if (parent.is_valid()) s.parent_span_id = parent;
        }
    }
    if (const json::value* v = member(o, "traceState", "trace_state"))
        s.tracestate = std::string(as_string(*v, where{&at, "traceState"}));
    if (const json::value* v = member(o, "name")) s.name = std::string(as_string(*v, where{&at, "name"}));
    if (const json::value* v = member(o, "kind"))
        s.kind = detail::span_kind_from_number(enumeration(
            *v, where{&at, "kind"},
            {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
             "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"}));
    else
        s.kind = span_kind::internal;  // absent = SPAN_KIND_UNSPECIFIED
    s.start_time_unix_nano = time_of(o, "startTimeUnixNano", "start_time_unix_nano", at);
    s.end_time_unix_nano = time_of(o, "endTimeUnixNano", "end_time_unix_nano", at);
    if (const json::value* v = member(o, "attributes")) read_attributes(*v, where{&at, "attributes"}, s.attributes);
    s.dropped_attributes_count = count_of(o, "droppedAttributesCount", "dropped_attributes_count", at);
    if (const json::value* v = member(o, "events")) {
        const where events_at{&at, "events"};
        const json::array& events = as_array(*v, events_at);
        s.events.reserve(events.size());
        for (std::size_t i = 0; i < events.size(); ++i) {
            const where event_at{&at, "events", i};
            const json::object& e = as_object(events[i], event_at);
            span_event& event = s.events.emplace_back();
            event.time_unix_nano = time_of(e, "timeUnixNano", "time_unix_nano", event_at);
            if (const json::value* name = member(e, "name"))
                event.name = std::string(as_string(*name, where{&event_at, "name"}));
        }
    }
    s.dropped_events_count = count_of(o, "droppedEventsCount", "dropped_events_count", at);
    if (const json::value* v = member(o, "links")) {
        const json::array& links = as_array(*v, where{&at, "links"});
        s.links.reserve(links.size());
        for (std::size_t i = 0; i < links.size(); ++i) {
            const where link_at{&at, "links", i};
            read_link(as_object(links[i], link_at), link_at, s.links.emplace_back());
        }
    }
    s.dropped_links_count = count_of(o, "droppedLinksCount", "dropped_links_count", at);
    if (const json::value* v = member(o, "status")) {
        const where status_at{&at, "status"};
        const json::object& status = as_object(*v, status_at);
        if (const json::value* m = member(status, "message"))
            s.status_message = std::string(as_string(*m, where{&status_at, "message"}));
        if (const json::value* c = member(status, "code"))
            s.status = detail::status_code_from_number(
                enumeration(*c, where{&status_at, "code"}, {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"}));
    }
    const json::value* flags = member(o, "flags");
    detail::apply_span_flags(s, flags == nullptr ? 0 : uint32(*flags, where{&at, "flags"}));
    detail::clamp_end(s);
}

// ---- Request ----------------------------------------------------------------------------

/// The string service.name of a Resource object, or empty.
std::string_view service_name_of(const json::value& resource, const where& at) {
    const json::value* attributes = member(as_object(resource, at), "attributes");
    if (attributes == nullptr) return {};
    const where list_at{&at, "attributes"};
    const json::array& list = as_array(*attributes, list_at);
    std::string_view service;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const where kv_at{&at, "attributes", i};
        const json::object& kv = as_object(list[i], kv_at);
        const json::value* key = member(kv, "key");
        if (key == nullptr || !key->is_string() || key->get_string() != "service.name") continue;
        const json::value* value = member(kv, "value");
        const any_member m = value == nullptr ? any_member{} : any_value_member(as_object(*value, kv_at));
        service = m.kind == any_kind::string && m.value->is_string() ? std::string_view(m.value->get_string())
                                                                     : std::string_view{};
    }
    return service;
}

void read_resource_spans(const json::object& o, const where& at, detail::span_collector& out) {
    const json::value* resource = member(o, "resource");
    out.begin_resource(resource == nullptr ? std::string_view{} : service_name_of(*resource, where{&at, "resource"}));
    const json::value* scope_spans = member(o, "scopeSpans", "scope_spans");
    if (scope_spans == nullptr) return;
    const json::array& scopes = as_array(*scope_spans, where{&at, "scopeSpans"});
    for (std::size_t i = 0; i < scopes.size(); ++i) {
        const where scope_at{&at, "scopeSpans", i};
        const json::value* spans = member(as_object(scopes[i], scope_at), "spans");
        if (spans == nullptr) continue;
        const json::array& list = as_array(*spans, where{&scope_at, "spans"});
        for (std::size_t k = 0; k < list.size(); ++k) {
            const where span_at{&scope_at, "spans", k};
            const json::object& span = as_object(list[k], span_at);
            read_span(span, span_at, out.new_span(span_at));
        }
    }
}

}  // namespace

decoded_spans decode_otlp_json(std::string_view body, std::size_t max_spans) {
    json::monotonic_resource memory;
    json::parse_options options;
    options.max_depth = max_json_depth;
    json::parser parser(&memory, options);
    boost::system::error_code ec;
    const std::size_t used = parser.write(body.data(), body.size(), ec);
    if (ec) throw otlp_decode_error("not JSON at byte " + std::to_string(used) + ": " + ec.message());
    const json::value document = parser.release();

    detail::span_collector out(max_spans);
    const where root;
    const json::object& request = as_object(document, root);
    const json::value* resource_spans = member(request, "resourceSpans", "resource_spans");
    if (resource_spans != nullptr) {
        const json::array& list = as_array(*resource_spans, where{&root, "resourceSpans"});
        for (std::size_t i = 0; i < list.size(); ++i) {
            const where resource_at{&root, "resourceSpans", i};
            read_resource_spans(as_object(list[i], resource_at), resource_at, out);
        }
    }
    return std::move(out).finish();
}

}  // namespace tracegate::tracing
