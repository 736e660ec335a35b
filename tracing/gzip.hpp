// gzip (RFC 1952) for collector request bodies, with zlib.
#pragma once

#include <string>
#include <string_view>

namespace tracegate::tracing {

/// Replaces `out` with `data` gzip-compressed (zlib level 6 by default... see gzip.cpp).
/// Throws std::bad_alloc only.
void gzip_compress(std::string_view data, std::string& out);

/// Decompresses a gzip member; false when `data` is not valid gzip. For tests and for
/// reading compressed answers.
bool gzip_decompress(std::string_view data, std::string& out);

}  // namespace tracegate::tracing
