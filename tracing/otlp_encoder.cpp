#include "tracing/otlp_encoder.hpp"

#include "tracing/encode_util.hpp"

#include <array>
#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <variant>

namespace tracegate::tracing {
namespace {

// ---------------------------------------------------------------------------------------
// Field numbers, from opentelemetry-proto (opentelemetry/proto/...). Only what we write.
// ---------------------------------------------------------------------------------------

/// collector/trace/v1/trace_service.proto: ExportTraceServiceRequest.
namespace request_field {
inline constexpr std::uint32_t resource_spans = 1;
}
/// trace/v1/trace.proto: ResourceSpans (schema_url = 3 is left empty).
namespace resource_spans_field {
inline constexpr std::uint32_t resource = 1;
inline constexpr std::uint32_t scope_spans = 2;
}
/// resource/v1/resource.proto: Resource.
namespace resource_field {
inline constexpr std::uint32_t attributes = 1;
}
/// trace/v1/trace.proto: ScopeSpans.
namespace scope_spans_field {
inline constexpr std::uint32_t scope = 1;
inline constexpr std::uint32_t spans = 2;
}
/// common/v1/common.proto: InstrumentationScope.
namespace scope_field {
inline constexpr std::uint32_t name = 1;
inline constexpr std::uint32_t version = 2;
}
/// trace/v1/trace.proto: Span.
namespace span_field {
inline constexpr std::uint32_t trace_id = 1;                   // bytes (16)
inline constexpr std::uint32_t span_id = 2;                    // bytes (8)
inline constexpr std::uint32_t trace_state = 3;                // string
inline constexpr std::uint32_t parent_span_id = 4;             // bytes (8)
inline constexpr std::uint32_t name = 5;                       // string
inline constexpr std::uint32_t kind = 6;                       // enum SpanKind
inline constexpr std::uint32_t start_time_unix_nano = 7;       // fixed64
inline constexpr std::uint32_t end_time_unix_nano = 8;         // fixed64
inline constexpr std::uint32_t attributes = 9;                 // repeated KeyValue
inline constexpr std::uint32_t dropped_attributes_count = 10;  // uint32
inline constexpr std::uint32_t events = 11;                    // repeated Span.Event
inline constexpr std::uint32_t dropped_events_count = 12;      // uint32
inline constexpr std::uint32_t links = 13;                     // repeated Span.Link
inline constexpr std::uint32_t dropped_links_count = 14;       // uint32
inline constexpr std::uint32_t status = 15;                    // Status
inline constexpr std::uint32_t flags = 16;                     // fixed32
}
/// trace/v1/trace.proto: Span.Event.
namespace event_field {
inline constexpr std::uint32_t time_unix_nano = 1;  // fixed64
inline constexpr std::uint32_t name = 2;            // string
}
/// trace/v1/trace.proto: Span.Link.
namespace link_field {
inline constexpr std::uint32_t trace_id = 1;     // bytes (16)
inline constexpr std::uint32_t span_id = 2;      // bytes (8)
inline constexpr std::uint32_t trace_state = 3;  // string
inline constexpr std::uint32_t attributes = 4;   // repeated KeyValue
inline constexpr std::uint32_t flags = 6;        // fixed32
}
/// trace/v1/trace.proto: Status (field 1 is reserved).
namespace status_field {
inline constexpr std::uint32_t message = 2;  // string
inline constexpr std::uint32_t code = 3;     // enum StatusCode
}
/// common/v1/common.proto: KeyValue.
namespace key_value_field {
inline constexpr std::uint32_t key = 1;
inline constexpr std::uint32_t value = 2;
}
/// common/v1/common.proto: AnyValue (a oneof: the member is written even when zero).
namespace any_value_field {
inline constexpr std::uint32_t string_value = 1;
inline constexpr std::uint32_t bool_value = 2;
inline constexpr std::uint32_t int_value = 3;
inline constexpr std::uint32_t double_value = 4;  // fixed64 bits
}

/// Span.SpanKind values (0 is SPAN_KIND_UNSPECIFIED, never written).
inline constexpr std::uint32_t span_kind_internal = 1;
inline constexpr std::uint32_t span_kind_server = 2;
inline constexpr std::uint32_t span_kind_client = 3;
inline constexpr std::uint32_t span_kind_producer = 4;
inline constexpr std::uint32_t span_kind_consumer = 5;

/// SpanFlags (trace.proto): bits 0-7 are the W3C trace flags; bit 8 says whether the
/// parent's is-remote is known, bit 9 that the parent is remote (proto v1.1+).
inline constexpr std::uint32_t span_flags_trace_flags_mask = 0x000000ff;
inline constexpr std::uint32_t span_flags_context_has_is_remote = 0x00000100;
inline constexpr std::uint32_t span_flags_context_is_remote = 0x00000200;

/// "tracegate": InstrumentationScope.name.
inline constexpr std::string_view scope_name = "tracegate";

std::uint32_t kind_value(span_kind kind) noexcept {
    switch (kind) {
        case span_kind::internal: return span_kind_internal;
        case span_kind::client: return span_kind_client;
        case span_kind::producer: return span_kind_producer;
        case span_kind::consumer: return span_kind_consumer;
        case span_kind::server: break;
    }
    return span_kind_server;
}

std::uint32_t status_value(status_code code) noexcept {
    switch (code) {
        case status_code::ok: return 1;
        case status_code::error: return 2;
        case status_code::unset: break;
    }
    return 0;
}

std::uint32_t span_flags(const span_data& s) noexcept {
    std::uint32_t flags = (s.trace_flags & span_flags_trace_flags_mask) | span_flags_context_has_is_remote;
    if (s.parent_span_id && s.parent_is_remote) flags |= span_flags_context_is_remote;
    return flags;
}

std::uint32_t link_flags(const span_link& l) noexcept {
    std::uint32_t flags = (l.context.trace_flags & span_flags_trace_flags_mask) | span_flags_context_has_is_remote;
    if (l.context.is_remote) flags |= span_flags_context_is_remote;
    return flags;
}

// ---------------------------------------------------------------------------------------
// Protobuf sizes (https://protobuf.dev/programming-guides/encoding/). A LEN field needs
// its payload's size before the payload, so a first pass computes every nested message's
// size once and records it in a size_plan, in the order the second pass writes the
// messages; the second pass writes the request front to back into a buffer of exactly
// the right size. No temporary buffer per message, no size computed twice.
// ---------------------------------------------------------------------------------------

/// Wire types (encoding guide, "Message Structure").
enum wire_type : std::uint32_t { wire_varint = 0, wire_i64 = 1, wire_len = 2, wire_i32 = 5 };

/// Bytes of `value` as a varint: 1 per started 7 bits (bit_width * 9 / 64 rounds that up
/// without a division; 0 takes one byte).
constexpr std::size_t varint_size(std::uint64_t value) noexcept {
    return (static_cast<std::size_t>(std::bit_width(value | 1)) * 9 + 64) / 64;
}

constexpr std::size_t tag_size(std::uint32_t field) noexcept {
    return varint_size(std::uint64_t{field} << 3);
}

/// A LEN field: tag, length, payload.
constexpr std::size_t len_field_size(std::uint32_t field, std::size_t payload) noexcept {
    return tag_size(field) + varint_size(payload) + payload;
}

constexpr std::size_t fixed64_field_size(std::uint32_t field) noexcept {
    return tag_size(field) + 8;
}

constexpr std::size_t fixed32_field_size(std::uint32_t field) noexcept {
    return tag_size(field) + 4;
}

constexpr std::size_t varint_field_size(std::uint32_t field, std::uint64_t value) noexcept {
    return tag_size(field) + varint_size(value);
}

/// Bytes of a string field's payload (UTF-8 repaired: proto3 rejects ill-formed strings).
std::size_t text_size(std::string_view s) noexcept {
    return detail::utf8_repaired_size(s);
}

/// A string field, omitted when empty.
std::size_t optional_string_field_size(std::uint32_t field, std::string_view s) noexcept {
    return s.empty() ? 0 : len_field_size(field, text_size(s));
}

std::size_t optional_count_size(std::uint32_t field, std::uint32_t count) noexcept {
    return count == 0 ? 0 : varint_field_size(field, count);
}

/// The sizes of nested messages in writing order (pre-order: a message, then what it holds).
class size_plan {
public:
    /// Makes room for `messages` sizes.
    void reserve(std::size_t messages) { sizes_.reserve(messages); }
    /// A place for a message's size, filled by set() once its fields are sized.
    std::size_t open() {
        sizes_.push_back(0);
        return sizes_.size() - 1;
    }
    /// Fills the place `slot` with `size`; returns `size`.
    std::size_t set(std::size_t slot, std::size_t size) noexcept {
        sizes_[slot] = static_cast<std::uint32_t>(size);
        return size;
    }
    /// Records a message sized at once; returns `size`.
    std::size_t add(std::size_t size) {
        sizes_.push_back(static_cast<std::uint32_t>(size));
        return size;
    }
    /// The next size, in the order recorded (for the writing pass).
    std::size_t next() noexcept { return sizes_[next_++]; }
    /// True when the writing pass used every size.
    bool consumed() const noexcept { return next_ == sizes_.size(); }

private:
    std::vector<std::uint32_t> sizes_;  // a message over 4 GiB cannot be sent anyway
    std::size_t next_ = 0;
};

std::size_t any_value_size(const attribute_value& value) noexcept {
    return std::visit(
        [](const auto& v) -> std::size_t {
            using type = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<type, std::string>)
                return len_field_size(any_value_field::string_value, text_size(v));
            else if constexpr (std::is_same_v<type, bool>)
                return varint_field_size(any_value_field::bool_value, 1);
            else if constexpr (std::is_same_v<type, std::int64_t>)
                return varint_field_size(any_value_field::int_value, static_cast<std::uint64_t>(v));
            else
                return fixed64_field_size(any_value_field::double_value);
        },
        value);
}

/// Sizes repeated KeyValue `field` (plan: each KeyValue, then its AnyValue).
std::size_t size_attributes(size_plan& plan, std::uint32_t field, const std::vector<attribute>& attributes) {
    std::size_t size = 0;
    for (const auto& a : attributes) {
        const std::size_t slot = plan.open();
        const std::size_t value = plan.add(any_value_size(a.value));
        const std::size_t key_value = optional_string_field_size(key_value_field::key, a.key) +
                                      len_field_size(key_value_field::value, value);
        size += len_field_size(field, plan.set(slot, key_value));
    }
    return size;
}

/// Sizes a Span (plan: the span, its attributes, events, links with theirs, status).
std::size_t size_span(size_plan& plan, const span_data& s) {
    const std::size_t slot = plan.open();
    std::size_t size = len_field_size(span_field::trace_id, trace_id::size) +
                       len_field_size(span_field::span_id, span_id::size) +
                       optional_string_field_size(span_field::trace_state, s.tracestate) +
                       (s.parent_span_id ? len_field_size(span_field::parent_span_id, span_id::size) : 0) +
                       len_field_size(span_field::name, text_size(s.name)) +
                       varint_field_size(span_field::kind, kind_value(s.kind)) +
                       fixed64_field_size(span_field::start_time_unix_nano) +
                       fixed64_field_size(span_field::end_time_unix_nano) +
                       optional_count_size(span_field::dropped_attributes_count, s.dropped_attributes_count) +
                       optional_count_size(span_field::dropped_events_count, s.dropped_events_count) +
                       optional_count_size(span_field::dropped_links_count, s.dropped_links_count) +
                       fixed32_field_size(span_field::flags);
    size += size_attributes(plan, span_field::attributes, s.attributes);
    for (const auto& e : s.events) {
        const std::size_t event = fixed64_field_size(event_field::time_unix_nano) +
                                  optional_string_field_size(event_field::name, e.name);
        size += len_field_size(span_field::events, plan.add(event));
    }
    for (const auto& l : s.links) {
        const std::size_t link_slot = plan.open();
        const std::size_t link = len_field_size(link_field::trace_id, trace_id::size) +
                                 len_field_size(link_field::span_id, span_id::size) +
                                 optional_string_field_size(link_field::trace_state, l.context.tracestate) +
                                 size_attributes(plan, link_field::attributes, l.attributes) +
                                 fixed32_field_size(link_field::flags);
        size += len_field_size(span_field::links, plan.set(link_slot, link));
    }
    if (s.status != status_code::unset) {
        const std::uint32_t code = status_value(s.status);
        const std::size_t status = optional_string_field_size(status_field::message, s.status_message) +
                                   (code == 0 ? 0 : varint_field_size(status_field::code, code));
        size += len_field_size(span_field::status, plan.add(status));
    }
    return plan.set(slot, size);
}

/// Nested messages a span records in the plan.
std::size_t planned_messages(const span_data& s) noexcept {
    std::size_t n = 2 + 2 * s.attributes.size() + s.events.size();
    for (const auto& l : s.links) n += 1 + 2 * l.attributes.size();
    return n;
}

std::size_t scope_size() noexcept {
    return len_field_size(scope_field::name, scope_name.size()) +
           optional_string_field_size(scope_field::version, tracegate_version());
}

// ---------------------------------------------------------------------------------------
// Protobuf writing, into the exactly sized buffer, taking sizes from the plan.
// ---------------------------------------------------------------------------------------

class wire_writer {
public:
    explicit wire_writer(char* at) noexcept : at_(at) {}

