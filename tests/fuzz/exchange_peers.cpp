#include "tests/fuzz/exchange_peers.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace tracegate::fuzz {
namespace http = boost::beast::http;

namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/// The value of header `name` in the head at the start of `bytes` (case-insensitive).
template <class Fields>
std::optional<std::string> field(const Fields& fields, std::string_view name) {
    const auto it = fields.find(name);
    if (it == fields.end()) return std::nullopt;
    return std::string(it->value());
}

constexpr auto upstream_read_deadline = std::chrono::seconds(5);

}  // namespace

int connect_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const sockaddr_in a = loopback(port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool read_some(int fd, std::string& into, clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) return true;
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return false;
        if (ready == 0) return true;
        char chunk[16384];
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        into.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
}

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("fuzz: no free loopback port");
    ::close(fd);
    return ntohs(a.sin_port);
}

// ---- The upstream -----------------------------------------------------------------------

scripted_upstream::scripted_upstream() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (::bind(listener_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 128) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("fuzz: the upstream cannot listen");
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

scripted_upstream::~scripted_upstream() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    ::close(listener_);
    while (serving_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

void scripted_upstream::script(std::uint64_t seq, upstream_script s) {
    std::lock_guard lock(mutex_);
    scripts_[seq] = std::move(s);
}

int scripted_upstream::received(std::uint64_t seq) const {
    std::lock_guard lock(mutex_);
    const auto it = received_.find(seq);
    return it == received_.end() ? 0 : it->second;
}

void scripted_upstream::forget_before(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    scripts_.erase(scripts_.begin(), scripts_.lower_bound(seq));
    received_.erase(received_.begin(), received_.lower_bound(seq));
}

bool scripted_upstream::wait_for_late_writes(clock::time_point deadline) const {
    while (late_pending_.load() > 0) {
        if (clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

upstream_script scripted_upstream::script_for(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    ++received_[seq];
    if (const auto it = scripts_.find(seq); it != scripts_.end()) {
        if (!it->second.late.empty()) ++late_pending_;
        return it->second;
    }
    return {"HTTP/1.1 200 OK\r\nx-fuzz-seq: unlabelled\r\ncontent-length: 0\r\n\r\n", after_answer::keep, false};
}

void scripted_upstream::accept_loop() {
    while (!stopping_) {
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;
        }
        // Written means sent: without it Nagle holds a `late` write until the proxy's
        // delayed ACK, and the bytes land after the proxy's check of the idle connection.
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ++serving_;
        std::thread([this, fd] {
            try {
                serve(fd);
            } catch (...) {
            }
            ::close(fd);
            --serving_;
        }).detach();
    }
}

void scripted_upstream::serve(int fd) {
    std::string buffer;
    while (!stopping_) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(1u << 20);
        parser.body_limit(boost::none);
        parser.eager(true);
        bool answered = false;
        bool header_seen = false;
        upstream_script s;
        // A late write counted by script_for: done after writing it, or when this exchange
        // ends without (the upstream hung up, or the proxy did).
        struct late_owed {
            std::atomic<int>& pending;
            bool owed = false;
            void pay() {
                if (owed) --pending;
                owed = false;
            }
            ~late_owed() { pay(); }
        } late{late_pending_};
        auto answer = [&]() {
            answered = true;
            if (!write_all(fd, s.answer)) return false;
            if (!s.late.empty()) {
                // After the proxy has read the answer: bytes on an idle connection.
                std::this_thread::sleep_for(std::chrono::milliseconds(3));
                write_all(fd, s.late);
                late.pay();
            }
            if (s.then == after_answer::reset) {
                const linger hard{1, 0};
                ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            }
            return s.then == after_answer::keep;
        };
        while (!parser.is_done()) {
            bool progressed = false;
            if (!buffer.empty()) {
                boost::system::error_code ec;
                const std::size_t used = parser.put(boost::asio::buffer(buffer), ec);
                buffer.erase(0, used);
                if (ec && ec != http::error::need_more) return;
                progressed = used > 0;
            }
            if (parser.is_header_done() && !header_seen) {
                header_seen = true;
                const auto label = field(parser.get(), "x-fuzz-seq");
                std::uint64_t seq = 0;
                if (label) seq = std::strtoull(label->c_str(), nullptr, 10);
                s = script_for(seq);
                late.owed = !s.late.empty();
                if (s.before_body && !answer()) return;
                if (!s.before_body && field(parser.get(), "expect") &&
                    !write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n"))
                    return;
                continue;
            }
            if (parser.is_done()) break;
            if (progressed) continue;
            const std::size_t had = buffer.size();
            if (!read_some(fd, buffer, clock::now() + upstream_read_deadline) || buffer.size() == had) return;
        }
        if (!answered && !answer()) return;
    }
}

// ---- The client's view --------------------------------------------------------------------

std::vector<client_response> parse_responses(std::string_view bytes, bool eof,
                                             const std::vector<bool>& head_requests) {
    std::vector<client_response> out;
    std::size_t final_responses = 0;
    while (!bytes.empty()) {
        http::response_parser<http::string_body> parser;
        parser.header_limit(1u << 20);
        parser.body_limit(boost::none);
        parser.eager(true);
        if (final_responses < head_requests.size() && head_requests[final_responses]) parser.skip(true);
        std::string_view rest = bytes;
        boost::system::error_code ec;
        try {
            while (!parser.is_done() && !rest.empty()) {
                const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
                rest.remove_prefix(used);
                if (ec || used == 0) break;
            }
            if (!parser.is_done() && eof && (!ec || ec == http::error::need_more)) {
                ec = {};
                parser.put_eof(ec);
            }
        } catch (const std::length_error&) {
            return out;
        }
        if (!parser.is_done() || (ec && ec != http::error::need_more)) return out;
        const auto& m = parser.get();
        client_response r;
        r.status = m.result_int();
        r.label = field(m, "x-fuzz-seq");
        r.proxy_error = field(m, "x-tracegate-error");
        r.body = m.body();
        bytes = rest;
        if (r.status >= 100 && r.status < 200 && r.status != 101) continue;
        ++final_responses;
        out.push_back(std::move(r));
        if (out.back().status == 101) break;
    }
    return out;
}

}  // namespace tracegate::fuzz
