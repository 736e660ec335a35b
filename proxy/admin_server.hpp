// The admin listener: /healthz, /ready, /metrics, /config, the trace viewer (/traces) and
// its JSON API, and POST /v1/traces (OTLP/HTTP into the trace store). One thread of its
// own, so a slow scrape or a big trace never touches a worker. No Beast here.
#pragma once

#include "config/config.hpp"
#include "tracing/trace_store.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::proxy {

/// Where the admin server gets what it shows.
struct admin_sources {
    std::function<bool()> ready;                       ///< false: /ready answers 503
    std::function<std::string()> metrics;              ///< Prometheus text
    std::function<std::shared_ptr<const config::settings>()> settings;  ///< the current snapshot
    std::shared_ptr<tracing::trace_store> store;       ///< the viewer's traces; POST /v1/traces adds
    std::uint64_t max_receive_bytes = 16u << 20;
    std::function<void()> internal_error;  ///< an exception was contained (counted); may be empty
    std::vector<std::string> hosts;  ///< admin.hosts: names answered besides IPs and localhost
};

/// Whether the admin server answers a request with this Host, Origin and method:
/// a Host that is an IP address, localhost or one of `hosts` (DNS rebinding needs a
/// name the attacker controls); for anything but GET and HEAD, no Origin or the server's
/// own (a page elsewhere must not post into the store). Empty: allowed; else the reason.
std::string_view admin_request_refusal(std::string_view host, std::string_view origin, bool safe_method,
                                       const std::vector<std::string>& hosts);

class admin_server {
public:
    explicit admin_server(admin_sources sources);
    ~admin_server();  ///< stop()
    admin_server(const admin_server&) = delete;
    admin_server& operator=(const admin_server&) = delete;

    /// Binds `bind` and serves on a thread of its own. Returns the bound address (port 0
    /// becomes the port chosen). Throws std::runtime_error naming the address on failure.
    config::address start(const config::address& bind);

    /// Closes the listener and every connection, joins the thread. Idempotent.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The viewer page, embedded at build time from proxy/admin/viewer.html.
extern const std::string_view viewer_html;

}  // namespace tracegate::proxy
