// A blocking HTTP/1.1 client for tests: one keep-alive connection, a deadline on every
// read, write and connect, and streaming upload/download that never hold a body.
#pragma once

#include "tests/support/header_list.hpp"
#include "tests/support/payload.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::test {

/// One response, or why there was none.
struct http_response {
    boost::system::error_code error;  ///< Set when the exchange failed; status may be 0.
    unsigned status = 0;
    unsigned version = 0;             ///< 10 or 11.
    header_list headers;              ///< As received, in order.
    std::string body;                 ///< Decoded (de-chunked) body.
    bool complete = false;            ///< The whole message was received.

    /// First value of header `name` (case-insensitive).
    std::optional<std::string> header(std::string_view name) const;
    /// Whether a field named `name` is present.
    bool has_header(std::string_view name) const;
    /// "HTTP 404 [x-tracegate-error: no_route] 42 bytes: ..." or "error: ...", for messages.
    std::string describe() const;
};

/// Parses as many responses as `bytes` holds (pipelined or a single one). `eof` says the
/// connection ended after `bytes`, which completes a close-delimited body; a final
/// incomplete message is returned with complete == false and `error` set.
std::vector<http_response> parse_responses(std::string_view bytes, bool eof);

/// How an upload frames its body.
enum class framing { content_length, chunked };

/// A streamed download: what arrived, digested, never stored.
struct download_result {
    boost::system::error_code error;  ///< Set when the transfer failed.
    unsigned status = 0;
    header_list headers;
    body_digest digest;               ///< Bytes and FNV-1a of the decoded body.
    bool matches_pattern = true;      ///< Every byte equals pattern_byte(offset).
    bool chunked = false;             ///< Transfer-Encoding: chunked was used.

    /// First value of header `name` (case-insensitive).
    std::optional<std::string> header(std::string_view name) const;
    /// One line for failure messages.
    std::string describe() const;
};

/// One client connection to 127.0.0.1:port (or host:port). Requests run one at a time,
/// in order, on the same connection. After a failed exchange, or a response that says
/// `Connection: close`, the connection is closed and later requests fail.
class http_client {
public:
    using duration = std::chrono::milliseconds;

    /// Connects within `timeout`, which is then the deadline of every later read/write.
    explicit http_client(std::uint16_t port, duration timeout = std::chrono::seconds(10));
    /// Connects to an IP literal `host`.
    http_client(const std::string& host, std::uint16_t port, duration timeout);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    /// Whether the connection is open (connected and not closed since).
    bool connected() const;
    /// Why the connect failed, if it did.
    boost::system::error_code connect_error() const;
    /// Sets the deadline of each later read, write (and streamed piece).
    void set_timeout(duration timeout);

    /// Sends one request and reads its response. `headers` are added in order; a "Host"
    /// among them replaces the default "127.0.0.1:PORT". A non-empty body gets a
    /// Content-Length. 1xx responses other than 101 are skipped.
    http_response request(std::string_view method, std::string_view target,
                          const header_list& headers = {}, std::string body = {},
                          unsigned version = 11);
    /// GET `target`.
    http_response get(std::string_view target, const header_list& headers = {});
    /// HEAD `target` (the response has no body to read).
    http_response head(std::string_view target, const header_list& headers = {});
    /// POST `body` to `target`.
    http_response post(std::string_view target, std::string body, const header_list& headers = {});

    /// POSTs `n` pattern bytes to `target` in 64 KiB pieces, framed as asked, and reads
    /// the (small) response.
    http_response upload(std::string_view target, std::uint64_t n, framing how,
                         const header_list& headers = {});
    /// GETs `target` and digests the body as it arrives.
    download_result download(std::string_view target, const header_list& headers = {},
                             unsigned version = 11);

    /// Waits up to `wait` for the server to close the connection; true when it did. A
    /// byte arriving instead also ends the wait (returns false). Closes our side either way.
    bool wait_closed_by_peer(duration wait);
    /// Closes the connection.
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace tracegate::test
