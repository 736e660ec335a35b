#include "config/loader.hpp"

namespace tracegate::config {

// Printed by `tracegate --print-default-config` as a starting point, so every line is
// meant to be read. The loader test keeps it loading and equal to the defaults.
std::string_view embedded_default_yaml() {
    return R"yaml(# tracegate configuration.
#
# Any value may use ${VAR} or ${VAR:-default} to read the environment; $$ is a literal $.
# Durations are whole numbers with a unit: 250ms, 10s, 2m, 1h (or 0).

# Resource name (service.name) of the spans this proxy reports.
service_name: tracegate

# Worker threads, each with its own event loop and acceptor. 0 = one per core.
workers: 0

# Where clients connect. The host must be an IP address: 0.0.0.0 or [::] for all
# interfaces. Port 0 picks a free port.
listeners:
  - name: public
    address: 0.0.0.0:8080
    upgrades: [websocket]       # protocols clients may switch to (Upgrade); [] = none

# Where requests go. Endpoints are host:port (DNS names allowed) or [v6]:port.
upstreams:
  - name: app
    endpoints: [127.0.0.1:9000]
    lb: round_robin             # round_robin | least_request | random
    connect_timeout: 2s
    max_idle_connections: 64    # pooled idle connections per worker

# Which upstream serves which request; the first match wins. Left out here: with a
# single upstream everything goes to it. An example:
#
# routes:
#   - name: users
#     match:
#       host: "*.example.com"     # exact, "*.suffix", or absent = any host
#       path_prefix: /users       # or path: /exact, or path_regex: ^/u/[0-9]+$
#       methods: [GET, POST]      # absent = any method
#       headers: {x-tenant: blue} # exact values
#     upstream: app
#     timeout: 30s                # the whole upstream exchange; 0 = no limit

# Protection for the proxy itself.
limits:
  max_header_bytes: 65536       # request line and headers (at least 1024)
  header_timeout: 10s           # to receive the whole request header
  idle_timeout: 60s             # a connection with nothing happening
  body_timeout: 5m              # to receive a whole request body; 0 = no limit
  max_body_bytes: 0             # request body; 0 = unlimited
  max_connections: 10000        # client connections across all workers
  drain_timeout: 15s            # for requests in flight at shutdown
)yaml";
}

}  // namespace tracegate::config
