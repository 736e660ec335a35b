// Deterministic payloads and their digests, so that gigabyte bodies can be produced,
// relayed and verified without ever being held in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tracegate::test {

/// Largest piece pattern_data() can hand out at once.
inline constexpr std::size_t pattern_chunk = 64 * 1024;

/// The byte at `offset` of the endless test pattern (offset % 251: a prime period,
/// so a piece lost or repeated at any power-of-two boundary changes the digest).
std::uint8_t pattern_byte(std::uint64_t offset);

/// Pointer to at least pattern_chunk bytes of the pattern starting at `offset`.
const char* pattern_data(std::uint64_t offset);

/// Byte count and FNV-1a 64 of a byte stream, fed piece by piece.
struct body_digest {
    std::uint64_t bytes = 0;
    std::uint64_t fnv1a = 14695981039346656037ull;  ///< FNV-1a 64 offset basis.

    /// Adds `size` bytes to the digest.
    void update(const void* data, std::size_t size);
    /// "bytes=N fnv1a=0123456789abcdef": what the upstream's /sink answers.
    std::string to_string() const;
    friend bool operator==(const body_digest&, const body_digest&) = default;
};

/// Digest of the first `n` pattern bytes (computed once per n, then cached).
body_digest pattern_digest(std::uint64_t n);

}  // namespace tracegate::test
