// A connection that is plain TCP or TLS, chosen at run time: one type for sessions and
// relays, so HTTP code is written (and compiled) once. Reads and writes dispatch on the
// variant per operation; deadlines and the socket are those of the TCP layer under both.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <variant>

namespace tracegate::proxy {

class duplex_stream {
public:
    using tcp_stream = boost::beast::tcp_stream;
    using tls_stream = boost::beast::ssl_stream<tcp_stream>;
    using executor_type = tcp_stream::executor_type;

    /// Plain TCP.
    explicit duplex_stream(tcp_stream&& tcp) : s_(std::in_place_index<0>, std::move(tcp)) {}
    /// TLS over `tcp` with `context`; handshake() before anything else.
    duplex_stream(tcp_stream&& tcp, boost::asio::ssl::context& context)
        : s_(std::in_place_index<1>, std::move(tcp), context) {}

    executor_type get_executor() noexcept { return tcp().get_executor(); }

    /// The TCP layer: deadlines (expires_after ...), the socket, under TLS or not.
    tcp_stream& tcp() noexcept {
        if (auto* t = std::get_if<1>(&s_)) return t->next_layer();
        return std::get<0>(s_);
    }
    bool is_tls() const noexcept { return s_.index() == 1; }
    /// The TLS layer; only when is_tls().
    tls_stream& tls() noexcept { return std::get<1>(s_); }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                if (auto* t = std::get_if<1>(&s_))
                    t->async_read_some(b, std::move(handler));
                else
                    std::get<0>(s_).async_read_some(b, std::move(handler));
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& b) {
                if (auto* t = std::get_if<1>(&s_))
                    t->async_write_some(b, std::move(handler));
                else
                    std::get<0>(s_).async_write_some(b, std::move(handler));
            },
            token, buffers);
    }

private:
    std::variant<tcp_stream, tls_stream> s_;
};

}  // namespace tracegate::proxy
