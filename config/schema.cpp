// The tracegate config schema: top level, listeners, upstreams, routes, limits, and the
// checks that need the whole file (duplicate names, routes naming upstreams). The
// tracing section and OTEL_* variables are in tracing_schema.cpp, the `tls:` maps of
// listeners and upstreams in tls_schema.cpp.
#include "config/schema.hpp"

#include "config/edit_distance.hpp"
#include "config/http_tokens.hpp"
#include "config/scalar_parsers.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <map>

namespace tracegate::config::detail {

namespace {

constexpr std::array<std::string_view, 9> top_keys{
    "service_name", "workers", "listeners", "upstreams", "routes", "limits", "tracing", "admin", "access_log"};
constexpr std::array<std::string_view, 4> admin_keys{"enabled", "address", "max_receive_bytes", "hosts"};
constexpr std::array<std::string_view, 2> access_log_keys{"path", "format"};
constexpr std::array<std::string_view, 6> listener_keys{"name", "address", "trust_incoming_trace",
                                                       "response_header", "tls", "upgrades"};
constexpr std::array<std::string_view, 6> upstream_keys{
    "name", "endpoints", "lb", "connect_timeout", "max_idle_connections", "tls"};
constexpr std::array<std::string_view, 6> route_keys{
    "name", "match", "upstream", "timeout", "span_name", "tags"};
constexpr std::array<std::string_view, 7> limits_keys{
    "max_header_bytes", "header_timeout",  "idle_timeout", "body_timeout",
    "max_body_bytes",   "max_connections", "drain_timeout"};

constexpr std::uint64_t max_workers = 1024;
// Below this not even a request line with a few ordinary headers fits.
constexpr std::uint64_t min_header_bytes = 1024;
// Beast's parser takes its header limit as a 32-bit count.
constexpr std::uint64_t max_header_bytes = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t unbounded = std::numeric_limits<std::uint64_t>::max();

// The name of the route made up when a config with one upstream has no routes.
constexpr std::string_view default_route_name = "default";

/// A name as written, with where it was written, for checks across the whole file.
struct named {
    std::string name;
    YAML::Mark mark;
};

/// A top-level list: where it is, and whether it was not a list at all (reported already).
struct section {
    std::optional<field> at;
    bool broken = false;

    bool present() const { return at.has_value(); }
};

class schema {
public:
    explicit schema(yaml_reader& reader) : r_(reader) {}

    settings read(const YAML::Node& root) {
        const field top{"config", root, root.Mark()};
        if (!root.IsNull() && !r_.for_each_key(top, "config", top_keys,
                                               [&](const field& f) { read_top_key(f); })) {
            return std::move(s_);
        }
        check_presence(top);
        check_unique(listener_names_, "listener");
        check_unique(upstream_names_, "upstream");
        check_unique(route_names_, "route");
        check_route_upstreams();
        apply_otel_env(s_, in_file_, r_);
        apply_otel_export_env(s_, in_file_, r_);
        return std::move(s_);
    }

private:
    void read_top_key(const field& f) {
        if (f.label == "service_name") {
            in_file_.service_name = true;
            if (auto name = r_.text(f)) {
                if (name->empty()) r_.fail(f.mark, "service_name: must not be empty");
                s_.service_name = std::move(*name);
            }
        } else if (f.label == "workers") {
            if (auto n = r_.integer(f, max_workers)) s_.workers = static_cast<unsigned>(*n);
        } else if (f.label == "listeners") {
            listeners_ = {f, !r_.for_each_item(f, "listener", [&](const field& i) { read_listener(i); })};
        } else if (f.label == "upstreams") {
            upstreams_ = {f, !r_.for_each_item(f, "upstream", [&](const field& i) { read_upstream(i); })};
        } else if (f.label == "routes") {
            routes_ = {f, !r_.for_each_item(f, "route", [&](const field& i) { read_route(i); })};
        } else if (f.label == "tracing") {
            s_.tracing = read_tracing(f, r_, in_file_);
        } else if (f.label == "admin") {
            read_admin(f);
        } else if (f.label == "access_log") {
            read_access_log(f);
        } else {
            read_limits(f);
        }
    }