    char* position() const noexcept { return at_; }

    void varint(std::uint64_t value) noexcept {
        while (value >= 0x80) {
            *at_++ = static_cast<char>(value | 0x80);
            value >>= 7;
        }
        *at_++ = static_cast<char>(value);
    }

    void tag(std::uint32_t field, wire_type type) noexcept { varint(std::uint64_t{field} << 3 | type); }

    /// The tag and length of a LEN field whose payload the caller writes next.
    void header(std::uint32_t field, std::size_t payload) noexcept {
        tag(field, wire_len);
        varint(payload);
    }

    void varint_field(std::uint32_t field, std::uint64_t value) noexcept {
        tag(field, wire_varint);
        varint(value);
    }

    void fixed64_field(std::uint32_t field, std::uint64_t value) noexcept {
        tag(field, wire_i64);
        for (int i = 0; i < 8; ++i) *at_++ = static_cast<char>(value >> (8 * i));  // little-endian
    }

    void fixed32_field(std::uint32_t field, std::uint32_t value) noexcept {
        tag(field, wire_i32);
        for (int i = 0; i < 4; ++i) *at_++ = static_cast<char>(value >> (8 * i));
    }

    template <std::size_t N>
    void bytes_field(std::uint32_t field, const std::array<std::uint8_t, N>& bytes) noexcept {
        header(field, N);
        std::memcpy(at_, bytes.data(), N);
        at_ += N;
    }

