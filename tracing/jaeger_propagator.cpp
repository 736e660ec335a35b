#include "tracing/jaeger_propagator.hpp"

#include "tracing/parse_util.hpp"

#include <array>

namespace tracegate::tracing {
namespace {

constexpr std::array<std::string_view, 1> field_names = {jaeger_propagator::trace_header};

// Flags: "One byte bitmap, as two hex digits" — bit 1 sampled, bit 2 debug.
constexpr std::uint64_t jaeger_sampled = 0x01;
constexpr std::uint64_t jaeger_debug = 0x02;
constexpr std::size_t max_flags_digits = 2;

// The longest value: 32 + 1 + 16 + 1 + 16 + 1 + 2 = 69 characters; URL-encoded, each of
// the three separators grows from 1 to 3 characters (75). A bound for the decode buffer.
constexpr std::size_t max_value_size = 32 + 16 + 16 + 2 + 3 * 3;

// Jaeger clients URL-encode the value in some setups ("%3A" for ':'). Only a value
// without a literal ':' is decoded, and only the separator escape is understood.
std::optional<std::string_view> decode_separators(std::string_view value,
                                                  std::array<char, max_value_size>& buffer) {
    if (value.find(':') != std::string_view::npos) return value;
    if (value.size() > buffer.size()) return std::nullopt;
    std::size_t out = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '%') {
            const std::string_view escape = value.substr(i, 3);
            if (escape != "%3A" && escape != "%3a") return std::nullopt;
            buffer[out++] = ':';
            i += 2;
        } else {
            buffer[out++] = value[i];
        }
    }
    return std::string_view(buffer.data(), out);
}

}  // namespace

std::optional<span_context> jaeger_propagator::parse(std::string_view value) noexcept {
    std::array<char, max_value_size> buffer{};
    const auto decoded = decode_separators(detail::trim_ows(value), buffer);
    if (!decoded) return std::nullopt;

    std::array<std::string_view, 4> parts{};
    if (detail::split(*decoded, ':', parts) != parts.size()) return std::nullopt;
    const auto [trace_text, span_text, parent_text, flags_text] = parts;
    constexpr auto any_case = detail::hex_case::any;

    span_context ctx;
    ctx.is_remote = true;
    // trace-id: "64-bit or 128-bit random number in base16 format. Can be variable length,
    // shorter values are 0-padded on the left. Value of 0 is invalid."
    if (trace_text.empty() || trace_text.size() > trace_id::hex_size) return std::nullopt;
    const std::size_t split_at = trace_text.size() > 16 ? trace_text.size() - 16 : 0;
    const auto high = split_at == 0
                          ? std::optional<std::uint64_t>(0)
                          : detail::parse_hex_u64(trace_text.substr(0, split_at), any_case);
    const auto low = detail::parse_hex_u64(trace_text.substr(split_at), any_case);
    if (!high || !low) return std::nullopt;
    ctx.trace_id = trace_id::from_uint64(*high, *low);
    if (!ctx.trace_id.is_valid()) return std::nullopt;
    ctx.trace_id_64bit = trace_text.size() <= span_id::hex_size;

    // span-id: 64-bit, same encoding; 0 is not a span.
    const auto span = detail::parse_hex_u64(span_text, any_case);
    if (!span || *span == 0) return std::nullopt;
    ctx.span_id = span_id::from_uint64(*span);

    // parent-span-id: "0 value is valid and means root span".
    const auto parent = detail::parse_hex_u64(parent_text, any_case);
    if (!parent) return std::nullopt;
    if (*parent != 0) ctx.parent_span_id = span_id::from_uint64(*parent);

    if (flags_text.size() > max_flags_digits) return std::nullopt;
    const auto flags = detail::parse_hex_u64(flags_text, any_case);
    if (!flags) return std::nullopt;
    ctx.debug = (*flags & jaeger_debug) != 0;
    // The debug flag is only meaningful with sampled set; treat debug as forcing it.
    ctx.set_sampling_decision((*flags & jaeger_sampled) != 0 || ctx.debug);
    return ctx;
}

std::string jaeger_propagator::format(const span_context& ctx) {
    std::string out = ctx.trace_id_64bit && ctx.trace_id.high() == 0
                          ? span_id::from_uint64(ctx.trace_id.low()).to_hex()
                          : ctx.trace_id.to_hex();
    out += ':';
    out += ctx.span_id.to_hex();
    out += ':';
    out += ctx.parent_span_id ? ctx.parent_span_id->to_hex() : "0";
    out += ':';
    const std::uint64_t flags =
        (ctx.sampled() ? jaeger_sampled : 0) | (ctx.debug ? jaeger_debug : 0);
    out += static_cast<char>('0' + flags);  // 0..3: one hex digit
    return out;
}

std::optional<span_context> jaeger_propagator::extract(const carrier& headers) const {
    const auto value = headers.get(trace_header);
    if (!value) return std::nullopt;
    return parse(*value);
}

void jaeger_propagator::inject(const span_context& ctx, carrier& headers) const {
    if (!ctx.is_valid()) return;
    headers.set(trace_header, format(ctx));
}

std::span<const std::string_view> jaeger_propagator::fields() const noexcept {
    return field_names;
}

}  // namespace tracegate::tracing