    /// The value of a required, non-empty text key of a list item.
    std::optional<std::string> required_text(const field& item, const std::optional<field>& f,
                                             std::string_view key) {
        if (!f) {
            r_.fail(item.mark, item.label + ": missing required key \"" + std::string(key) + "\"");
            return std::nullopt;
        }
        std::optional<std::string> value = r_.text(*f);
        if (value && value->empty()) {
            r_.fail(f->mark, item.label + ": \"" + std::string(key) + "\" must not be empty");
            return std::nullopt;
        }
        return value;
    }

    void read_listener(const field& item) {
        std::optional<field> name, bind;
        listener_config l;
        const bool is_map = r_.for_each_key(item, "listener", listener_keys, [&](const field& f) {
            if (f.label == "trust_incoming_trace") {
                if (auto b = r_.boolean(f)) l.trust_incoming_trace = *b;
            } else if (f.label == "response_header") {
                if (auto b = r_.boolean(f)) l.response_header = *b;
            } else if (f.label == "tls") {
                l.tls = read_listener_tls(f, r_);
            } else if (f.label == "upgrades") {
                l.upgrades.clear();
                r_.for_each_item(f, "upgrade", [&](const field& i) {
                    auto token = r_.text(i);
                    if (!token) return;
                    // RFC 9110 7.8: protocol-name ["/" protocol-version], both tokens.
                    const auto slash = token->find('/');
                    if (!is_token(token->substr(0, slash)) ||
                        (slash != std::string::npos && !is_token(token->substr(slash + 1)))) {
                        r_.fail(i.mark, "upgrades: \"" + *token + "\" is not a protocol name (RFC 9110 7.8)");
                        return;
                    }
                    std::transform(token->begin(), token->end(), token->begin(), to_lower_ascii);
                    l.upgrades.push_back(std::move(*token));
                });
            } else {
                (f.label == "name" ? name : bind) = f;
            }
        });
        if (!is_map) return;
        if (auto n = required_text(item, name, "name")) {
            l.name = *n;
            listener_names_.push_back({*n, name->mark});
        }
        if (required_text(item, bind, "address")) {
            if (auto a = r_.address_value(*bind)) {
                // Binding needs an address; a name would bind whatever it resolves to first.
                if (!is_ip_literal(a->host)) {
                    r_.fail(bind->mark, "address: listener host \"" + a->host +
                                            "\" must be an IP address, e.g. 0.0.0.0, 127.0.0.1 or [::]");
                }
                l.bind = std::move(*a);
            }
        }
        s_.listeners.push_back(std::move(l));
    }

    void read_upstream(const field& item) {
        std::optional<field> name;
        upstream_config u;
        const bool is_map = r_.for_each_key(item, "upstream", upstream_keys, [&](const field& f) {
            if (f.label == "name") {
                name = f;
            } else if (f.label == "endpoints") {
                r_.for_each_item(f, "endpoint", [&](const field& e) { read_endpoint(e, u); });
            } else if (f.label == "lb") {
                read_lb(f, u);
            } else if (f.label == "tls") {
                u.tls = read_upstream_tls(f, r_);
            } else if (f.label == "connect_timeout") {
                if (auto d = r_.duration_value(f)) {
                    // Zero would fail every connect at once rather than mean "no limit".
                    if (d->count() == 0) r_.fail(f.mark, "connect_timeout: must be greater than 0");
                    u.connect_timeout = *d;
                }
            } else if (auto n = r_.integer(f, std::numeric_limits<std::uint32_t>::max())) {
                u.max_idle_connections = static_cast<std::uint32_t>(*n);
            }
        });
        if (!is_map) return;
        if (auto n = required_text(item, name, "name")) {
            u.name = *n;
            upstream_names_.push_back({*n, name->mark});
        }
        s_.upstreams.push_back(std::move(u));
    }

