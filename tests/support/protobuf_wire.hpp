// Test support: a small protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/),
// written apart from tracing/otlp_encoder.cpp so the encoder tests check its bytes against
// an independent reading. A message is parsed into its fields by number; nested messages
// are parsed on demand. Malformed input throws, which fails the test that reads it.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::tracing::test::pb {

/// The wire types proto3 uses (groups, 3 and 4, are errors here).
enum class wire : std::uint32_t { varint = 0, i64 = 1, len = 2, i32 = 5 };

/// One field as it appeared on the wire.
struct field {
    std::uint32_t number = 0;    ///< Field number.
    wire type = wire::varint;    ///< Wire type.
    std::uint64_t value = 0;     ///< VARINT, I64 or I32 value (I64/I32 read little-endian).
    std::string_view payload;    ///< LEN payload (a view into the parsed bytes).
};

/// A parsed message: its fields in wire order.
class message {
public:
    /// Parses `bytes` (which must outlive the message); throws std::runtime_error when malformed.
    static message parse(std::string_view bytes) {
        message m;
        std::size_t at = 0;
        while (at < bytes.size()) {
            const std::uint64_t tag = read_varint(bytes, at);
            field f;
            f.number = static_cast<std::uint32_t>(tag >> 3);
            if (f.number == 0) throw std::runtime_error("field number 0");
            switch (tag & 7) {
                case 0:
                    f.type = wire::varint;
                    f.value = read_varint(bytes, at);
                    break;
                case 1:
                    f.type = wire::i64;
                    f.value = read_little_endian(bytes, at, 8);
                    break;
                case 2: {
                    f.type = wire::len;
                    const std::uint64_t size = read_varint(bytes, at);
                    if (size > bytes.size() - at) throw std::runtime_error("length past the end");
                    f.payload = bytes.substr(at, static_cast<std::size_t>(size));
                    at += static_cast<std::size_t>(size);
                    break;
                }
                case 5:
                    f.type = wire::i32;
                    f.value = read_little_endian(bytes, at, 4);
                    break;
                default: throw std::runtime_error("unsupported wire type " + std::to_string(tag & 7));
            }
            m.fields_.push_back(f);
        }
        return m;
    }

    /// Every field, in wire order.
    const std::vector<field>& fields() const noexcept { return fields_; }

    /// How many times field `number` occurs.
    std::size_t count(std::uint32_t number) const {
        std::size_t n = 0;
        for (const auto& f : fields_) n += f.number == number;
        return n;
    }

    /// True when field `number` occurs.
    bool has(std::uint32_t number) const { return count(number) != 0; }

    /// The single occurrence of field `number` with wire type `type`; throws otherwise.
    const field& one(std::uint32_t number, wire type) const {
        const field* found = nullptr;
        for (const auto& f : fields_) {
            if (f.number != number) continue;
            if (found != nullptr) throw std::runtime_error("field " + std::to_string(number) + " repeated");
            found = &f;
        }
        if (found == nullptr) throw std::runtime_error("field " + std::to_string(number) + " missing");
        if (found->type != type) throw std::runtime_error("field " + std::to_string(number) + " has another wire type");
        return *found;
    }

    /// Field `number` as a varint.
    std::uint64_t varint(std::uint32_t number) const { return one(number, wire::varint).value; }
    /// Field `number` as a varint holding an int64 (two's complement, ten bytes when negative).
    std::int64_t int64(std::uint32_t number) const { return static_cast<std::int64_t>(varint(number)); }
    /// Field `number` as fixed64.
    std::uint64_t fixed64(std::uint32_t number) const { return one(number, wire::i64).value; }
    /// Field `number` as a double (fixed64 bits).
    double float64(std::uint32_t number) const {
        const std::uint64_t bits = fixed64(number);
        double value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }
    /// Field `number` as fixed32.
    std::uint32_t fixed32(std::uint32_t number) const {
        return static_cast<std::uint32_t>(one(number, wire::i32).value);
    }
    /// Field `number` as string or bytes.
    std::string_view bytes(std::uint32_t number) const { return one(number, wire::len).payload; }
    /// Field `number` as a nested message.
    message sub(std::uint32_t number) const { return parse(bytes(number)); }

    /// Every occurrence of a repeated message field, parsed.
    std::vector<message> repeated(std::uint32_t number) const {
        std::vector<message> out;
        for (const auto& f : fields_) {
            if (f.number != number) continue;
            if (f.type != wire::len) throw std::runtime_error("repeated field is not LEN");
            out.push_back(parse(f.payload));
        }
        return out;
    }

    /// True when the field numbers never decrease (how protobuf libraries serialize).
    bool in_field_order() const {
        for (std::size_t i = 1; i < fields_.size(); ++i)
            if (fields_[i].number < fields_[i - 1].number) return false;
        return true;
    }

private:
    static std::uint64_t read_varint(std::string_view bytes, std::size_t& at) {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (at >= bytes.size()) throw std::runtime_error("varint past the end");
            const auto byte = static_cast<unsigned char>(bytes[at++]);
            value |= std::uint64_t{byte & 0x7fu} << shift;
            if ((byte & 0x80) == 0) return value;
        }
        throw std::runtime_error("varint longer than ten bytes");
    }

    static std::uint64_t read_little_endian(std::string_view bytes, std::size_t& at, std::size_t size) {
        if (size > bytes.size() - at) throw std::runtime_error("fixed field past the end");
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < size; ++i)
            value |= std::uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
        at += size;
        return value;
    }

    std::vector<field> fields_;
};

}  // namespace tracegate::tracing::test::pb