    void string_field(std::uint32_t field, std::string_view s) noexcept {
        if (!detail::is_ascii(s)) [[unlikely]] {
            header(field, detail::utf8_repaired_size_slow(s));
            at_ = detail::write_utf8_repaired_slow(s, at_);
            return;
        }
        header(field, s.size());
        if (!s.empty()) std::memcpy(at_, s.data(), s.size());
        at_ += s.size();
    }

    void optional_string_field(std::uint32_t field, std::string_view s) noexcept {
        if (!s.empty()) string_field(field, s);
    }

    void optional_count_field(std::uint32_t field, std::uint32_t count) noexcept {
        if (count != 0) varint_field(field, count);
    }

private:
    char* at_;
};

void write_any_value(wire_writer& w, const attribute_value& value) noexcept {
    std::visit(
        [&w](const auto& v) {
            using type = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<type, std::string>)
                w.string_field(any_value_field::string_value, v);
            else if constexpr (std::is_same_v<type, bool>)
                w.varint_field(any_value_field::bool_value, v ? 1 : 0);
            else if constexpr (std::is_same_v<type, std::int64_t>)
                w.varint_field(any_value_field::int_value, static_cast<std::uint64_t>(v));
            else
                w.fixed64_field(any_value_field::double_value, std::bit_cast<std::uint64_t>(v));
        },
        value);
}