    void read_endpoint(const field& f, upstream_config& u) {
        std::optional<address> a = r_.address_value(f);
        if (!a) return;
        if (a->port == 0) r_.fail(f.mark, "endpoint: port must be 1..65535, got 0");
        u.endpoints.push_back(std::move(*a));
    }

    void read_lb(const field& f, upstream_config& u) {
        static constexpr std::array<std::pair<std::string_view, lb_policy>, 3> policies{{
            {"round_robin", lb_policy::round_robin},
            {"least_request", lb_policy::least_request},
            {"random", lb_policy::random},
        }};
        const std::optional<std::string> value = r_.text(f);
        if (!value) return;
        for (const auto& [text, policy] : policies) {
            if (text == *value) {
                u.lb = policy;
                return;
            }
        }
        r_.fail(f.mark, "lb: unknown policy \"" + *value +
                            "\"; expected round_robin, least_request or random");
    }

    void read_route(const field& item) {
        std::optional<field> name, upstream;
        route_config rc;
        const bool is_map = r_.for_each_key(item, "route", route_keys, [&](const field& f) {
            if (f.label == "name") {
                name = f;
            } else if (f.label == "upstream") {
                upstream = f;
            } else if (f.label == "match") {
                rc.match = read_route_match(f, r_);
            } else if (f.label == "span_name") {
                if (auto t = read_span_name(f, r_)) rc.span_name = std::move(*t);
            } else if (f.label == "tags") {
                rc.tags = read_tags(f, r_);
            } else if (auto d = r_.duration_value(f)) {
                rc.timeout = *d;
            }
        });
        if (!is_map) return;
        if (auto n = required_text(item, name, "name")) {
            rc.name = *n;
            route_names_.push_back({*n, name->mark});
        }
        if (auto u = required_text(item, upstream, "upstream")) {
            rc.upstream = *u;
            route_upstreams_.push_back({*u, upstream->mark});
        }
        s_.routes.push_back(std::move(rc));
    }

    void read_limits(const field& limits) {
        limits_config& l = s_.limits;
        r_.for_each_key(limits, "limits", limits_keys, [&](const field& f) {
            if (f.label == "max_header_bytes") {
                const auto n = r_.integer(f, max_header_bytes);
                if (n && *n < min_header_bytes) {
                    r_.fail(f.mark, "max_header_bytes: must be at least 1024, got " +
                                        std::to_string(*n));
                }
                if (n) l.max_header_bytes = *n;
            } else if (f.label == "max_body_bytes") {
                if (auto n = r_.integer(f, unbounded)) l.max_body_bytes = *n;
            } else if (f.label == "max_connections") {
                const auto n = r_.integer(f, unbounded);
                if (n && *n == 0) r_.fail(f.mark, "max_connections: must be at least 1, got 0");
                if (n) l.max_connections = *n;
            } else if (auto d = r_.duration_value(f)) {
                (f.label == "header_timeout" ? l.header_timeout
                 : f.label == "idle_timeout" ? l.idle_timeout
                 : f.label == "body_timeout" ? l.body_timeout
                                             : l.drain_timeout) = *d;
            }
        });
    }

    void read_admin(const field& admin) {
        admin_config& a = s_.admin;
        r_.for_each_key(admin, "admin", admin_keys, [&](const field& f) {
            if (f.label == "enabled") {
                if (auto b = r_.boolean(f)) a.enabled = *b;
            } else if (f.label == "max_receive_bytes") {
                const auto n = r_.integer(f, unbounded);
                if (n && *n == 0) r_.fail(f.mark, "max_receive_bytes: must be at least 1, got 0");
                if (n) a.max_receive_bytes = *n;
            } else if (f.label == "hosts") {
                r_.for_each_item(f, "host", [&](const field& i) {
                    auto host = r_.text(i);
                    if (!host) return;
                    if (host->empty() || host->find_first_of(" :/,[]") != std::string::npos) {
                        r_.fail(i.mark, "hosts: \"" + *host + "\" is not a host name (no port, no brackets)");
                        return;
                    }
                    std::transform(host->begin(), host->end(), host->begin(), to_lower_ascii);
                    a.hosts.push_back(std::move(*host));
                });
            } else if (auto bound = r_.address_value(f)) {
                if (!is_ip_literal(bound->host)) {
                    r_.fail(f.mark, "address: admin host \"" + bound->host +
                                        "\" must be an IP address, e.g. 127.0.0.1 or [::1]");
                }
                a.bind = std::move(*bound);
            }
        });
    }

