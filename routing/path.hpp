// Request path normalization, so that a route and the upstream agree on what a path is.
#pragma once

#include <string>
#include <string_view>

namespace tracegate::routing {

/// True when `path` has a "." or ".." segment (RFC 3986 3.3), which normalize_path removes.
bool has_dot_segments(std::string_view path);

/// `path` with dot segments removed (RFC 3986 5.2.4): "/public/../admin" -> "/admin".
/// Without this, a prefix route for /public would send /public/../admin to an upstream
/// that resolves it to /admin. Never climbs above "/".
std::string normalize_path(std::string_view path);

}  // namespace tracegate::routing
