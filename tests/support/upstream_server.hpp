// A real HTTP/1.1 upstream for integration tests: listens on a loopback port, serves a
// small set of behaviours chosen by path, and records every request it receives.
//
// Endpoints (any method; the path is the target without its query):
//   (any other path)      200 "ok <path>\n" with Content-Length
//   /status/N             status N; 1xx, 204 and 304 without a body, others "status N\n"
//   /bytes/N[?chunked=1]  N bytes of the test pattern (payload.hpp) in 64 KiB pieces,
//                         constant memory; Content-Length unless chunked=1
//   /sink                 reads the request body streaming (Content-Length or chunked) and
//                         answers body_digest::to_string() of it: "bytes=N fnv1a=HEX"
//   /delay/MS             "ok /delay/MS\n" after MS milliseconds (a timer)
//   /close-after-headers  header with Content-Length: 1000, then 10 body bytes, then close
//   /close-now            closes the connection without any response
//   /die-on-next          200 with keep-alive; the NEXT request read on this connection is
//                         answered by closing it without a response (and is not recorded:
//                         it counts in dropped_requests())
//   /ws                   WebSocket echo (text and binary) until the peer closes
//   HEAD on any path      the GET header without the body
// Every response carries `x-upstream-name: <name>` and `x-upstream-connection: <id>`.
// A request carrying `Expect: 100-continue` is answered `100 Continue` before its body
// is read.
#pragma once

#include "tests/support/header_list.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracegate::test {

/// One request as the upstream saw it.
struct recorded_request {
    std::string method;
    std::string target;
    unsigned version = 11;          ///< 10 or 11.
    header_list headers;            ///< Every field, in order, names as received.
    std::uint64_t body_bytes = 0;   ///< Body bytes read so far (final once complete).
    bool complete = false;          ///< The whole body was read.
    std::uint64_t connection_id = 0;///< 1 for the first accepted connection, then 2, ...

    /// First value of header `name` (case-insensitive).
    std::optional<std::string> header(std::string_view name) const;
    /// Whether a field named `name` is present.
    bool has_header(std::string_view name) const;
};

/// Where and as whom an upstream_server listens.
struct upstream_options {
    std::string host = "127.0.0.1";  ///< IP literal to bind.
    std::uint16_t port = 0;          ///< 0 = an ephemeral port.
    std::string name = "upstream";   ///< Sent back in x-upstream-name.
};

/// An HTTP/1.1 server on its own io_context and thread; stops on destruction.
class upstream_server {
public:
    using clock = std::chrono::steady_clock;

    /// Listens on 127.0.0.1:0 as "upstream". Throws if it cannot bind.
    upstream_server();
    /// Listens on 127.0.0.1:0 as `name`.
    explicit upstream_server(std::string name);
    /// Listens as `options` say. Throws if it cannot bind.
    explicit upstream_server(upstream_options options);
    ~upstream_server();
    upstream_server(const upstream_server&) = delete;
    upstream_server& operator=(const upstream_server&) = delete;

    /// The bound port.
    std::uint16_t port() const;
    /// "host:port" for a config endpoint, brackets around IPv6.
    std::string address() const;
    /// The name sent back in x-upstream-name.
    const std::string& name() const;

    /// A copy of every recorded request, in arrival order.
    std::vector<recorded_request> requests() const;
    /// Number of recorded requests.
    std::size_t request_count() const;
    /// Waits until at least `n` requests were recorded; false when `timeout` passes first.
    bool wait_for_requests(std::size_t n, clock::duration timeout) const;
    /// Waits until the last recorded request's body was read whole.
    bool wait_for_complete(clock::duration timeout) const;
    /// Forgets the recorded requests (connection counters stay).
    void clear_requests();

    /// TCP connections accepted since start.
    std::uint64_t connections_accepted() const;
    /// TCP connections currently open.
    std::size_t open_connections() const;
    /// Requests answered by closing (the request after /die-on-next).
    std::uint64_t dropped_requests() const;

    /// Closes the listener and every connection; further connects are refused. Idempotent.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace tracegate::test
