#include "proxy/upstream_pool.hpp"

#include "proxy/tls_context.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/ssl.h>
#include <sys/socket.h>

namespace tracegate::proxy {
namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

bool has_spoken(duplex_stream& connection) {
    if (connection.is_tls() && ::SSL_pending(connection.tls().native_handle()) > 0) return true;
    char byte;
    const ssize_t n = ::recv(connection.tcp().socket().native_handle(), &byte, 1,
                             MSG_PEEK | MSG_DONTWAIT);
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

std::unique_ptr<upstream_connection> upstream_pool::take(const config::address& endpoint,
                                                         std::chrono::milliseconds max_idle_age) {
    if (idle_.empty()) return nullptr;
    key_.clear();
    endpoint.append_to(key_);
    auto it = idle_.find(key_);
    if (it == idle_.end()) return nullptr;
    auto& list = it->second;
    const auto now = std::chrono::steady_clock::now();
    while (!list.empty()) {
        // Most recently used first: the least likely to have been closed by the upstream.
        auto connection = std::move(list.back());
        list.pop_back();
        const auto idle = now - connection->idle_since;
        if (max_idle_age.count() > 0 && idle > max_idle_age) continue;
        if (has_spoken(connection->stream)) continue;
        connection->reused = true;
        return connection;
    }
    return nullptr;
}

void upstream_pool::put(std::unique_ptr<upstream_connection> connection, std::size_t max_idle) {
    auto& list = idle_[connection->key];
    if (list.size() >= max_idle) return;  // closes it
    connection->idle_since = std::chrono::steady_clock::now();
    connection->stream.tcp().expires_never();
    list.push_back(std::move(connection));
}

std::size_t upstream_pool::idle_count() const {
    std::size_t n = 0;
    for (const auto& [key, list] : idle_) n += list.size();
    return n;
}

net::awaitable<connect_result> connect_upstream(const config::address& endpoint,
                                                std::chrono::milliseconds timeout,
                                                std::chrono::steady_clock::time_point deadline,
                                                upstream_tls tls) {
    auto executor = co_await net::this_coro::executor;
    connect_result result;
    const auto connect_deadline = std::min(deadline, std::chrono::steady_clock::now() + timeout);

    beast::tcp_stream stream(executor);
    boost::system::error_code ec;
    const auto ip = net::ip::make_address(endpoint.host, ec);
    if (!ec) {
        stream.expires_at(connect_deadline);
        std::tie(ec) = co_await stream.async_connect(tcp::endpoint(ip, endpoint.port),
                                                     net::as_tuple(net::use_awaitable));
    } else {
        // The lookup shares the connect deadline: a slow resolver is a failed connect.
        using namespace net::experimental::awaitable_operators;
        tcp::resolver resolver(executor);
        net::steady_timer timer(executor, connect_deadline);
        auto raced = co_await (resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                                      net::as_tuple(net::use_awaitable)) ||
                               timer.async_wait(net::as_tuple(net::use_awaitable)));
        tcp::resolver::results_type results;
        if (raced.index() == 1) {
            ec = beast::error::timeout;
        } else {
            std::tie(ec, results) = std::get<0>(std::move(raced));
        }
        if (!ec) {
            stream.expires_at(connect_deadline);
            auto [cec, ep] =
                co_await stream.async_connect(results, net::as_tuple(net::use_awaitable));
            ec = cec;
        }
    }
    if (ec) {
        result.detail = ec.message();
        if (ec == beast::error::timeout)
            result.failure = connect_failure::timeout;
        else if (ec == net::error::connection_refused)
            result.failure = connect_failure::refused;
        else
            result.failure = connect_failure::failed;
        co_return result;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    if (!tls.context) {
        stream.expires_never();
        result.connection = std::make_unique<upstream_connection>(duplex_stream(std::move(stream)));
        result.connection->key = endpoint.to_string();
        co_return result;
    }
    duplex_stream secured(std::move(stream), *tls.context);
    if (!prepare_client_stream(secured.tls().native_handle(), *tls.config, endpoint.host)) {
        result.failure = connect_failure::tls;
        result.tls_failure = "bad_server_name";
        result.detail = "TLS: server name not accepted";
        co_return result;
    }
    // The handshake keeps the connect deadline set above.
    auto [hec] = co_await secured.tls().async_handshake(net::ssl::stream_base::client,
                                                        net::as_tuple(net::use_awaitable));
    if (hec) {
        result.failure = connect_failure::tls;
        result.tls_failure = handshake_failure_kind(hec, secured.tls().native_handle());
        result.detail = "TLS handshake failed (" + std::string(result.tls_failure) + "): " + hec.message();
        co_return result;
    }
    secured.tcp().expires_never();
    result.connection = std::make_unique<upstream_connection>(std::move(secured));
    result.connection->key = endpoint.to_string();
    co_return result;
}

}  // namespace tracegate::proxy
