// The request path before routing (routing/path.hpp): dot segments removed or refused in
// every form an upstream may read one (issue 13, finding 6). Input: a request path.
//
// Checked: normalize_path gives an absolute path without dot segments and is idempotent;
// what resolve_dot_segments lets through (as it is or rewritten), read by the most lenient
// upstream (every %XX decoded once, '\' a separator, ";params" cut), has no "." or ".."
// segment, and resolving it again changes nothing.
#include "routing/path.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstdint>
#include <string>

using namespace tracegate;

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// True when an upstream that percent-decodes once and splits on '/' and '\' sees a dot
/// segment (Tomcat and Jetty also end a segment's name at ';').
bool lenient_upstream_sees_dot_segment(std::string_view path) {
    std::string decoded;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '%' && i + 2 < path.size() && hex(path[i + 1]) >= 0 && hex(path[i + 2]) >= 0) {
            decoded += static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2]));
            i += 2;
        } else {
            decoded += path[i];
        }
    }
    std::size_t start = 0;
    while (start <= decoded.size()) {
        std::size_t end = decoded.find_first_of("/\\", start);
        if (end == std::string::npos) end = decoded.size();
        std::string_view segment(decoded.data() + start, end - start);
        segment = segment.substr(0, segment.find(';'));
        if (segment == "." || segment == "..") return true;
        start = end + 1;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view path = fuzz::as_text(data, size);

    const std::string normal = routing::normalize_path(path);
    TG_FUZZ_CHECK(normal.starts_with('/'));
    TG_FUZZ_CHECK(!routing::has_dot_segments(normal));
    TG_FUZZ_CHECK(routing::normalize_path(normal) == normal);

    using verdict = routing::resolved_path::verdict;
    const auto resolved = routing::resolve_dot_segments(path);
    if (resolved.outcome == verdict::refused) return 0;  // 400
    const std::string_view forwarded = resolved.outcome == verdict::rewritten ? std::string_view(resolved.path) : path;
    TG_FUZZ_CHECK(!routing::has_dot_segments(forwarded));
    if (lenient_upstream_sees_dot_segment(forwarded)) {
        std::fprintf(stderr, "forwarded \"%.*s\" holds a dot segment for a lenient upstream\n",
                     static_cast<int>(forwarded.size()), forwarded.data());
        TG_FUZZ_CHECK(!"a path let through has no dot segment in any reading");
    }
    if (resolved.outcome == verdict::rewritten)
        TG_FUZZ_CHECK(routing::resolve_dot_segments(resolved.path).outcome == verdict::unchanged);
    return 0;
}
