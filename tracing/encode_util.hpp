// Text helpers shared by the span encoders (internal): UTF-8 repair, JSON strings and
// numbers, hex ids, RFC 3339 times. Header-only so each encoder inlines them.
//
// Span strings come from request headers and may hold any bytes. Every wire format here
// requires UTF-8 (RFC 8259 §8.1 for JSON; proto3 `string` fields are rejected by
// collectors when ill-formed), so each byte that is not part of a well-formed sequence is
// written as U+FFFD: one bad User-Agent must not make a collector refuse a whole batch.
#pragma once

#include "tracing/ids.hpp"
#include "tracing/span_data.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace tracegate::tracing::detail {

/// U+FFFD REPLACEMENT CHARACTER in UTF-8, written for each ill-formed byte.
inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

/// Size of the well-formed UTF-8 sequence starting at `s[i]` (1 to 4 bytes), or 0 when
/// none starts there. Table 3-7 of Unicode 15 §3.9 / RFC 3629 §4: no overlong forms, no
/// surrogates (ED A0..BF), nothing above U+10FFFF.
constexpr std::size_t utf8_sequence_size(std::string_view s, std::size_t i) noexcept {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const auto continuation = [&](std::size_t k) { return (at(k) & 0xC0) == 0x80; };
    const unsigned char lead = at(0);
    const std::size_t left = s.size() - i;
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return left >= 2 && continuation(1) ? 2 : 0;
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (left < 3) return 0;
        const unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
        const unsigned char high = lead == 0xED ? 0x9F : 0xBF;
        return at(1) >= low && at(1) <= high && continuation(2) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (left < 4) return 0;
        const unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
        const unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
        return at(1) >= low && at(1) <= high && continuation(2) && continuation(3) ? 4 : 0;
    }
    return 0;
}

/// True when every byte of `s` is ASCII (the common case): 8 bytes at a time, the tail
/// read as an overlapping word, so short strings cost a load or two.
inline bool is_ascii(std::string_view s) noexcept {
    constexpr std::uint64_t high_bits = 0x8080808080808080ull;
    const char* p = s.data();
    const std::size_t n = s.size();
    const auto load = [p]<typename Word>(std::size_t at, Word) {
        Word word;
        std::memcpy(&word, p + at, sizeof word);
        return std::uint64_t{word};
    };
    std::uint64_t any = 0;
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8) any |= load(i, std::uint64_t{});
        any |= load(n - 8, std::uint64_t{});
    } else if (n >= 4) {
        any = load(0, std::uint32_t{}) | load(n - 4, std::uint32_t{});
    } else {
        for (std::size_t i = 0; i < n; ++i) any |= static_cast<unsigned char>(p[i]);
    }
    return (any & high_bits) == 0;
}

/// utf8_repaired_size() for a string that is not all ASCII (kept out of line: rare).
[[gnu::noinline]] inline std::size_t utf8_repaired_size_slow(std::string_view s) noexcept {
    std::size_t size = 0;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence_size(s, i);
        size += n != 0 ? n : replacement_character.size();
        i += n != 0 ? n : 1;
    }
    return size;
}

/// Size of `s` once each ill-formed byte is replaced by U+FFFD; `s.size()` for valid UTF-8.
inline std::size_t utf8_repaired_size(std::string_view s) noexcept {
    return is_ascii(s) ? s.size() : utf8_repaired_size_slow(s);
}

/// write_utf8_repaired() for a string that is not all ASCII (kept out of line: rare).
[[gnu::noinline]] inline char* write_utf8_repaired_slow(std::string_view s, char* out) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence_size(s, i);
        if (n != 0) {
            std::memcpy(out, s.data() + i, n);
            out += n;
            i += n;
        } else {
            std::memcpy(out, replacement_character.data(), replacement_character.size());
            out += replacement_character.size();
            ++i;
        }
    }
    return out;
}

/// Writes `s` to `out` with each ill-formed byte replaced by U+FFFD; returns the end.
inline char* write_utf8_repaired(std::string_view s, char* out) noexcept {
    if (!is_ascii(s)) return write_utf8_repaired_slow(s, out);
    if (!s.empty()) std::memcpy(out, s.data(), s.size());
    return out + s.size();
}

/// A prefix of a string cut to a byte limit.
struct utf8_prefix {
    std::size_t input_size = 0;   ///< Bytes of the original string kept.
    std::size_t output_size = 0;  ///< Bytes they take once repaired (at most the limit).
};

/// The longest prefix of `s` that ends on a character boundary and takes at most `limit`
/// bytes once repaired: a multi-byte character is never split.
inline utf8_prefix utf8_prefix_within(std::string_view s, std::size_t limit) noexcept {
    if (s.size() <= limit && is_ascii(s)) return {s.size(), s.size()};
    utf8_prefix prefix;
    while (prefix.input_size < s.size()) {
        const std::size_t n = utf8_sequence_size(s, prefix.input_size);
        const std::size_t written = n != 0 ? n : replacement_character.size();
        if (prefix.output_size + written > limit) break;
        prefix.input_size += n != 0 ? n : 1;
        prefix.output_size += written;
    }
    return prefix;
}

