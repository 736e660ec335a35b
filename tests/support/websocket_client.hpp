// A blocking WebSocket client for tests, with a deadline on every operation.
#pragma once

#include "tests/support/header_list.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tracegate::test {

/// One WebSocket connection to ws://127.0.0.1:port/target.
class websocket_client {
public:
    using duration = std::chrono::milliseconds;

    /// A received message.
    struct message {
        bool text = false;  ///< Text (true) or binary (false) frame type.
        std::string data;   ///< The whole message.
    };

    /// Connects and performs the upgrade handshake within `timeout` (also the deadline of
    /// every later operation).
    explicit websocket_client(std::uint16_t port, std::string_view target = "/ws",
                              duration timeout = std::chrono::seconds(10));
    ~websocket_client();
    websocket_client(const websocket_client&) = delete;
    websocket_client& operator=(const websocket_client&) = delete;

    /// Whether the handshake succeeded.
    bool open() const;
    /// Why the connect or handshake failed (or the last operation's error).
    boost::system::error_code error() const;
    /// Status of the handshake response (101 on success, 0 when none arrived).
    unsigned handshake_status() const;

    /// Sends `data` as one text message.
    bool send_text(std::string_view data);
    /// Sends `data` as one binary message.
    bool send_binary(std::string_view data);
    /// Reads one whole message; nullopt on close, error or deadline.
    std::optional<message> receive();
    /// Sends a close frame and waits for the peer's; true on a clean close.
    bool close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace tracegate::test
