#include "routing/path.hpp"

namespace tracegate::routing {

bool has_dot_segments(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        const auto segment = path.substr(start, end - start);
        if (segment == "." || segment == "..") return true;
        start = end + 1;
    }
    return false;
}

std::string normalize_path(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    std::size_t start = path.starts_with('/') ? 1 : 0;
    bool trailing_slash = false;
    while (start <= path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        const auto segment = path.substr(start, end - start);
        const bool last = end == path.size();
        if (segment == ".") {
            trailing_slash = last;  // "/a/." names the directory "/a/"
        } else if (segment == "..") {
            const auto slash = out.rfind('/');
            out.erase(slash == std::string::npos ? 0 : slash);
            trailing_slash = last;
        } else {
            out += '/';
            out += segment;
            trailing_slash = false;
        }
        start = end + 1;
    }
    if (trailing_slash || out.empty()) out += '/';
    return out;
}

namespace {

bool is_encoded(std::string_view path, std::size_t i, char hi, char lo) {
    return i + 2 < path.size() && path[i] == '%' && path[i + 1] == hi &&
           (path[i + 2] == lo || path[i + 2] == static_cast<char>(lo - 'A' + 'a'));
}

/// `path` with %2E / %2e decoded to '.'; the same string when there is none.
std::string decode_dots(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (is_encoded(path, i, '2', 'E')) {
            out += '.';
            i += 2;
        } else {
            out += path[i];
        }
    }
    return out;
}

/// The length of a segment's name: up to its first ';' or %3B (path parameters, which
/// Tomcat and Jetty cut off after decoding).
std::size_t name_length(std::string_view segment) {
    for (std::size_t i = 0; i < segment.size(); ++i)
        if (segment[i] == ';' || is_encoded(segment, i, '3', 'B')) return i;
    return segment.size();
}

/// True when a segment, as a lenient upstream splits and trims it, is "." or "..":
/// separators are '/', '\\', %2F and %5C; ";..." or "%3B..." ends a segment's name.
bool lenient_dot_segment(std::string_view path) {
    std::size_t i = 0;
    while (i <= path.size()) {
        std::size_t end = i;
        while (end < path.size() && path[end] != '/' && path[end] != '\\' &&
               !is_encoded(path, end, '2', 'F') && !is_encoded(path, end, '5', 'C'))
            ++end;
        auto segment = path.substr(i, end - i);
        segment = segment.substr(0, name_length(segment));
        if (segment == "." || segment == "..") return true;
        i = end + (end < path.size() && path[end] == '%' ? 3 : 1);
    }
    return false;
}

}  // namespace

resolved_path resolve_dot_segments(std::string_view path) {
    resolved_path result;
    const bool encoded_dot = path.find('%') != std::string_view::npos &&
                             (path.find("%2e") != std::string_view::npos ||
                              path.find("%2E") != std::string_view::npos);
    const std::string decoded = encoded_dot ? decode_dots(path) : std::string();
    const std::string_view plain = encoded_dot ? std::string_view(decoded) : path;
    // No dot segment once decoded ("/a%2Etxt"): forwarded as the client wrote it.
    if (has_dot_segments(plain)) {
        result.outcome = resolved_path::verdict::rewritten;
        result.path = normalize_path(plain);
    }
    const std::string_view checked =
        result.outcome == resolved_path::verdict::rewritten ? std::string_view(result.path) : plain;
    if (lenient_dot_segment(checked)) {
        result.outcome = resolved_path::verdict::refused;
        result.path.clear();
    }
    return result;
}

}  // namespace tracegate::routing