void write_attributes(wire_writer& w, size_plan& plan, std::uint32_t field,
                      const std::vector<attribute>& attributes) noexcept {
    for (const auto& a : attributes) {
        w.header(field, plan.next());
        w.optional_string_field(key_value_field::key, a.key);
        w.header(key_value_field::value, plan.next());
        write_any_value(w, a.value);
    }
}

void write_span(wire_writer& w, size_plan& plan, const span_data& s) noexcept {
    w.header(scope_spans_field::spans, plan.next());
    w.bytes_field(span_field::trace_id, s.trace_id.bytes());
    w.bytes_field(span_field::span_id, s.span_id.bytes());
    w.optional_string_field(span_field::trace_state, s.tracestate);
    if (s.parent_span_id) w.bytes_field(span_field::parent_span_id, s.parent_span_id->bytes());
    w.string_field(span_field::name, s.name);
    w.varint_field(span_field::kind, kind_value(s.kind));
    w.fixed64_field(span_field::start_time_unix_nano, s.start_time_unix_nano);
    w.fixed64_field(span_field::end_time_unix_nano, s.end_time_unix_nano);
    write_attributes(w, plan, span_field::attributes, s.attributes);
    w.optional_count_field(span_field::dropped_attributes_count, s.dropped_attributes_count);
    for (const auto& e : s.events) {
        w.header(span_field::events, plan.next());
        w.fixed64_field(event_field::time_unix_nano, e.time_unix_nano);
        w.optional_string_field(event_field::name, e.name);
    }
    w.optional_count_field(span_field::dropped_events_count, s.dropped_events_count);
    for (const auto& l : s.links) {
        w.header(span_field::links, plan.next());
        w.bytes_field(link_field::trace_id, l.context.trace_id.bytes());
        w.bytes_field(link_field::span_id, l.context.span_id.bytes());
        w.optional_string_field(link_field::trace_state, l.context.tracestate);
        write_attributes(w, plan, link_field::attributes, l.attributes);
        w.fixed32_field(link_field::flags, link_flags(l));
    }
    w.optional_count_field(span_field::dropped_links_count, s.dropped_links_count);
    if (s.status != status_code::unset) {
        w.header(span_field::status, plan.next());
        w.optional_string_field(status_field::message, s.status_message);
        if (const std::uint32_t code = status_value(s.status); code != 0) w.varint_field(status_field::code, code);
    }
    w.fixed32_field(span_field::flags, span_flags(s));
}

