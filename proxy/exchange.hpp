// One proxied exchange: from a parsed request header to the last response byte, over a
// pooled or new upstream connection; and the responses tracegate makes itself.
#pragma once

#include "proxy/duplex_stream.hpp"
#include "proxy/worker.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace tracegate::proxy {

/// A response tracegate makes itself; `reason` goes in x-tracegate-error.
struct failure {
    boost::beast::http::status status;
    std::string_view reason;
    std::string_view text;
    /// The upstream failed (counted in tracegate_upstream_errors_total), not the request.
    bool upstream = false;
};

namespace failures {
using s = boost::beast::http::status;
inline constexpr failure bad_request{s::bad_request, "bad_request", "malformed request"};
inline constexpr failure header_timeout{s::request_timeout, "header_timeout",
                                        "request header not received in time"};
inline constexpr failure header_too_large{s::request_header_fields_too_large, "header_too_large",
                                          "request header exceeds max_header_bytes"};
inline constexpr failure trailer_too_large{s::request_header_fields_too_large, "trailer_too_large",
                                           "request trailer exceeds max_header_bytes"};
inline constexpr failure body_timeout{s::request_timeout, "body_timeout",
                                      "request body not received in time"};
inline constexpr failure body_too_large{s::payload_too_large, "body_too_large",
                                        "request body exceeds max_body_bytes"};
inline constexpr failure expectation_failed{s::expectation_failed, "expectation_failed",
                                            "only Expect: 100-continue is supported"};
inline constexpr failure method_not_allowed{s::method_not_allowed, "method_not_allowed",
                                            "CONNECT is not supported"};
inline constexpr failure version_not_supported{s::http_version_not_supported,
                                               "version_not_supported",
                                               "only HTTP/1.0 and HTTP/1.1 are supported"};
inline constexpr failure no_route{s::not_found, "no_route", "no route matches this request"};
inline constexpr failure no_endpoint{s::service_unavailable, "no_endpoint",
                                     "the upstream has no usable endpoint", true};
inline constexpr failure connect_refused{s::bad_gateway, "connect_refused",
                                         "the upstream refused the connection", true};
inline constexpr failure connect_failed{s::bad_gateway, "connect_failed",
                                        "could not connect to the upstream", true};
inline constexpr failure upstream_reset{s::bad_gateway, "upstream_reset",
                                        "the upstream closed the connection before responding", true};
inline constexpr failure bad_upstream_response{s::bad_gateway, "bad_upstream_response",
                                               "the upstream sent a malformed response", true};
inline constexpr failure upstream_tls_failed{s::bad_gateway, "upstream_tls_failed",
                                             "the TLS handshake with the upstream failed", true};
inline constexpr failure timeout{s::gateway_timeout, "timeout",
                                 "the upstream did not respond in time", true};
}  // namespace failures

/// Writes `f` as a short text response (with the request's trace headers when `trace`
/// is given, and recorded on its spans). Returns whether the connection stays usable.
boost::asio::awaitable<bool> send_failure(duplex_stream& client, const failure& f,
                                          bool keep_alive, unsigned version, bool head,
                                          request_trace* trace = nullptr);

/// now + d, or "never" for a zero duration (a disabled limit).
std::chrono::steady_clock::time_point later(std::chrono::milliseconds d);

/// expires_at, or expires_never for the time_point::max() that means no limit.
void set_deadline(boost::beast::tcp_stream& stream, std::chrono::steady_clock::time_point at);
inline void set_deadline(duplex_stream& stream, std::chrono::steady_clock::time_point at) {
    set_deadline(stream.tcp(), at);
}

/// The session's body relay buffer, allocated on first use and reused.
class relay_buffer {
public:
    static constexpr std::size_t size = 32 * 1024;
    char* get() {
        if (!data_) data_ = std::make_unique<char[]>(size);
        return data_.get();
    }
    /// Frees the buffer (a connection going idle); get() makes a new one.
    void release() { data_.reset(); }

private:
    std::unique_ptr<char[]> data_;
};

/// What forward() needs from the session.
struct exchange_context {
    worker& owner;
    const runtime& rt;
    const routing::route& route;
    duplex_stream& client;
    boost::beast::flat_buffer& client_buffer;
    relay_buffer& chunk;
    std::string& wire_header;  ///< the serialized header of either message; reused
    const std::string& client_address;
    const std::string& scheme;
    request_trace& trace;
    const std::vector<std::string>& upgrades;  ///< the listener's: what a client may switch to
};

/// Forwards the request whose header `parser` holds and relays the response (or tunnels
/// after a 101). Returns whether the client connection may carry another request.
boost::asio::awaitable<bool> forward(
    exchange_context& context,
    boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser, bool keep_alive,
    bool expect_continue);

}  // namespace tracegate::proxy
