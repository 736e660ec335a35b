// A raw TCP client for tests that must control every byte: malformed requests, slow
// senders, pipelining, and checking whether the server closed the connection.
#pragma once

#include "tests/support/http_client.hpp"  // http_response, parse_responses

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::test {

/// One connection to 127.0.0.1:port. Every call takes a deadline; nothing blocks past it.
/// Everything received accumulates in received().
class raw_client {
public:
    using duration = std::chrono::milliseconds;

    /// Connects within `timeout`.
    explicit raw_client(std::uint16_t port, duration timeout = std::chrono::seconds(5));
    ~raw_client();
    raw_client(const raw_client&) = delete;
    raw_client& operator=(const raw_client&) = delete;

    /// Whether the connect succeeded (not whether the peer has closed since).
    bool connected() const;
    /// The last error seen (connect, send or receive); eof when the peer closed.
    boost::system::error_code error() const;

    /// Sends all of `bytes`; false when the deadline passed or the connection failed.
    bool send(std::string_view bytes, duration timeout = std::chrono::seconds(5));
    /// Sends `bytes` in pieces of `piece` bytes with a pause of `pause` between them,
    /// listening meanwhile; stops early (returns false) as soon as the server sends
    /// anything or closes, or when `timeout` passes. True when every byte was sent.
    bool send_slowly(std::string_view bytes, std::size_t piece, duration pause,
                     duration timeout = std::chrono::seconds(30));
    /// Half-closes: tells the server we will send nothing more.
    void shutdown_send();

    /// Reads until received() contains `needle`; false at the deadline or on close.
    bool read_until(std::string_view needle, duration timeout);
    /// Reads until the server closes the connection; false when `timeout` passes first.
    bool read_until_closed(duration timeout);
    /// Reads until received() holds one complete response (or more); false at the deadline.
    bool read_response(duration timeout);
    /// Waits up to `timeout` for any byte or a close; true when something happened.
    bool receive_some(duration timeout);

    /// Everything received so far.
    const std::string& received() const { return received_; }
    /// Whether the server closed (EOF) or reset the connection.
    bool closed_by_peer() const { return closed_; }
    /// Status code of the first response received, if its status line arrived.
    std::optional<unsigned> status() const;
    /// received() parsed as consecutive responses (see parse_responses).
    std::vector<http_response> responses() const;
    /// Closes the connection.
    void close();
    /// Closes the connection with a reset (RST): the server's next write fails at once.
    void reset();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    std::string received_;
    bool closed_ = false;
};

}  // namespace tracegate::test
