// decode_otlp_protobuf: the protobuf wire format (https://protobuf.dev/programming-guides/encoding/)
// read by hand with the opentelemetry-proto field numbers otlp_encoder.cpp writes. Every
// read is bounds-checked against the enclosing message, so no input reads outside it.
#include "tracing/otlp_decode_common.hpp"
#include "tracing/encode_util.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

namespace tracegate::tracing {
namespace {

using detail::fail;
using detail::where;

/// Wire types (encoding guide, "Message Structure"); 3 and 4 are the deprecated groups.
enum wire_type : std::uint32_t { wire_varint = 0, wire_i64 = 1, wire_len = 2, wire_i32 = 5 };

/// Largest field number (2^29 - 1).
constexpr std::uint64_t max_field_number = (std::uint64_t{1} << 29) - 1;
/// A varint is at most 10 bytes (64 bits, 7 per byte).
constexpr std::size_t max_varint_bytes = 10;

/// Reads the fields of one message in wire order. next() reads a whole field (tag and
/// payload) and fails on anything malformed, so skipping an unknown field is not calling
/// an accessor. Accessors check the wire type a known field must have.
class wire_reader {
public:
    /// `message` names the message type in errors; `at` is where the message is.
    wire_reader(std::string_view bytes, const where& at, std::string_view message) noexcept
        : at_(at), message_(message), data_(bytes) {}

    /// Reads the next field; false at the end of the message.
    bool next() {
        if (offset_ == data_.size()) return false;
        const std::size_t start = offset_;
        const std::uint64_t tag = read_varint("tag");
        if (tag >> 3 == 0) error("field number 0", start);
        if (tag >> 3 > max_field_number) error("field number " + std::to_string(tag >> 3) + " out of range", start);
        number_ = static_cast<std::uint32_t>(tag >> 3);
        type_ = static_cast<std::uint32_t>(tag & 7);
        switch (type_) {
            case wire_varint: value_ = read_varint("value"); break;
            case wire_i64: value_ = read_fixed(8); break;
            case wire_i32: value_ = read_fixed(4); break;
            case wire_len: {
                const std::uint64_t size = read_varint("length");
                const std::size_t left = data_.size() - offset_;
                if (size > left)
                    field_error("length " + std::to_string(size) + " past the end of the message (" +
                                std::to_string(left) + " bytes left)");
                payload_ = data_.substr(offset_, static_cast<std::size_t>(size));
                offset_ += static_cast<std::size_t>(size);
                break;
            }
            case 3:
            case 4: field_error("wire type " + std::to_string(type_) + " (group) is not supported");
            default: field_error("invalid wire type " + std::to_string(type_));
        }
        return true;
    }

    std::uint32_t number() const noexcept { return number_; }

    /// The value of a VARINT field named `name`.
    std::uint64_t varint(std::string_view name) const {
        expect(wire_varint, name);
        return value_;
    }
    /// The value of an I64 field.
    std::uint64_t fixed64(std::string_view name) const {
        expect(wire_i64, name);
        return value_;
    }
    /// The value of an I32 field.
    std::uint32_t fixed32(std::string_view name) const {
        expect(wire_i32, name);
        return static_cast<std::uint32_t>(value_);
    }
    /// The payload of a LEN field (a view into the request).
    std::string_view len(std::string_view name) const {
        expect(wire_len, name);
        return payload_;
    }
    /// A uint32 count; a larger varint is clamped.
    std::uint32_t count(std::string_view name) const {
        const std::uint64_t value = varint(name);
        return value > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                                  : static_cast<std::uint32_t>(value);
    }
    /// An enum (int32 on the wire: the low 32 bits, sign included).
    std::int64_t enumeration(std::string_view name) const {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(varint(name)));
    }

    /// Fails naming the current field, e.g. `field 1 (trace_id) of Span: must be 16 bytes, got 3`.
    [[noreturn]] void field_error(std::string_view reason, std::string_view name = {}) const {
        std::string text = "field " + std::to_string(number_);
        if (!name.empty()) {
            text += " (";
            text += name;
            text += ')';
        }
        text += " of ";
        text += message_;
        text += ": ";
        text += reason;
        fail(at_, text);
    }

private:
    /// Fails naming the byte offset in the message where the bad data starts.
    [[noreturn]] void error(std::string_view reason, std::size_t offset) const {
        fail(at_, std::string(reason) + " at byte " + std::to_string(offset) + " of " + std::string(message_));
    }

    void expect(std::uint32_t type, std::string_view name) const {
        if (type_ != type)
            field_error("wire type " + std::to_string(type_) + ", expected " + std::to_string(type), name);
    }

