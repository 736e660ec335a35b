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

/// What a request path becomes before routing.
struct resolved_path {
    enum class verdict {
        unchanged,  ///< no dot segment in any reading: route and forward as it is
        rewritten,  ///< `path` holds it without dot segments (literal or %2E-encoded)
        refused,    ///< a dot segment only some upstreams see: answer 400
    };
    verdict outcome = verdict::unchanged;
    std::string path;  ///< set when rewritten
};

/// Resolves dot segments in every form an upstream may read one, so a prefix route
/// cannot be climbed out of. "." encoded as %2E is the same character (RFC 3986 6.2.2.2):
/// decoded, then the segments are removed as normalize_path does. What still reads as a
/// dot segment to a lenient upstream is refused: one split by an encoded slash (%2F,
/// %5C), a backslash, or followed by ";params" ("..;/" is ".." to Tomcat and Jetty).
resolved_path resolve_dot_segments(std::string_view path);

}  // namespace tracegate::routing
