#include "tracing/w3c_trace_context_propagator.hpp"

#include "tracing/parse_util.hpp"
#include "tracing/tracestate.hpp"

#include <array>

namespace tracegate::tracing {
namespace {

// https://www.w3.org/TR/trace-context/#traceparent-header-field-values:
// version (2 hex) "-" trace-id (32 hex) "-" parent-id (16 hex) "-" trace-flags (2 hex).
constexpr std::size_t version_size = 2;
constexpr std::size_t flags_size = 2;
constexpr std::size_t trace_id_offset = version_size + 1;                         // 3
constexpr std::size_t span_id_offset = trace_id_offset + trace_id::hex_size + 1;  // 36
constexpr std::size_t flags_offset = span_id_offset + span_id::hex_size + 1;      // 53
constexpr std::size_t version_00_size = flags_offset + flags_size;                // 55

// https://www.w3.org/TR/trace-context/#version: "Version ff is invalid."
constexpr std::uint8_t invalid_version = 0xff;

// Flags kept from a higher version. #versioning-of-traceparent says to "parse the sampled
// bit of flags" and assume nothing about the rest; we also keep Level 2's random bit, whose
// meaning later versions extend rather than change.
constexpr std::uint8_t known_flags = sampled_flag | random_flag;

std::optional<std::uint8_t> parse_hex_byte(std::string_view two) noexcept {
    std::array<std::uint8_t, 1> byte{};
    if (!detail::decode_hex(two, byte)) return std::nullopt;  // HEXDIGLC: lowercase only
    return byte[0];
}

constexpr std::array<std::string_view, 2> field_names = {
    w3c_trace_context_propagator::traceparent_header,
    w3c_trace_context_propagator::tracestate_header,
};

}  // namespace

std::optional<span_context> w3c_trace_context_propagator::parse_traceparent(
    std::string_view value) noexcept {
    // HTTP strips OWS around field values (RFC 9110 §5.5); do the same for carriers that don't.
    value = detail::trim_ows(value);
    if (value.size() < version_00_size) return std::nullopt;

    const auto version = parse_hex_byte(value.substr(0, version_size));
    if (!version || *version == invalid_version) return std::nullopt;
    // #version-format / #versioning-of-traceparent: version 00 is exactly 55 characters. A higher
    // version is parsed by its first four fields, which must be followed by "-" or the end.
    if (*version == 0 && value.size() != version_00_size) return std::nullopt;
    if (value.size() > version_00_size && value[version_00_size] != '-') return std::nullopt;

    if (value[trace_id_offset - 1] != '-' || value[span_id_offset - 1] != '-' ||
        value[flags_offset - 1] != '-')
        return std::nullopt;

    // #trace-id / #parent-id: lowercase hex; all-zero trace-id and parent-id are invalid.
    const auto trace = trace_id::from_hex(value.substr(trace_id_offset, trace_id::hex_size));
    if (!trace || !trace->is_valid()) return std::nullopt;
    const auto span = span_id::from_hex(value.substr(span_id_offset, span_id::hex_size));
    if (!span || !span->is_valid()) return std::nullopt;
    const auto flags = parse_hex_byte(value.substr(flags_offset, flags_size));
    if (!flags) return std::nullopt;

    span_context ctx;
    ctx.trace_id = *trace;
    ctx.span_id = *span;
    // #trace-flags: version 00 flags are kept as received (including the Level 2 random bit
    // and bits not yet defined), so a forwarded context says what the sender said.
    ctx.trace_flags = *version == 0 ? *flags : static_cast<std::uint8_t>(*flags & known_flags);
    ctx.is_remote = true;
    return ctx;
}

namespace {

/// Writes the 55 characters of a version-00 traceparent for `ctx` at `out`.
void write_traceparent(const span_context& ctx, char* out) noexcept {
    out[0] = '0';
    out[1] = '0';
    out[trace_id_offset - 1] = '-';
    out[span_id_offset - 1] = '-';
    out[flags_offset - 1] = '-';
    ctx.trace_id.write_hex(out + trace_id_offset);
    ctx.span_id.write_hex(out + span_id_offset);
    const std::array<std::uint8_t, 1> flags{ctx.trace_flags};
    detail::encode_hex(flags, out + flags_offset);
}

}  // namespace

std::string w3c_trace_context_propagator::format_traceparent(const span_context& ctx) {
    std::string out(version_00_size, '-');
    write_traceparent(ctx, out.data());
    return out;
}

std::optional<span_context> w3c_trace_context_propagator::extract(const carrier& headers) const {
    const auto traceparent = headers.get(traceparent_header);
    if (!traceparent) return std::nullopt;
    auto ctx = parse_traceparent(*traceparent);
    if (!ctx) return std::nullopt;
    // #tracestate-header: "failure to parse tracestate MUST NOT affect the parsing of
    // traceparent" — a bad tracestate is dropped whole, the traceparent stands.
    if (const auto tracestate = headers.get(tracestate_header)) {
        if (auto parsed = parse_tracestate(*tracestate)) ctx->tracestate = std::move(*parsed);
    }
    return ctx;
}

void w3c_trace_context_propagator::inject(const span_context& ctx, carrier& headers) const {
    if (!ctx.is_valid()) return;
    // Formatted on the stack: the request path makes no allocation for it.
    char traceparent[version_00_size];
    write_traceparent(ctx, traceparent);
    headers.set(traceparent_header, std::string_view(traceparent, version_00_size));
    // #tracestate-header-field-values: vendors "SHOULD avoid sending" an empty tracestate.
    if (ctx.tracestate.empty())
        headers.remove(tracestate_header);
    else if (ctx.tracestate.size() <= tracestate_propagated_size)
        headers.set(tracestate_header, ctx.tracestate);
    else  // the tracer may have added its own member to a full list
        headers.set(tracestate_header, truncate_tracestate(ctx.tracestate));
}

std::span<const std::string_view> w3c_trace_context_propagator::fields() const noexcept {
    return field_names;
}

}  // namespace tracegate::tracing
