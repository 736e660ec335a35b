// Small allocation-free text helpers shared by the propagation formats (internal).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tracegate::tracing::detail {

/// Which letter case a hex field accepts. W3C, B3, X-Ray and Cloud Trace say lowercase;
/// Jaeger clients parse with strtoull-like functions that accept both.
enum class hex_case { lower_only, any };

/// Value of one hex digit, or -1 when `c` is not one in the accepted case.
constexpr int hex_digit_value(char c, hex_case accepted = hex_case::lower_only) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (accepted == hex_case::any && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// hex_digit_value() for every byte, as a table: ids are decoded on every request.
template <hex_case accepted>
inline constexpr auto hex_table = [] {
    std::array<std::int8_t, 256> table{};
    for (int c = 0; c < 256; ++c) table[c] = static_cast<std::int8_t>(hex_digit_value(static_cast<char>(c), accepted));
    return table;
}();

/// Decodes exactly `2 * out.size()` hex digits into `out`; false on a size mismatch or a bad digit.
constexpr bool decode_hex(std::string_view in, std::span<std::uint8_t> out,
                          hex_case accepted = hex_case::lower_only) noexcept {
    if (in.size() != 2 * out.size()) return false;
    const auto& table = accepted == hex_case::any ? hex_table<hex_case::any> : hex_table<hex_case::lower_only>;
    int bad = 0;  // any digit's -1 sets the sign bit; checked once, after the loop
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = table[static_cast<unsigned char>(in[2 * i])];
        const int lo = table[static_cast<unsigned char>(in[2 * i + 1])];
        bad |= hi | lo;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return bad >= 0;
}

/// Writes `2 * in.size()` lowercase hex digits to `out`.
constexpr void encode_hex(std::span<const std::uint8_t> in, char* out) noexcept {
    constexpr std::string_view digits = "0123456789abcdef";
    for (const std::uint8_t byte : in) {
        *out++ = digits[byte >> 4];
        *out++ = digits[byte & 0x0f];
    }
}

/// Parses 1 to 16 hex digits as an unsigned 64-bit number; nullopt otherwise.
constexpr std::optional<std::uint64_t> parse_hex_u64(std::string_view in,
                                                     hex_case accepted) noexcept {
    if (in.empty() || in.size() > 16) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : in) {
        const int digit = hex_digit_value(c, accepted);
        if (digit < 0) return std::nullopt;
        value = value << 4 | static_cast<std::uint64_t>(digit);
    }
    return value;
}

/// Parses 1 to 20 decimal digits as an unsigned 64-bit number; nullopt on overflow or a non-digit.
constexpr std::optional<std::uint64_t> parse_decimal_u64(std::string_view in) noexcept {
    if (in.empty() || in.size() > 20) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : in) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

/// True for RFC 9110 optional whitespace (SP / HTAB).
constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

/// `s` without leading and trailing SP / HTAB (RFC 9110 §5.6.3 OWS).
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

/// Splits `s` at every `sep` into `out`; returns the number of fields, or 0 when there are
/// more than `out.size()` (an empty `s` is one empty field).
constexpr std::size_t split(std::string_view s, char sep,
                            std::span<std::string_view> out) noexcept {
    std::size_t count = 0;
    for (;;) {
        if (count == out.size()) return 0;
        const auto pos = s.find(sep);
        out[count++] = s.substr(0, pos);
        if (pos == std::string_view::npos) return count;
        s.remove_prefix(pos + 1);
    }
}

}  // namespace tracegate::tracing::detail
