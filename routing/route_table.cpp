#include "routing/route_table.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <stdexcept>

namespace tracegate::routing {

namespace {

char to_lower_ascii(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::size_t find_upstream(const config::settings& settings, const config::route_config& rc) {
    const auto& upstreams = settings.upstreams;
    const auto it = std::find_if(upstreams.begin(), upstreams.end(),
                                 [&](const config::upstream_config& u) { return u.name == rc.upstream; });
    // The loader guarantees the name exists. We still throw rather than assert: an assert
    // vanishes in release builds and would leave a route pointing at the wrong upstream.
    if (it == upstreams.end()) {
        throw std::invalid_argument("route '" + rc.name + "' names unknown upstream '" +
                                    rc.upstream + "'");
    }
    return static_cast<std::size_t>(it - upstreams.begin());
}

re2::RE2::Options path_regex_options() {
    re2::RE2::Options options;
    options.set_log_errors(false);  // the error goes into the config error, not to stderr
    return options;
}

std::shared_ptr<const re2::RE2> compile_path_regex(const config::route_config& rc) {
    auto compiled = std::make_shared<const re2::RE2>(*rc.match.path_regex, path_regex_options());
    if (!compiled->ok())
        throw std::invalid_argument("route '" + rc.name + "' has an invalid path_regex '" +
                                    *rc.match.path_regex + "': " + compiled->error());
    return compiled;
}

}  // namespace

bool route::matches(const request_view& request) const {
    return matches(request, config.match.host ? normalize_host(request.host()) : std::string());
}

bool route::matches(const request_view& request, std::string_view normalized_host) const {
    const config::route_match& m = config.match;

    // Cheapest criteria first; the regex last.
    if (!m.methods.empty() &&
        std::find(m.methods.begin(), m.methods.end(), request.method()) == m.methods.end()) {
        return false;
    }
    if (m.host && !host_matches(*m.host, normalized_host)) {
        return false;
    }
    const std::string_view path = request.path();
    if (m.path && path != *m.path) {
        return false;
    }
    if (m.path_prefix && !path.starts_with(*m.path_prefix)) {
        return false;
    }
    for (const auto& [name, value] : m.headers) {
        const std::optional<std::string_view> actual = request.header(name);
        if (!actual || *actual != value) {
            return false;
        }
    }
    if (path_regex && !re2::RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *path_regex)) {
        return false;
    }
    return true;
}

route_table::route_table(const config::settings& settings) {
    routes_.reserve(settings.routes.size());
    for (const config::route_config& rc : settings.routes) {
        route r;
        r.config = rc;
        r.upstream_index = find_upstream(settings, rc);
        if (rc.match.path_regex) {
            r.path_regex = compile_path_regex(rc);
        }
        routes_.push_back(std::move(r));
    }
}

const route* route_table::match(const request_view& request) const {
    // Once per request, not once per route that looks at the host.
    const std::string host = normalize_host(request.host());
    for (const route& r : routes_) {
        if (r.matches(request, host)) {
            return &r;
        }
    }
    return nullptr;
}

std::string normalize_host(std::string_view host) {
    std::string_view name = host;
    if (name.starts_with('[')) {
        // IPv6 literal (RFC 3986 section 3.2.2): keep "[...]", drop any ":port" after it.
        const std::size_t close = name.find(']');
        if (close != std::string_view::npos) {
            name = name.substr(0, close + 1);
        }
    } else if (const std::size_t colon = name.find(':');
               colon != std::string_view::npos && name.find(':', colon + 1) == std::string_view::npos) {
        // Exactly one colon: "host:port". Several colons would be an unbracketed IPv6
        // literal (not valid in Host), which we leave alone rather than mangle.
        name = name.substr(0, colon);
    }
    // A fully qualified name's trailing dot ("example.com.") names the same host.
    if (name.ends_with('.')) {
        name.remove_suffix(1);
    }
    std::string out(name);
    std::transform(out.begin(), out.end(), out.begin(), to_lower_ascii);
    return out;
}

bool host_matches(std::string_view pattern, std::string_view host) {
    if (!pattern.starts_with("*.")) {
        return pattern == host;
    }
    const std::string_view dot_suffix = pattern.substr(1);  // ".suffix"
    if (host.size() <= dot_suffix.size() || !host.ends_with(dot_suffix)) {
        return false;
    }
    // What the '*' stands for must be one or more non-empty labels.
    const std::string_view labels = host.substr(0, host.size() - dot_suffix.size());
    return !labels.starts_with('.') && !labels.ends_with('.') &&
           labels.find("..") == std::string_view::npos;
}

}  // namespace tracegate::routing