    std::uint64_t read_varint(std::string_view what) {
        const std::size_t start = offset_;
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < max_varint_bytes; ++i) {
            if (offset_ == data_.size()) error("truncated varint (" + std::string(what) + ")", start);
            const auto byte = static_cast<std::uint8_t>(data_[offset_++]);
            value |= std::uint64_t{byte & 0x7fu} << (7 * i);  // bits past 64 of byte 10 are dropped, as protobuf does
            if ((byte & 0x80) == 0) return value;
        }
        error("varint longer than 10 bytes (" + std::string(what) + ")", start);
    }

    std::uint64_t read_fixed(std::size_t bytes) {
        if (data_.size() - offset_ < bytes)
            field_error(std::to_string(bytes) + "-byte value past the end of the message");
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < bytes; ++i)
            value |= std::uint64_t{static_cast<std::uint8_t>(data_[offset_ + i])} << (8 * i);  // little-endian
        offset_ += bytes;
        return value;
    }

    const where& at_;
    std::string_view message_;
    std::string_view data_;
    std::size_t offset_ = 0;
    std::uint32_t number_ = 0;
    std::uint32_t type_ = 0;
    std::uint64_t value_ = 0;
    std::string_view payload_;
};

/// Copies a bytes field of exactly N bytes into an id's bytes.
template <std::size_t N>
std::array<std::uint8_t, N> id_bytes(const wire_reader& r, std::string_view name) {
    const std::string_view bytes = r.len(name);
    if (bytes.size() != N)
        r.field_error("must be " + std::to_string(N) + " bytes, got " + std::to_string(bytes.size()), name);
    std::array<std::uint8_t, N> out{};
    std::memcpy(out.data(), bytes.data(), N);
    return out;
}

// ---- AnyValue ---------------------------------------------------------------------------

/// common.proto AnyValue members (a oneof: the last one on the wire wins).
namespace any_value_field {
constexpr std::uint32_t string_value = 1, bool_value = 2, int_value = 3, double_value = 4, array_value = 5,
                        kvlist_value = 6, bytes_value = 7;
}

/// The member of an AnyValue that is set: its field number (0: none) and its value.
struct any_value_member {
    std::uint32_t field = 0;
    std::uint64_t number = 0;   ///< bool, int, double bits
    std::string_view payload;   ///< string, bytes, array, kvlist
};

any_value_member read_any_value(std::string_view bytes, const where& at) {
    any_value_member member;
    wire_reader r(bytes, at, "AnyValue");
    while (r.next()) {
        switch (r.number()) {
            case any_value_field::string_value: member = {r.number(), 0, r.len("string_value")}; break;
            case any_value_field::bool_value: member = {r.number(), r.varint("bool_value"), {}}; break;
            case any_value_field::int_value: member = {r.number(), r.varint("int_value"), {}}; break;
            case any_value_field::double_value: member = {r.number(), r.fixed64("double_value"), {}}; break;
            case any_value_field::array_value: member = {r.number(), 0, r.len("array_value")}; break;
            case any_value_field::kvlist_value: member = {r.number(), 0, r.len("kvlist_value")}; break;
            case any_value_field::bytes_value: member = {r.number(), 0, r.len("bytes_value")}; break;
            default: break;
        }
    }
    return member;
}

/// A KeyValue's key and its AnyValue bytes (nullopt when it has no value field).
struct key_value {
    std::string_view key;
    std::optional<std::string_view> value;
};

key_value read_key_value(std::string_view bytes, const where& at) {
    key_value kv;
    wire_reader r(bytes, at, "KeyValue");
    while (r.next()) {
        if (r.number() == 1) kv.key = r.len("key");
        else if (r.number() == 2) kv.value = r.len("value");
    }
    return kv;
}

void check_depth(std::size_t depth, const where& at) {
    if (depth > otlp_max_value_depth)
        fail(at, "values nested deeper than " + std::to_string(otlp_max_value_depth) + " levels");
}

/// Writes a nested AnyValue as JSON: arrays and lists as such, bytes as a base64 string, no value as null.
void render_any_value(detail::json_writer& w, const any_value_member& v, std::size_t depth, const where& at);

void render_array(detail::json_writer& w, std::string_view bytes, std::size_t depth, const where& at) {
    check_depth(depth, at);
    w.raw('[');
    wire_reader r(bytes, at, "ArrayValue");
    std::size_t index = 0;
    while (r.next()) {
        if (r.number() != 1) continue;
        const where element{&at, "values", index};
        if (index++ != 0) w.raw(',');
        render_any_value(w, read_any_value(r.len("values"), element), depth, element);
    }
    w.raw(']');
}

