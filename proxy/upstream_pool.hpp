// Per-worker pool of idle keep-alive connections to upstream endpoints, and connecting.
// Only its own worker thread touches a pool, so there is no lock.
#pragma once

#include "config/config.hpp"
#include "proxy/duplex_stream.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tracegate::proxy {

/// One connection to an upstream endpoint with its read buffer (bytes past a response
/// belong to the connection, not to a request).
struct upstream_connection {
    explicit upstream_connection(duplex_stream&& s) : stream(std::move(s)) {}
    /// Bounds what an upstream can make the proxy buffer (a response header, chunk headers).
    static constexpr std::size_t max_buffer = 1 << 20;
    duplex_stream stream;  ///< TLS when the upstream has `tls`
    boost::beast::flat_buffer buffer{max_buffer};
    std::string key;  ///< endpoint "host:port"
    std::chrono::steady_clock::time_point idle_since{};
    bool reused = false;  ///< came from the pool (may have been closed by the peer meanwhile)
};

/// Why a connect failed, as reported in x-tracegate-error.
enum class connect_failure { none, refused, failed, timeout, tls };

struct connect_result {
    std::unique_ptr<upstream_connection> connection;
    connect_failure failure = connect_failure::none;
    std::string detail;  ///< the system's reason, for logs
    std::string_view tls_failure;  ///< handshake_failure_kind() when failure is tls
};

/// How to speak TLS to an upstream: its client context and settings. Both null: plain.
struct upstream_tls {
    boost::asio::ssl::context* context = nullptr;
    const config::upstream_tls_config* config = nullptr;
};

/// True when reading `connection` would not block: bytes (in the socket or already
/// decrypted), EOF or an error. A connection between exchanges must answer false: an
/// upstream does not speak before it is asked.
bool has_spoken(duplex_stream& connection);

class upstream_pool {
public:
    /// A pooled connection to `endpoint` that has been idle for less than `max_idle_age`
    /// and still looks open, or null. Every connection is checked before reuse, however
    /// briefly it idled: one that closed, or that received a single byte while idle (an
    /// upstream writing past its response), is closed, never handed to another request,
    /// which would read those bytes as its response (response-queue poisoning).
    std::unique_ptr<upstream_connection> take(const config::address& endpoint,
                                              std::chrono::milliseconds max_idle_age);

    /// Returns a connection after a complete exchange; dropped when `max_idle` are pooled.
    void put(std::unique_ptr<upstream_connection> connection, std::size_t max_idle);

    /// Closes every idle connection.
    void clear() { idle_.clear(); }

    std::size_t idle_count() const;

private:
    std::unordered_map<std::string, std::vector<std::unique_ptr<upstream_connection>>> idle_;
    std::string key_;  ///< take()'s lookup key, reused: no allocation per request
};

/// Connects to `endpoint` (IP literal or DNS name) within `timeout`, whichever of the
/// deadline and the timeout comes first.
/// With `tls`, the TLS handshake (SNI, certificate and host name verified) is part of the
/// connect and shares its deadline.
boost::asio::awaitable<connect_result> connect_upstream(
    const config::address& endpoint, std::chrono::milliseconds timeout,
    std::chrono::steady_clock::time_point deadline, upstream_tls tls = {});

}  // namespace tracegate::proxy
