// The immutable route table: which route (and so which upstream) serves a request.
#pragma once

#include "config/config.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace tracegate::routing {

/// What the router may look at in a request; proxy/ adapts its parsed header to this.
class request_view {
public:
    virtual ~request_view() = default;
    virtual std::string_view method() const = 0;
    /// The Host header as received (may carry a port, any case).
    virtual std::string_view host() const = 0;
    /// The request target's path, without the query.
    virtual std::string_view path() const = 0;
    /// The value of a header (case-insensitive name), nullopt when absent.
    virtual std::optional<std::string_view> header(std::string_view name) const = 0;
};

/// A route ready to match; holds its compiled regex.
struct route {
    config::route_config config;
    std::size_t upstream_index = 0;  ///< Index into settings::upstreams.
    /// RE2: linear time and bounded memory whatever the path, no recursion, no exceptions.
    std::shared_ptr<const re2::RE2> path_regex;

    bool matches(const request_view& request) const;
    /// Same, with the request's host already normalized (normalize_host) by the caller.
    bool matches(const request_view& request, std::string_view normalized_host) const;
};

/// Routes in config order; the first match wins.
class route_table {
public:
    /// Builds from validated settings (the loader has checked regexes and upstream names).
    explicit route_table(const config::settings& settings);

    /// The first matching route, or nullptr.
    const route* match(const request_view& request) const;

    const std::vector<route>& routes() const { return routes_; }

private:
    std::vector<route> routes_;
};

/// Lowercases `host`, strips a trailing ":port" and a trailing dot; IPv6 brackets stay.
std::string normalize_host(std::string_view host);

/// True when `host` (normalized) matches `pattern`: exact, or "*.suffix" which matches
/// any non-empty label sequence before ".suffix" but not "suffix" itself.
bool host_matches(std::string_view pattern, std::string_view host);

}  // namespace tracegate::routing
