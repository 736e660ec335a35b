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

}  // namespace tracegate::routing
