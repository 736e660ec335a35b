// An upstream that behaves as a test scripts it, byte for byte: for the answers no sane
// server gives (malformed framing, bytes after a response, a 101 nobody asked for).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace tracegate::test {

class scripted_upstream {
public:
    using socket = boost::asio::ip::tcp::socket;
    /// Serves one accepted connection; runs on a thread of its own per connection and
    /// should return when the peer closes (reads fail once the upstream is destroyed).
    using script = std::function<void(socket&)>;

    /// Every connection is served by `serve`.
    explicit scripted_upstream(script serve);
    /// Answers the first request on each connection with `answer`, then holds the
    /// connection open until the peer closes it; with `close_at_once`, closes it right
    /// after the answer, unread request bytes and all (a server refusing an upload early).
    explicit scripted_upstream(std::string answer, bool close_at_once = false);
    ~scripted_upstream();
    scripted_upstream(const scripted_upstream&) = delete;
    scripted_upstream& operator=(const scripted_upstream&) = delete;

    /// "127.0.0.1:PORT".
    std::string address() const;
    /// Connections accepted so far.
    std::size_t connections() const { return accepted_.load(); }

    /// Reads one request header (through the blank line) from `s`; empty on EOF or error.
    static std::string read_head(socket& s);
    /// Writes all of `bytes`; false when the connection failed.
    static bool write(socket& s, std::string_view bytes);
    /// Reads and drops everything until the peer closes.
    static void drain(socket& s);

private:
    void accept_loop();

    script serve_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::atomic<std::size_t> accepted_{0};
    std::mutex mutex_;
    std::list<std::pair<std::unique_ptr<socket>, std::thread>> served_;
    std::thread thread_;
};

}  // namespace tracegate::test
