#include "tests/support/scripted_upstream.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

namespace tracegate::test {
namespace net = boost::asio;

scripted_upstream::scripted_upstream(script serve)
    : serve_(std::move(serve)), acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { accept_loop(); });
}

scripted_upstream::scripted_upstream(std::string answer, bool close_at_once)
    : scripted_upstream([answer = std::move(answer), close_at_once](socket& s) {
          if (read_head(s).empty() || !write(s, answer) || close_at_once) return;
          drain(s);
      }) {}

scripted_upstream::~scripted_upstream() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // ends the blocking accept
    thread_.join();
    const std::lock_guard lock(mutex_);
    for (auto& [s, t] : served_) ::shutdown(s->native_handle(), SHUT_RDWR);  // ends blocking reads
    for (auto& [s, t] : served_) t.join();
}

std::string scripted_upstream::address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
}

void scripted_upstream::accept_loop() {
    for (;;) {
        auto s = std::make_unique<socket>(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(*s, ec);
        if (ec) return;
        ++accepted_;
        const std::lock_guard lock(mutex_);
        socket* raw = s.get();
        served_.emplace_back(std::move(s), std::thread([this, raw] {
                                 serve_(*raw);
                                 boost::system::error_code ignored;
                                 raw->shutdown(socket::shutdown_both, ignored);
                             }));
    }
}

std::string scripted_upstream::read_head(socket& s) {
    // One byte at a time: nothing past the blank line is taken from the socket, so a
    // script can read a body or a next request itself.
    std::string head;
    char byte;
    boost::system::error_code ec;
    while (!head.ends_with("\r\n\r\n")) {
        if (s.read_some(net::buffer(&byte, 1), ec) != 1 || ec) return {};
        head += byte;
    }
    return head;
}

bool scripted_upstream::write(socket& s, std::string_view bytes) {
    boost::system::error_code ec;
    net::write(s, net::buffer(bytes), ec);
    return !ec;
}

void scripted_upstream::drain(socket& s) {
    char buffer[4096];
    boost::system::error_code ec;
    while (!ec) s.read_some(net::buffer(buffer), ec);
}

}  // namespace tracegate::test
