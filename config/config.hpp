// tracegate configuration: plain typed structs with in-class defaults.
//
// A settings object is produced once by load_config() (config/loader.hpp), validated
// whole, and then shared read-only as std::shared_ptr<const settings>. Reload
// builds a new one; nothing mutates loaded settings. Components take only the
// part they need; none of them sees YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tracegate::config {

using duration = std::chrono::milliseconds;

/// A host and port as written in config: "host:port" or "[v6]:port".
struct address {
    std::string host;       ///< IP literal or DNS name, without brackets.
    std::uint16_t port = 0; ///< 0 only allowed for listeners (ephemeral port).

    /// "host:port", with brackets around IPv6 literals.
    std::string to_string() const;
    friend bool operator==(const address&, const address&) = default;
};

/// One listening socket; every worker accepts on it (SO_REUSEPORT).
struct listener_config {
    std::string name;
    address bind;                 ///< `address:` key; host must be an IP literal.
};

enum class lb_policy { round_robin, least_request, random };

/// A named group of interchangeable endpoints.
struct upstream_config {
    std::string name;
    std::vector<address> endpoints;  ///< May be empty: every request then gets 503.
    lb_policy lb = lb_policy::round_robin;
    duration connect_timeout{2000};
    std::uint32_t max_idle_connections = 64;  ///< Pooled idle connections per worker.
};

/// How a route selects requests. Every present criterion must hold.
struct route_match {
    std::optional<std::string> host;         ///< Exact ("api.example.com") or "*.suffix"; lowercase.
    std::optional<std::string> path;         ///< Exact path (query excluded).
    std::optional<std::string> path_prefix;  ///< Path starts with this.
    std::optional<std::string> path_regex;   ///< ECMAScript regex matched against the whole path.
    std::vector<std::string> methods;        ///< Empty = any method. Uppercase.
    std::map<std::string, std::string> headers;  ///< Lowercase name -> exact value.
};

struct route_config {
    std::string name;
    route_match match;
    std::string upstream;
    duration timeout{30000};  ///< Whole upstream exchange; 0 = no limit.
};

/// Every limit has a name here and a safe default.
struct limits_config {
    std::uint64_t max_header_bytes = 65536;
    duration header_timeout{10000};
    duration idle_timeout{60000};
    std::uint64_t max_body_bytes = 0;  ///< 0 = unlimited.
    std::uint64_t max_connections = 10000;
    duration drain_timeout{15000};
};

struct settings {
    std::string service_name = "tracegate";
    unsigned workers = 0;  ///< 0 = one per core.
    std::vector<listener_config> listeners;
    std::vector<upstream_config> upstreams;
    std::vector<route_config> routes;  ///< When empty and one upstream: everything goes there.
    limits_config limits;
    std::string source;  ///< File the config came from ("<embedded>" for the defaults).
};

}  // namespace tracegate::config