void render_kvlist(detail::json_writer& w, std::string_view bytes, std::size_t depth, const where& at) {
    check_depth(depth, at);
    w.raw('{');
    wire_reader r(bytes, at, "KeyValueList");
    std::size_t index = 0;
    while (r.next()) {
        if (r.number() != 1) continue;
        const where element{&at, "values", index};
        if (index++ != 0) w.raw(',');
        const key_value kv = read_key_value(r.len("values"), element);
        w.string(kv.key);
        w.raw(':');
        render_any_value(w, kv.value ? read_any_value(*kv.value, element) : any_value_member{}, depth, element);
    }
    w.raw('}');
}

void render_any_value(detail::json_writer& w, const any_value_member& v, std::size_t depth, const where& at) {
    switch (v.field) {
        case any_value_field::string_value: w.string(v.payload); break;
        case any_value_field::bool_value: w.raw(v.number != 0 ? "true" : "false"); break;
        case any_value_field::int_value: w.decimal(static_cast<std::int64_t>(v.number)); break;
        case any_value_field::double_value: w.json_double(std::bit_cast<double>(v.number)); break;
        case any_value_field::array_value: render_array(w, v.payload, depth + 1, at); break;
        case any_value_field::kvlist_value: render_kvlist(w, v.payload, depth + 1, at); break;
        case any_value_field::bytes_value: {
            std::string text;
            detail::append_base64(v.payload, text);
            w.string(text);
            break;
        }
        default: w.raw("null"); break;
    }
}

/// An attribute's value; nullopt when the AnyValue has no member set.
std::optional<attribute_value> attribute_value_of(std::string_view bytes, const where& at) {
    const any_value_member v = read_any_value(bytes, at);
    switch (v.field) {
        case any_value_field::string_value: return attribute_value{std::string(v.payload)};
        case any_value_field::bool_value: return attribute_value{v.number != 0};
        case any_value_field::int_value: return attribute_value{static_cast<std::int64_t>(v.number)};
        case any_value_field::double_value: return attribute_value{std::bit_cast<double>(v.number)};
        case any_value_field::bytes_value: {
            std::string text;
            detail::append_base64(v.payload, text);
            return attribute_value{std::move(text)};
        }
        case any_value_field::array_value:
        case any_value_field::kvlist_value: {
            std::string text;
            {
                detail::json_writer w(text);
                render_any_value(w, v, 1, at);
            }
            return attribute_value{std::move(text)};
        }
        default: return std::nullopt;
    }
}

/// Appends the KeyValue in `bytes` to `out` (left out without a value).
void add_attribute(std::string_view bytes, const where& at, std::vector<attribute>& out) {
    const key_value kv = read_key_value(bytes, at);
    if (!kv.value) return;
    if (auto value = attribute_value_of(*kv.value, at)) out.push_back({std::string(kv.key), std::move(*value)});
}

// ---- Span -------------------------------------------------------------------------------

void read_event(std::string_view bytes, const where& at, span_event& event) {
    wire_reader r(bytes, at, "Span.Event");
    while (r.next()) {
        if (r.number() == 1) event.time_unix_nano = r.fixed64("time_unix_nano");
        else if (r.number() == 2) event.name = std::string(r.len("name"));
        // 3 attributes, 4 dropped_attributes_count: span_event has no place for them.
    }
}

void read_link(std::string_view bytes, const where& at, span_link& link) {
    wire_reader r(bytes, at, "Span.Link");
    bool has_trace = false, has_span = false;
    std::size_t attributes = 0;
    while (r.next()) {
        switch (r.number()) {
            case 1:
                link.context.trace_id = trace_id(id_bytes<trace_id::size>(r, "trace_id"));
                has_trace = true;
                break;
            case 2:
                link.context.span_id = span_id(id_bytes<span_id::size>(r, "span_id"));
                has_span = true;
                break;
            case 3: link.context.tracestate = std::string(r.len("trace_state")); break;
            case 4: add_attribute(r.len("attributes"), where{&at, "attributes", attributes++}, link.attributes); break;
            case 6: detail::apply_link_flags(link, r.fixed32("flags")); break;
            default: break;
        }
    }
    if (!has_trace || !link.context.trace_id.is_valid()) fail(at, "trace_id is missing or all zero");
    if (!has_span || !link.context.span_id.is_valid()) fail(at, "span_id is missing or all zero");
    detail::dedupe_attributes(link.attributes);
}

void read_status(std::string_view bytes, const where& at, span_data& span) {
    wire_reader r(bytes, at, "Status");
    while (r.next()) {
        if (r.number() == 2) span.status_message = std::string(r.len("message"));
        else if (r.number() == 3) span.status = detail::status_code_from_number(r.enumeration("code"));
    }
}