/// Proto3 JSON's spelling of a non-finite double ("NaN", "Infinity", "-Infinity"). JSON
/// numbers cannot hold them, so every encoder writes these words as strings.
inline std::string_view non_finite_name(double value) noexcept {
    if (std::isnan(value)) return "NaN";
    return value < 0 ? "-Infinity" : "Infinity";
}

/// True when one of the 8 bytes of `word` needs more than a copy inside a JSON string:
/// a control character, `"`, `\`, or a non-ASCII byte (its UTF-8 is checked). SWAR tests
/// (exact for "any byte"): x - 0x01.. & ~x & 0x80.. is non-zero when a byte of x is 0.
constexpr bool json_word_needs_care(std::uint64_t word) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t high = 0x8080808080808080ull;
    const auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & high; };
    const std::uint64_t below_space = (word - ones * 0x20) & ~word & high;
    return ((word & high) | below_space | has_zero(word ^ (ones * '"')) | has_zero(word ^ (ones * '\\'))) != 0;
}

/// Most bytes one input byte takes inside a JSON string (`\u00XX`).
inline constexpr std::size_t max_escaped_bytes_per_byte = 6;

/// Writes the characters of `s` escaped for the inside of a JSON string (RFC 8259 §7) to
/// `out`, which has room for max_escaped_bytes_per_byte * s.size() bytes: `"` and `\`
/// escaped, control characters as \b \f \n \r \t or \u00XX, ill-formed UTF-8 replaced by
/// U+FFFD. Returns the end. Runs of plain ASCII are copied 8 bytes at a time.
inline char* write_json_escaped(std::string_view s, char* out) noexcept {
    static constexpr char hex[] = "0123456789abcdef";
    const char* in = s.data();
    const std::size_t n = s.size();
    std::size_t i = 0;
    for (;;) {
        for (; i + 8 <= n; i += 8, out += 8) {
            std::uint64_t word;
            std::memcpy(&word, in + i, 8);
            if (json_word_needs_care(word)) break;
            std::memcpy(out, &word, 8);
        }
        if (i >= n) return out;
        // One character the slow way, then back to words.
        const auto c = static_cast<unsigned char>(in[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *out++ = static_cast<char>(c);
            ++i;
            continue;
        }
        if (c >= 0x80) {
            const std::size_t size = utf8_sequence_size(s, i);
            if (size != 0) {
                std::memcpy(out, in + i, size);
                out += size;
                i += size;
            } else {
                std::memcpy(out, replacement_character.data(), replacement_character.size());
                out += replacement_character.size();
                ++i;
            }
            continue;
        }
        *out++ = '\\';
        switch (c) {
            case '"': *out++ = '"'; break;
            case '\\': *out++ = '\\'; break;
            case '\b': *out++ = 'b'; break;
            case '\f': *out++ = 'f'; break;
            case '\n': *out++ = 'n'; break;
            case '\r': *out++ = 'r'; break;
            case '\t': *out++ = 't'; break;
            default:
                *out++ = 'u';
                *out++ = '0';
                *out++ = '0';
                *out++ = hex[c >> 4];
                *out++ = hex[c & 0x0f];
        }
        ++i;
    }
}

/// Writes JSON text after what a std::string already holds. Each piece first makes sure of
/// room for its worst case, then is stored through a plain pointer, so a small piece is a
/// compare and a few stores rather than a std::string call. The string holds spare bytes
/// while writing; finish() (or the destructor) cuts it to what was written.
class json_writer {
public:
    /// Writes after the current contents of `out`.
    explicit json_writer(std::string& out) noexcept : out_(out), size_(out.size()) {}
    json_writer(const json_writer&) = delete;
    json_writer& operator=(const json_writer&) = delete;
    /// Calls finish().
    ~json_writer() { finish(); }

    /// Cuts the string to what was written. Writing may go on afterwards.
    void finish() noexcept { out_.resize(size_); }  // shrinking never allocates

    /// Makes room for at least `bytes` more without growing again.
    void reserve(std::size_t bytes) {
        if (out_.size() - size_ < bytes) grow(bytes);
    }

    /// Bytes written since construction plus what the string held before.
    std::size_t size() const noexcept { return size_; }

    /// Appends `text` as it is (JSON punctuation and names).
    void raw(std::string_view text) {
        char* p = room(text.size());
        std::memcpy(p, text.data(), text.size());
        size_ += text.size();
    }

    /// Appends one character as it is.
    void raw(char c) {
        *room(1) = c;
        ++size_;
    }

    /// Appends the characters of `s` escaped, without quotes.
    void escaped(std::string_view s) {
        char* p = room(max_escaped_bytes_per_byte * s.size());
        size_ = static_cast<std::size_t>(write_json_escaped(s, p) - out_.data());
    }

    /// Appends `s` as a quoted JSON string.
    void string(std::string_view s) {
        char* p = room(max_escaped_bytes_per_byte * s.size() + 2);
        *p++ = '"';
        p = write_json_escaped(s, p);
        *p++ = '"';
        size_ = static_cast<std::size_t>(p - out_.data());
    }

    /// Appends an integer in decimal.
    template <typename Integer>
    void decimal(Integer value) {
        char* p = room(24);
        size_ = static_cast<std::size_t>(std::to_chars(p, p + 24, value).ptr - out_.data());
    }

    /// Appends an integer in decimal between quotes: proto3 JSON's form of 64-bit integers.
    template <typename Integer>
    void quoted_decimal(Integer value) {
        char* p = room(26);
        *p++ = '"';
        p = std::to_chars(p, p + 24, value).ptr;
        *p++ = '"';
        size_ = static_cast<std::size_t>(p - out_.data());
    }

    /// Appends a finite `value` in the shortest form that reads back to the same double
    /// (std::to_chars, e.g. "0.25", "3", "1e+300").
    void shortest(double value) {
        char* p = room(32);
        size_ = static_cast<std::size_t>(std::to_chars(p, p + 32, value).ptr - out_.data());
    }

    /// Appends `value` as a JSON value: a number that reads back as a double ("3.0", not
    /// "3", so parsers keep the type), or the quoted non_finite_name() for NaN and infinities.
    void json_double(double value) {
        if (!std::isfinite(value)) {
            string(non_finite_name(value));
            return;
        }
        const std::size_t start = size_;
        shortest(value);
        const std::string_view digits(out_.data() + start, size_ - start);
        if (digits.find_first_of(".e") == std::string_view::npos) raw(".0");
    }

    /// Appends the 32 lowercase hex digits of `id`.
    void hex(const trace_id& id) {
        id.write_hex(room(trace_id::hex_size));
        size_ += trace_id::hex_size;
    }

    /// Appends the 16 lowercase hex digits of `id`.
    void hex(const span_id& id) {
        id.write_hex(room(span_id::hex_size));
        size_ += span_id::hex_size;
    }

    /// Appends `unix_nanos` as an RFC 3339 UTC time with nine fractional digits,
    /// e.g. `2023-11-14T22:13:20.000000001Z` (the proto3 JSON form of a Timestamp).
    void rfc3339(std::uint64_t unix_nanos) {
        using namespace std::chrono;
        constexpr std::uint64_t nanos_per_second = 1'000'000'000;
        constexpr std::uint64_t seconds_per_day = 86'400;
        constexpr std::string_view layout = "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ";
        const std::uint64_t seconds = unix_nanos / nanos_per_second;
        const auto fraction = static_cast<std::uint32_t>(unix_nanos % nanos_per_second);
        const year_month_day date{sys_days{days{static_cast<days::rep>(seconds / seconds_per_day)}}};
        const auto of_day = static_cast<std::uint32_t>(seconds % seconds_per_day);
        char* text = room(layout.size());
        std::memcpy(text, layout.data(), layout.size());
        const auto put = [text](std::size_t at, std::uint32_t value, std::size_t digits) {
            for (std::size_t k = digits; k-- > 0; value /= 10) text[at + k] = static_cast<char>('0' + value % 10);
        };
        // A uint64 of nanoseconds ends in 2554, so the year always has four digits.
        put(0, static_cast<std::uint32_t>(static_cast<int>(date.year())), 4);
        put(5, static_cast<unsigned>(date.month()), 2);
        put(8, static_cast<unsigned>(date.day()), 2);
        put(11, of_day / 3600, 2);
        put(14, of_day / 60 % 60, 2);
        put(17, of_day % 60, 2);
        put(20, fraction, 9);
        size_ += layout.size();
    }

private:
    char* room(std::size_t bytes) {
        reserve(bytes);
        return out_.data() + size_;
    }

    [[gnu::noinline]] void grow(std::size_t bytes) {
        out_.resize(std::max(2 * out_.size(), size_ + bytes + 256));
    }

    std::string& out_;
    std::size_t size_;  // bytes written; out_.size() is the room
};

/// Bytes a format spends around each part of a span, beyond the text it copies.
struct size_costs {
    std::size_t per_span;
    std::size_t per_attribute;
    std::size_t per_event;
    std::size_t per_link;
    std::size_t per_link_attribute;
};

/// A generous guess of an encoding's size, so the output grows at most once per batch.
inline std::size_t estimate_size(std::span<const span_data> spans, const size_costs& costs) noexcept {
    std::size_t size = 0;
    for (const auto& s : spans) {
        size += costs.per_span + s.name.size() + s.tracestate.size() + s.status_message.size();
        for (const auto& a : s.attributes) {
            size += a.key.size() + costs.per_attribute;
            if (const auto* text = std::get_if<std::string>(&a.value)) size += text->size();
        }
        for (const auto& e : s.events) size += e.name.size() + costs.per_event;
        for (const auto& l : s.links)
            size += costs.per_link + l.context.tracestate.size() + costs.per_link_attribute * l.attributes.size();
    }
    return size;
}

}  // namespace tracegate::tracing::detail