// ---------------------------------------------------------------------------------------
// OTLP JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): the
// proto3 JSON mapping with lowerCamelCase names, hex ids, integer enums, 64-bit integers
// as decimal strings, default values left out.
// ---------------------------------------------------------------------------------------

void write_json_any_value(detail::json_writer& w, const attribute_value& value) {
    std::visit(
        [&w](const auto& v) {
            using type = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<type, std::string>) {
                w.raw("{\"stringValue\":");
                w.string(v);
            } else if constexpr (std::is_same_v<type, bool>) {
                w.raw(v ? "{\"boolValue\":true" : "{\"boolValue\":false");
            } else if constexpr (std::is_same_v<type, std::int64_t>) {
                w.raw("{\"intValue\":");
                w.quoted_decimal(v);
            } else {
                w.raw("{\"doubleValue\":");
                w.json_double(v);  // NaN/Infinity: proto3 JSON strings
            }
        },
        value);
    w.raw('}');
}

/// `"attributes":[...]` preceded by `prefix`, for a non-empty list; nothing for an empty one.
void write_json_attributes(detail::json_writer& w, std::string_view prefix,
                           const std::vector<attribute>& attributes) {
    if (attributes.empty()) return;
    w.raw(prefix);
    w.raw("\"attributes\":[");
    bool first = true;
    for (const auto& a : attributes) {
        w.raw(first ? "{\"key\":" : ",{\"key\":");
        first = false;
        w.string(a.key);
        w.raw(",\"value\":");
        write_json_any_value(w, a.value);
        w.raw('}');
    }
    w.raw(']');
}

/// `,"name":count` when the count is not zero.
void write_json_count(detail::json_writer& w, std::string_view name, std::uint32_t count) {
    if (count == 0) return;
    w.raw(name);
    w.decimal(count);
}

void write_json_span(detail::json_writer& w, const span_data& s) {
    w.raw("{\"traceId\":\"");
    w.hex(s.trace_id);
    w.raw("\",\"spanId\":\"");
    w.hex(s.span_id);
    w.raw('"');
    if (!s.tracestate.empty()) {
        w.raw(",\"traceState\":");
        w.string(s.tracestate);
    }
    if (s.parent_span_id) {
        w.raw(",\"parentSpanId\":\"");
        w.hex(*s.parent_span_id);
        w.raw('"');
    }
    w.raw(",\"flags\":");
    w.decimal(span_flags(s));
    w.raw(",\"name\":");
    w.string(s.name);
    w.raw(",\"kind\":");
    w.decimal(kind_value(s.kind));
    w.raw(",\"startTimeUnixNano\":");
    w.quoted_decimal(s.start_time_unix_nano);
    w.raw(",\"endTimeUnixNano\":");
    w.quoted_decimal(s.end_time_unix_nano);
    write_json_attributes(w, ",", s.attributes);
    write_json_count(w, ",\"droppedAttributesCount\":", s.dropped_attributes_count);
    if (!s.events.empty()) {
        w.raw(",\"events\":[");
        bool first = true;
        for (const auto& e : s.events) {
            w.raw(first ? "{\"timeUnixNano\":" : ",{\"timeUnixNano\":");
            first = false;
            w.quoted_decimal(e.time_unix_nano);
            if (!e.name.empty()) {
                w.raw(",\"name\":");
                w.string(e.name);
            }
            w.raw('}');
        }
        w.raw(']');
    }
    write_json_count(w, ",\"droppedEventsCount\":", s.dropped_events_count);
    if (!s.links.empty()) {
        w.raw(",\"links\":[");
        bool first = true;
        for (const auto& l : s.links) {
            w.raw(first ? "{\"traceId\":\"" : ",{\"traceId\":\"");
            first = false;
            w.hex(l.context.trace_id);
            w.raw("\",\"spanId\":\"");
            w.hex(l.context.span_id);
            w.raw('"');
            if (!l.context.tracestate.empty()) {
                w.raw(",\"traceState\":");
                w.string(l.context.tracestate);
            }
            write_json_attributes(w, ",", l.attributes);
            w.raw(",\"flags\":");
            w.decimal(link_flags(l));
            w.raw('}');
        }
        w.raw(']');
    }
    write_json_count(w, ",\"droppedLinksCount\":", s.dropped_links_count);
    if (s.status != status_code::unset) {
        w.raw(",\"status\":{");
        const std::uint32_t code = status_value(s.status);
        if (!s.status_message.empty()) {
            w.raw("\"message\":");
            w.string(s.status_message);
            if (code != 0) w.raw(',');
        }
        if (code != 0) {
            w.raw("\"code\":");
            w.decimal(code);
        }
        w.raw('}');
    }
    w.raw('}');
}

