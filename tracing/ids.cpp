#include "tracing/ids.hpp"

#include "tracing/parse_util.hpp"

namespace tracegate::tracing {

std::optional<trace_id> trace_id::from_hex(std::string_view hex) noexcept {
    std::array<std::uint8_t, size> bytes{};
    if (!detail::decode_hex(hex, bytes)) return std::nullopt;
    return trace_id{bytes};
}

void trace_id::write_hex(char* out) const noexcept {
    detail::encode_hex(bytes_, out);
}

std::string trace_id::to_hex() const {
    std::string text(hex_size, '\0');
    write_hex(text.data());
    return text;
}

std::optional<span_id> span_id::from_hex(std::string_view hex) noexcept {
    std::array<std::uint8_t, size> bytes{};
    if (!detail::decode_hex(hex, bytes)) return std::nullopt;
    return span_id{bytes};
}

void span_id::write_hex(char* out) const noexcept {
    detail::encode_hex(bytes_, out);
}

std::string span_id::to_hex() const {
    std::string text(hex_size, '\0');
    write_hex(text.data());
    return text;
}

}  // namespace tracegate::tracing
