#include "tests/support/websocket_client.hpp"

#include "tests/support/sync_run.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace tracegate::test {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {
constexpr auto nothrow = net::as_tuple(net::use_awaitable);
}  // namespace

struct websocket_client::impl {
    net::io_context ioc{1};
    websocket::stream<beast::tcp_stream> ws{ioc};
    duration timeout{};
    boost::system::error_code error;
    unsigned status = 0;
    bool open = false;

    void arm() { beast::get_lowest_layer(ws).expires_after(timeout); }

    net::awaitable<bool> connect(std::uint16_t port, std::string target) {
        const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port);
        arm();
        auto [ec] = co_await beast::get_lowest_layer(ws).async_connect(endpoint, nothrow);
        if (ec) {
            error = ec;
            co_return false;
        }
        websocket::response_type res;
        arm();
        std::tie(ec) = co_await ws.async_handshake(res, "127.0.0.1:" + std::to_string(port),
                                                   target, nothrow);
        status = res.result_int();
        error = ec;
        co_return !ec;
    }

    net::awaitable<bool> send(std::string data, bool text) {
        ws.text(text);
        arm();
        auto [ec, n] = co_await ws.async_write(net::buffer(data), nothrow);
        error = ec;
        co_return !ec;
    }

    net::awaitable<std::optional<message>> receive() {
        beast::flat_buffer buffer;
        arm();
        auto [ec, n] = co_await ws.async_read(buffer, nothrow);
        error = ec;
        if (ec) co_return std::nullopt;
        co_return message{ws.got_text(), beast::buffers_to_string(buffer.data())};
    }

    net::awaitable<bool> close() {
        // async_close sends our close frame, then reads (discarding) until the peer's
        // close frame arrives and tears the connection down.
        arm();
        auto [ec] = co_await ws.async_close(websocket::close_code::normal, nothrow);
        error = ec;
        co_return !ec;
    }
};

websocket_client::websocket_client(std::uint16_t port, std::string_view target, duration timeout)
    : impl_(std::make_unique<impl>()) {
    impl_->timeout = timeout;
    impl_->ws.read_message_max(64 * 1024 * 1024);
    impl_->open = sync_run(impl_->ioc, impl_->connect(port, std::string(target)));
}

websocket_client::~websocket_client() {
    boost::system::error_code ignored;
    beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

bool websocket_client::open() const { return impl_->open; }

boost::system::error_code websocket_client::error() const { return impl_->error; }

unsigned websocket_client::handshake_status() const { return impl_->status; }

bool websocket_client::send_text(std::string_view data) {
    return impl_->open && sync_run(impl_->ioc, impl_->send(std::string(data), true));
}

bool websocket_client::send_binary(std::string_view data) {
    return impl_->open && sync_run(impl_->ioc, impl_->send(std::string(data), false));
}

std::optional<websocket_client::message> websocket_client::receive() {
    if (!impl_->open) return std::nullopt;
    return sync_run(impl_->ioc, impl_->receive());
}

bool websocket_client::close() {
    if (!impl_->open) return false;
    const bool clean = sync_run(impl_->ioc, impl_->close());
    impl_->open = false;
    return clean;
}

}  // namespace tracegate::test