/// A generous guess of the JSON size, so the output grows at most once per batch.
std::size_t json_size_hint(std::span<const span_data> spans, const resource& res) {
    std::size_t size = 256;
    for (const auto& a : res.attributes) size += a.key.size() + 64;
    return size + detail::estimate_size(spans, {.per_span = 400, .per_attribute = 56, .per_event = 48,
                                               .per_link = 160, .per_link_attribute = 96});
}

}  // namespace

void encode_otlp_protobuf(std::span<const span_data> spans, const resource& res, std::string& out) {
    out.clear();
    if (spans.empty()) return;  // an empty ExportTraceServiceRequest

    // Pass 1: sizes, in the order pass 2 writes.
    size_plan plan;
    std::size_t planned = 2 * res.attributes.size();
    for (const auto& s : spans) planned += planned_messages(s);
    plan.reserve(planned);
    const std::size_t resource_size = size_attributes(plan, resource_field::attributes, res.attributes);
    std::size_t scope_spans_size = len_field_size(scope_spans_field::scope, scope_size());
    for (const auto& s : spans) scope_spans_size += len_field_size(scope_spans_field::spans, size_span(plan, s));
    const std::size_t resource_spans_size = len_field_size(resource_spans_field::resource, resource_size) +
                                            len_field_size(resource_spans_field::scope_spans, scope_spans_size);
    out.resize(len_field_size(request_field::resource_spans, resource_spans_size));

    // Pass 2: bytes.
    wire_writer w(out.data());
    w.header(request_field::resource_spans, resource_spans_size);
    w.header(resource_spans_field::resource, resource_size);
    write_attributes(w, plan, resource_field::attributes, res.attributes);
    w.header(resource_spans_field::scope_spans, scope_spans_size);
    w.header(scope_spans_field::scope, scope_size());
    w.string_field(scope_field::name, scope_name);
    w.optional_string_field(scope_field::version, tracegate_version());
    for (const auto& s : spans) write_span(w, plan, s);
    assert(plan.consumed());
    assert(w.position() == out.data() + out.size());
}

void encode_otlp_json(std::span<const span_data> spans, const resource& res, std::string& out) {
    out.clear();
    if (spans.empty()) {
        out = "{}";  // an empty ExportTraceServiceRequest
        return;
    }
    detail::json_writer w(out);
    w.reserve(json_size_hint(spans, res));
    w.raw("{\"resourceSpans\":[{\"resource\":{");
    write_json_attributes(w, "", res.attributes);
    w.raw("},\"scopeSpans\":[{\"scope\":{\"name\":");
    w.string(scope_name);
    if (!tracegate_version().empty()) {
        w.raw(",\"version\":");
        w.string(tracegate_version());
    }
    w.raw("},\"spans\":[");
    bool first = true;
    for (const auto& s : spans) {
        if (!first) w.raw(',');
        first = false;
        write_json_span(w, s);
    }
    w.raw("]}]}]}");
    w.finish();
}

}  // namespace tracegate::tracing
