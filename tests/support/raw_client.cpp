#include "tests/support/raw_client.hpp"

#include <boost/asio.hpp>

#include <algorithm>
#include <charconv>

namespace tracegate::test {
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct raw_client::impl {
    net::io_context ioc{1};
    tcp::socket socket{ioc};
    boost::system::error_code error;
    bool connected = false;

    /// Starts an operation with `start(handler)` and runs it until it completes or
    /// `deadline` passes; then it is cancelled and timed_out is returned.
    template <class Start>
    boost::system::error_code run(Start start, clock_type::time_point deadline,
                                  std::size_t* bytes = nullptr) {
        bool done = false;
        boost::system::error_code result;
        start([&](boost::system::error_code ec, std::size_t n = 0) {
            done = true;
            result = ec;
            if (bytes) *bytes = n;
        });
        ioc.restart();
        while (!done && ioc.run_one_until(deadline) > 0) {
        }
        if (!done) {
            boost::system::error_code ignored;
            socket.cancel(ignored);
            ioc.restart();
            while (!done) ioc.run_one();
            if (result == net::error::operation_aborted) result = net::error::timed_out;
        }
        return result;
    }
};

raw_client::raw_client(std::uint16_t port, duration timeout) : impl_(std::make_unique<impl>()) {
    auto& s = *impl_;
    const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port);
    s.error = s.run([&](auto handler) { s.socket.async_connect(endpoint, handler); },
                    clock_type::now() + timeout);
    s.connected = !s.error;
}

raw_client::~raw_client() { close(); }

bool raw_client::connected() const { return impl_->connected; }

boost::system::error_code raw_client::error() const { return impl_->error; }

bool raw_client::send(std::string_view bytes, duration timeout) {
    auto& s = *impl_;
    if (!s.socket.is_open()) return false;
    const auto ec = s.run(
        [&](auto handler) { net::async_write(s.socket, net::buffer(bytes.data(), bytes.size()), handler); },
        clock_type::now() + timeout);
    if (ec) s.error = ec;
    return !ec;
}

bool raw_client::send_slowly(std::string_view bytes, std::size_t piece, duration pause,
                             duration timeout) {
    const auto deadline = clock_type::now() + timeout;
    piece = std::max<std::size_t>(piece, 1);
    while (!bytes.empty()) {
        const auto now = clock_type::now();
        if (now >= deadline) return false;
        const auto n = std::min(piece, bytes.size());
        if (!send(bytes.substr(0, n), std::chrono::duration_cast<duration>(deadline - now)))
            return false;
        bytes.remove_prefix(n);
        if (bytes.empty()) break;
        // The pause is spent listening: an answer or a close ends the slow send.
        const auto pause_end = std::min(deadline, clock_type::now() + pause);
        if (receive_some(std::chrono::duration_cast<duration>(pause_end - clock_type::now())))
            return false;
    }
    return true;
}

void raw_client::shutdown_send() {
    boost::system::error_code ignored;
    impl_->socket.shutdown(tcp::socket::shutdown_send, ignored);
}

bool raw_client::receive_some(duration timeout) {
    auto& s = *impl_;
    if (closed_ || !s.socket.is_open()) return closed_;
    char chunk[16 * 1024];
    std::size_t n = 0;
    const auto ec = s.run([&](auto handler) { s.socket.async_read_some(net::buffer(chunk), handler); },
                          clock_type::now() + timeout, &n);
    received_.append(chunk, n);
    if (ec == net::error::timed_out) return n > 0;
    if (ec) {
        s.error = ec;
        closed_ = true;  // eof, reset, or another failure: the connection is over
    }
    return true;
}

bool raw_client::read_until(std::string_view needle, duration timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        if (received_.find(needle) != std::string::npos) return true;
        const auto now = clock_type::now();
        if (closed_ || now >= deadline) return false;
        receive_some(std::chrono::duration_cast<duration>(deadline - now));
    }
}

bool raw_client::read_until_closed(duration timeout) {
    const auto deadline = clock_type::now() + timeout;
    while (!closed_) {
        const auto now = clock_type::now();
        if (now >= deadline) return false;
        receive_some(std::chrono::duration_cast<duration>(deadline - now));
    }
    return true;
}

bool raw_client::read_response(duration timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        const auto parsed = responses();
        if (!parsed.empty() && parsed.front().complete) return true;
        const auto now = clock_type::now();
        if (closed_ || now >= deadline) return false;
        receive_some(std::chrono::duration_cast<duration>(deadline - now));
    }
}

std::optional<unsigned> raw_client::status() const {
    // "HTTP/1.1 404 Not Found"
    if (!received_.starts_with("HTTP/1.") || received_.size() < 12 || received_[8] != ' ')
        return std::nullopt;
    unsigned code = 0;
    auto [end, ec] = std::from_chars(received_.data() + 9, received_.data() + 12, code);
    if (ec != std::errc{} || end != received_.data() + 12) return std::nullopt;
    return code;
}

std::vector<http_response> raw_client::responses() const {
    return parse_responses(received_, closed_);
}

void raw_client::close() {
    boost::system::error_code ignored;
    impl_->socket.close(ignored);
}

void raw_client::reset() {
    boost::system::error_code ignored;
    impl_->socket.set_option(net::socket_base::linger(true, 0), ignored);
    impl_->socket.close(ignored);
}

}  // namespace tracegate::test