void read_span(std::string_view bytes, const where& at, span_data& span) {
    wire_reader r(bytes, at, "Span");
    span.kind = span_kind::internal;  // an absent kind is SPAN_KIND_UNSPECIFIED
    bool has_trace = false, has_span = false;
    std::uint32_t flags = 0;
    std::size_t attributes = 0, events = 0, links = 0;
    while (r.next()) {
        switch (r.number()) {
            case 1:
                span.trace_id = trace_id(id_bytes<trace_id::size>(r, "trace_id"));
                has_trace = true;
                break;
            case 2:
                span.span_id = span_id(id_bytes<span_id::size>(r, "span_id"));
                has_span = true;
                break;
            case 3: span.tracestate = std::string(r.len("trace_state")); break;
            case 4: {
                const std::string_view parent = r.len("parent_span_id");
                span.parent_span_id.reset();
                if (parent.empty()) break;  // a root span
                const span_id id(id_bytes<span_id::size>(r, "parent_span_id"));
                if (id.is_valid()) span.parent_span_id = id;
                break;
            }
            case 5: span.name = std::string(r.len("name")); break;
            case 6: span.kind = detail::span_kind_from_number(r.enumeration("kind")); break;
            case 7: span.start_time_unix_nano = r.fixed64("start_time_unix_nano"); break;
            case 8: span.end_time_unix_nano = r.fixed64("end_time_unix_nano"); break;
            case 9: add_attribute(r.len("attributes"), where{&at, "attributes", attributes++}, span.attributes); break;
            case 10: span.dropped_attributes_count = r.count("dropped_attributes_count"); break;
            case 11: {
                const where event_at{&at, "events", events++};
                read_event(r.len("events"), event_at, span.events.emplace_back());
                break;
            }
            case 12: span.dropped_events_count = r.count("dropped_events_count"); break;
            case 13: {
                const where link_at{&at, "links", links++};
                read_link(r.len("links"), link_at, span.links.emplace_back());
                break;
            }
            case 14: span.dropped_links_count = r.count("dropped_links_count"); break;
            case 15: read_status(r.len("status"), where{&at, "status"}, span); break;
            case 16: flags = r.fixed32("flags"); break;
            default: break;
        }
    }
    if (!has_trace || !span.trace_id.is_valid()) fail(at, "trace_id is missing or all zero");
    if (!has_span || !span.span_id.is_valid()) fail(at, "span_id is missing or all zero");
    detail::apply_span_flags(span, flags);
    detail::dedupe_attributes(span.attributes);
    detail::clamp_end(span);
}

// ---- Request ----------------------------------------------------------------------------

/// The string service.name of a Resource, or empty.
std::string_view service_name_of(std::string_view resource, const where& at) {
    std::string_view service;
    wire_reader r(resource, at, "Resource");
    std::size_t index = 0;
    while (r.next()) {
        if (r.number() != 1) continue;
        const where kv_at{&at, "attributes", index++};
        const key_value kv = read_key_value(r.len("attributes"), kv_at);
        if (kv.key != "service.name" || !kv.value) continue;
        const any_value_member v = read_any_value(*kv.value, kv_at);
        service = v.field == any_value_field::string_value ? v.payload : std::string_view{};
    }
    return service;
}

void read_scope_spans(std::string_view bytes, const where& at, detail::span_collector& out) {
    wire_reader r(bytes, at, "ScopeSpans");
    std::size_t index = 0;
    while (r.next()) {
        if (r.number() != 2) continue;  // 1 scope, 3 schema_url
        const where span_at{&at, "spans", index++};
        const std::string_view span = r.len("spans");
        read_span(span, span_at, out.new_span(span_at));
    }
}

void read_resource_spans(std::string_view bytes, const where& at, detail::span_collector& out) {
    // The resource may follow its spans on the wire: find it first. A repeated singular
    // message field merges, so for service.name the last one wins.
    std::string_view service;
    {
        wire_reader r(bytes, at, "ResourceSpans");
        while (r.next())
            if (r.number() == 1) {
                const std::string_view name = service_name_of(r.len("resource"), where{&at, "resource"});
                if (!name.empty()) service = name;
            }
    }
    out.begin_resource(service);
    wire_reader r(bytes, at, "ResourceSpans");
    std::size_t index = 0;
    while (r.next()) {
        if (r.number() != 2) continue;  // 1 resource (read above), 3 schema_url
        const where scope_at{&at, "scope_spans", index++};
        read_scope_spans(r.len("scope_spans"), scope_at, out);
    }
}

}  // namespace

decoded_spans decode_otlp_protobuf(std::string_view body, std::size_t max_spans) {
    detail::span_collector out(max_spans);
    const where root;
    wire_reader r(body, root, "ExportTraceServiceRequest");
    std::size_t index = 0;
    while (r.next()) {
        if (r.number() != 1) continue;
        const where resource_at{&root, "resource_spans", index++};
        read_resource_spans(r.len("resource_spans"), resource_at, out);
    }
    return std::move(out).finish();
}

}  // namespace tracegate::tracing
