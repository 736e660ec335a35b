// Trace and span identifiers: fixed-size byte arrays with lowercase hex text forms.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tracegate::tracing {

/// A 128-bit trace id (https://www.w3.org/TR/trace-context/#trace-id).
/// All zero means "no trace id".
class trace_id {
public:
    /// Size in bytes.
    static constexpr std::size_t size = 16;
    /// Size of the text form: two hex digits per byte.
    static constexpr std::size_t hex_size = 2 * size;

    /// The all-zero (invalid) id.
    constexpr trace_id() noexcept = default;
    /// The id with these bytes, most significant first.
    constexpr explicit trace_id(const std::array<std::uint8_t, size>& bytes) noexcept
        : bytes_(bytes) {}

    /// The id whose high and low 64 bits are given (a 64-bit id has `high == 0`).
    static constexpr trace_id from_uint64(std::uint64_t high, std::uint64_t low) noexcept {
        trace_id id;
        for (std::size_t i = 0; i < 8; ++i) {
            id.bytes_[7 - i] = static_cast<std::uint8_t>(high >> (8 * i));
            id.bytes_[15 - i] = static_cast<std::uint8_t>(low >> (8 * i));
        }
        return id;
    }

    /// Parses exactly 32 lowercase hex digits; nullopt otherwise. Zero parses: check is_valid().
    static std::optional<trace_id> from_hex(std::string_view hex) noexcept;

    /// False for the all-zero id, which every format treats as invalid.
    constexpr bool is_valid() const noexcept { return high() != 0 || low() != 0; }
    /// The most significant 64 bits.
    constexpr std::uint64_t high() const noexcept { return load(0); }
    /// The least significant 64 bits (the whole id of a 64-bit trace id).
    constexpr std::uint64_t low() const noexcept { return load(8); }
    /// The bytes, most significant first.
    constexpr const std::array<std::uint8_t, size>& bytes() const noexcept { return bytes_; }

    /// Writes `hex_size` lowercase hex digits to `out`.
    void write_hex(char* out) const noexcept;
    /// The 32 lowercase hex digits.
    std::string to_hex() const;

    /// Byte-wise equality.
    friend constexpr bool operator==(const trace_id&, const trace_id&) = default;

private:
    constexpr std::uint64_t load(std::size_t offset) const noexcept {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < 8; ++i) value = value << 8 | bytes_[offset + i];
        return value;
    }

    std::array<std::uint8_t, size> bytes_{};
};

/// A 64-bit span id (https://www.w3.org/TR/trace-context/#parent-id). All zero means "no span id".
class span_id {
public:
    /// Size in bytes.
    static constexpr std::size_t size = 8;
    /// Size of the text form: two hex digits per byte.
    static constexpr std::size_t hex_size = 2 * size;

    /// The all-zero (invalid) id.
    constexpr span_id() noexcept = default;
    /// The id with these bytes, most significant first.
    constexpr explicit span_id(const std::array<std::uint8_t, size>& bytes) noexcept
        : bytes_(bytes) {}

    /// The id with this numeric value (big-endian bytes, as every format writes it).
    static constexpr span_id from_uint64(std::uint64_t value) noexcept {
        span_id id;
        for (std::size_t i = 0; i < size; ++i)
            id.bytes_[size - 1 - i] = static_cast<std::uint8_t>(value >> (8 * i));
        return id;
    }

    /// Parses exactly 16 lowercase hex digits; nullopt otherwise. Zero parses: check is_valid().
    static std::optional<span_id> from_hex(std::string_view hex) noexcept;

    /// False for the all-zero id, which every format treats as invalid.
    constexpr bool is_valid() const noexcept { return to_uint64() != 0; }
    /// The numeric value (Cloud Trace writes it in decimal).
    constexpr std::uint64_t to_uint64() const noexcept {
        std::uint64_t value = 0;
        for (const std::uint8_t byte : bytes_) value = value << 8 | byte;
        return value;
    }
    /// The bytes, most significant first.
    constexpr const std::array<std::uint8_t, size>& bytes() const noexcept { return bytes_; }

    /// Writes `hex_size` lowercase hex digits to `out`.
    void write_hex(char* out) const noexcept;
    /// The 16 lowercase hex digits.
    std::string to_hex() const;

    /// Byte-wise equality.
    friend constexpr bool operator==(const span_id&, const span_id&) = default;

private:
    std::array<std::uint8_t, size> bytes_{};
};

}  // namespace tracegate::tracing
