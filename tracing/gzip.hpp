// gzip (RFC 1952) for collector request bodies, with zlib.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tracegate::tracing {

/// Replaces `out` with `data` as one gzip member at zlib level 6 (zlib's default and what
/// the OpenTelemetry SDKs send). Reuses `out`'s capacity. Throws std::bad_alloc only.
void gzip_compress(std::string_view data, std::string& out);

/// What gzip_decompress produces at most unless told otherwise: a guard against a small
/// body that inflates to gigabytes.
inline constexpr std::size_t gzip_max_decompressed = std::size_t{64} << 20;

/// Replaces `out` with the decompressed `data`: one or more gzip members (RFC 1952 2.2),
/// nothing else. False, with `out` unspecified, when `data` is not valid gzip (bad header,
/// CRC or length, truncated, trailing garbage, zlib or raw deflate) or inflates to more
/// than `max_size` bytes. For tests and for reading compressed answers.
bool gzip_decompress(std::string_view data, std::string& out,
                     std::size_t max_size = gzip_max_decompressed);

/// How gzip_inflate ended.
enum class inflate_result { ok, invalid, too_large };

/// gzip_decompress, telling a body that inflates past `max_size` (too_large) from one
/// that is not valid gzip (invalid): a receiver answers 413 for one, 400 for the other.
inflate_result gzip_inflate(std::string_view data, std::string& out, std::size_t max_size);

}  // namespace tracegate::tracing