    void read_access_log(const field& log) {
        access_log_config& a = s_.access_log;
        a.enabled = r_.for_each_key(log, "access_log", access_log_keys, [&](const field& f) {
            auto value = r_.text(f);
            if (!value) return;
            if (f.label == "path") {
                if (value->empty()) r_.fail(f.mark, "path: must not be empty (\"-\" is stdout)");
                a.path = std::move(*value);
            } else if (*value == "text" || *value == "json") {
                a.style = *value == "json" ? access_log_config::format::json : access_log_config::format::text;
            } else {
                r_.fail(f.mark, "format: expected text or json, got \"" + *value + "\"");
            }
        });
    }

    /// At least one listener and one upstream; routes, or exactly one upstream to
    /// route everything to.
    void check_presence(const field& top) {
        require_some(listeners_, top, "listeners", "listener");
        require_some(upstreams_, top, "upstreams", "upstream");
        if (routes_.present() && (routes_.broken || routes_.at->node.size() > 0)) return;
        if (s_.upstreams.size() == 1 && !s_.upstreams.front().name.empty()) {
            route_config catch_all;
            catch_all.name = default_route_name;
            catch_all.upstream = s_.upstreams.front().name;
            s_.routes.push_back(std::move(catch_all));
        } else if (s_.upstreams.size() > 1) {
            const field& at = routes_.present() ? *routes_.at : *upstreams_.at;
            r_.fail(at.mark, "routes: required when more than one upstream is defined");
        }
    }

    void require_some(const section& list, const field& top, std::string_view key,
                      std::string_view item) {
        if (list.broken || (list.present() && list.at->node.size() > 0)) return;
        const YAML::Mark at = list.present() ? list.at->mark : top.mark;
        r_.fail(at, std::string(key) + ": at least one " + std::string(item) + " is required");
    }

    void check_unique(const std::vector<named>& names, std::string_view kind) {
        std::map<std::string_view, const named*> first;
        for (const named& n : names) {
            const auto [it, inserted] = first.emplace(n.name, &n);
            if (!inserted) {
                r_.fail(n.mark, "name: duplicate " + std::string(kind) + " name \"" + n.name +
                                    "\" (first defined at line " +
                                    std::to_string(it->second->mark.line + 1) + ")");
            }
        }
    }

    void check_route_upstreams() {
        std::vector<std::string> known;
        for (const named& n : upstream_names_) known.push_back(n.name);
        for (const named& ref : route_upstreams_) {
            if (std::find(known.begin(), known.end(), ref.name) != known.end()) continue;
            std::string message = "upstream: no upstream named \"" + ref.name + "\"";
            if (auto suggestion = nearest(ref.name, std::span<const std::string>(known))) {
                message += "; did you mean \"" + *suggestion + "\"?";
            }
            r_.fail(ref.mark, std::move(message));
        }
    }

    yaml_reader& r_;
    settings s_;
    section listeners_, upstreams_, routes_;
    keys_in_file in_file_;
    // Positions live beside the settings, which have no room for them.
    std::vector<named> listener_names_, upstream_names_, route_names_, route_upstreams_;
};

}  // namespace

settings read_settings(const YAML::Node& root, yaml_reader& reader) {
    return schema(reader).read(root);
}

}  // namespace tracegate::config::detail
