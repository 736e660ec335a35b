#include "tests/support/upstream_server.hpp"

#include "tests/support/payload.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <iostream>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_set>

namespace tracegate::test {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto nothrow = net::as_tuple(net::use_awaitable);
/// How long an idle keep-alive connection (e.g. in the proxy's pool) stays open.
constexpr auto idle_timeout = 120s;
/// Deadline for one read or write of a piece while a message is in progress.
constexpr auto io_timeout = 30s;

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

std::optional<std::uint64_t> parse_number(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<std::string> recorded_request::header(std::string_view name) const {
    return find_header(headers, name);
}

bool recorded_request::has_header(std::string_view name) const {
    return count_header(headers, name) > 0;
}

struct upstream_server::impl {
    std::string name;
    std::string host;
    std::uint16_t port = 0;

    // Declared before the io_context: coroutine frames it destroys still touch these.
    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::vector<recorded_request> log;
    std::size_t cleared = 0;  ///< Sequence number of log[0].
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::size_t> open{0};
    std::atomic<std::uint64_t> dropped{0};
    std::unordered_set<tcp::socket*> sockets;  ///< Open connections; io thread only.

    net::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    std::thread thread;

    /// Keeps a connection's socket in `sockets` for stop() while the session lives.
    class registration {
    public:
        registration(impl& s, tcp::socket* socket) : s_(s), socket_(socket) {
            s_.sockets.insert(socket_);
            ++s_.open;
        }
        ~registration() {
            s_.sockets.erase(socket_);
            --s_.open;
        }
        void move_to(tcp::socket* socket) {
            s_.sockets.erase(socket_);
            socket_ = socket;
            s_.sockets.insert(socket_);
        }
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;

    private:
        impl& s_;
        tcp::socket* socket_;
    };

    std::size_t record(recorded_request r) {
        std::lock_guard lock(mutex);
        log.push_back(std::move(r));
        changed.notify_all();
        return cleared + log.size() - 1;
    }

    void finish(std::size_t sequence, std::uint64_t body_bytes) {
        std::lock_guard lock(mutex);
        if (sequence >= cleared && sequence - cleared < log.size()) {
            auto& r = log[sequence - cleared];
            r.body_bytes = body_bytes;
            r.complete = true;
        }
        changed.notify_all();
    }

    net::awaitable<void> accept_loop();
    net::awaitable<void> session(beast::tcp_stream stream, std::uint64_t id);
    net::awaitable<void> websocket_echo(beast::tcp_stream stream, registration& reg,
                                        const http::request<http::buffer_body>& upgrade);
};

namespace {

void log_exception(std::exception_ptr e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::cerr << "upstream_server: session failed: " << ex.what() << "\n";
    }
}

template <class Message>
void stamp(Message& res, const std::string& name, std::uint64_t connection, bool keep_alive) {
    res.set("x-upstream-name", name);
    res.set("x-upstream-connection", std::to_string(connection));
    res.keep_alive(keep_alive);
}

/// Writes a complete response; false when the connection failed.
template <class Body>
net::awaitable<bool> send(beast::tcp_stream& stream, http::response<Body>& res) {
    stream.expires_after(io_timeout);
    auto [ec, n] = co_await http::async_write(stream, res, nothrow);
    co_return !ec;
}

/// Reads whatever body the request has, streaming, into `digest`.
net::awaitable<bool> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                               http::request_parser<http::buffer_body>& parser,
                               std::vector<char>& chunk, body_digest& digest) {
    while (!parser.is_done()) {
        auto& body = parser.get().body();
        body.data = chunk.data();
        body.size = chunk.size();
        stream.expires_after(io_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return false;
        digest.update(chunk.data(), chunk.size() - parser.get().body().size);
    }
    co_return true;
}

/// Streams `n` pattern bytes in pattern_chunk pieces through a buffer_body serializer.
net::awaitable<bool> send_bytes(beast::tcp_stream& stream, http::response<http::buffer_body>& res,
                                std::uint64_t n) {
    http::response_serializer<http::buffer_body> sr{res};
    res.body().data = nullptr;
    res.body().more = true;
    stream.expires_after(io_timeout);
    auto [ec, w] = co_await http::async_write_header(stream, sr, nothrow);
    if (ec) co_return false;
    for (std::uint64_t offset = 0; offset < n;) {
        const auto piece = static_cast<std::size_t>(std::min<std::uint64_t>(pattern_chunk, n - offset));
        res.body().data = const_cast<char*>(pattern_data(offset));
        res.body().size = piece;
        res.body().more = true;
        stream.expires_after(io_timeout);
        auto [ec2, w2] = co_await http::async_write(stream, sr, nothrow);
        if (ec2 == http::error::need_buffer) ec2 = {};
        if (ec2) co_return false;
        offset += piece;
    }
    res.body().data = nullptr;
    res.body().size = 0;
    res.body().more = false;
    stream.expires_after(io_timeout);
    auto [ec3, w3] = co_await http::async_write(stream, sr, nothrow);
    co_return !ec3;
}

void close_now(beast::tcp_stream& stream) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
}

}  // namespace

net::awaitable<void> upstream_server::impl::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(nothrow);
        if (ec) {
            if (!acceptor.is_open() || ec == net::error::operation_aborted) co_return;
            continue;
        }
        const auto id = ++accepted;
        net::co_spawn(ioc, session(beast::tcp_stream(std::move(socket)), id), log_exception);
    }
}

net::awaitable<void> upstream_server::impl::session(beast::tcp_stream stream, std::uint64_t id) {
    registration reg(*this, &stream.socket());
    beast::flat_buffer buffer;
    std::vector<char> chunk(pattern_chunk);
    bool die_on_next = false;

    for (;;) {
        http::request_parser<http::buffer_body> parser;
        parser.header_limit(1024 * 1024);
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        stream.expires_after(idle_timeout);
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, nothrow);
        if (ec) co_return;  // closed by the peer, idle, or not HTTP
        if (die_on_next) {
            ++dropped;
            close_now(stream);
            co_return;
        }

        const auto& req = parser.get();
        recorded_request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.version = req.version();
        for (const auto& field : req) r.headers.emplace_back(field.name_string(), field.value());
        r.connection_id = id;
        const auto sequence = record(std::move(r));

        const std::string target(req.target());
        const auto query_at = target.find('?');
        const std::string path = target.substr(0, query_at);
        const std::string query = query_at == std::string::npos ? "" : target.substr(query_at + 1);
        const bool head = req.method() == http::verb::head;
        const bool keep_alive = req.keep_alive();

        if (path == "/ws" && websocket::is_upgrade(req)) {
            finish(sequence, 0);
            co_await websocket_echo(std::move(stream), reg, req);
            co_return;
        }

        if (iequals(req[http::field::expect], "100-continue") && !parser.is_done()) {
            static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
            stream.expires_after(io_timeout);
            auto [ec1, w] = co_await net::async_write(stream, net::buffer(continue_line), nothrow);
            if (ec1) co_return;
        }
        body_digest digest;
        if (!co_await read_body(stream, buffer, parser, chunk, digest)) co_return;
        finish(sequence, digest.bytes);

        if (path == "/close-now") {
            close_now(stream);
            co_return;
        }
        if (path == "/close-after-headers") {
            const std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                                        "Content-Type: text/plain\r\nx-upstream-name: " +
                                        name + "\r\n\r\n0123456789";
            stream.expires_after(io_timeout);
            co_await net::async_write(stream, net::buffer(partial), nothrow);
            close_now(stream);
            co_return;
        }

        bool ok = true;
        if (path.starts_with("/bytes/")) {
            const auto count = parse_number(std::string_view(path).substr(7));
            if (count) {
                const bool chunked = query.find("chunked=1") != std::string::npos;
                http::response<http::buffer_body> res{http::status::ok, 11};
                res.set(http::field::content_type, "application/octet-stream");
                stamp(res, name, id, keep_alive);
                bool close_delimited = false;
                if (!chunked)
                    res.content_length(*count);
                else if (req.version() >= 11)
                    res.chunked(true);
                else
                    close_delimited = true;  // HTTP/1.0 knows no chunked coding
                if (close_delimited) res.keep_alive(false);
                if (head) {
                    http::response<http::empty_body> h{res.base()};
                    ok = co_await send(stream, h);
                } else {
                    ok = co_await send_bytes(stream, res, *count);
                }
                if (!ok || !keep_alive || close_delimited) break;
                continue;
            }
        }

        http::status status = http::status::ok;
        std::string text = "ok " + path + "\n";
        if (path.starts_with("/status/")) {
            const auto code = parse_number(std::string_view(path).substr(8));
            if (code && *code >= 200 && *code <= 599) {
                status = static_cast<http::status>(*code);
                text = "status " + std::to_string(*code) + "\n";
            } else {
                status = http::status::bad_request;
                text = "status must be 200..599\n";
            }
        } else if (path.starts_with("/delay/")) {
            const auto ms = parse_number(std::string_view(path).substr(7));
            if (ms) {
                net::steady_timer timer(stream.get_executor(), std::chrono::milliseconds(*ms));
                co_await timer.async_wait(nothrow);
            }
        } else if (path == "/sink") {
            text = digest.to_string() + "\n";
        } else if (path == "/ws") {
            status = http::status::bad_request;
            text = "/ws needs a WebSocket upgrade\n";
        }

        if (status == http::status::no_content || status == http::status::not_modified) {
            http::response<http::empty_body> res{status, 11};
            stamp(res, name, id, keep_alive);
            ok = co_await send(stream, res);
        } else if (head) {
            http::response<http::empty_body> res{status, 11};
            stamp(res, name, id, keep_alive);
            res.set(http::field::content_type, "text/plain");
            res.content_length(text.size());
            ok = co_await send(stream, res);
        } else {
            http::response<http::string_body> res{status, 11, std::move(text)};
            stamp(res, name, id, keep_alive);
            res.set(http::field::content_type, "text/plain");
            res.prepare_payload();
            ok = co_await send(stream, res);
        }
        if (path == "/die-on-next") die_on_next = true;
        if (!ok || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> upstream_server::impl::websocket_echo(
    beast::tcp_stream stream, registration& reg, const http::request<http::buffer_body>& upgrade) {
    websocket::stream<beast::tcp_stream> ws(std::move(stream));
    reg.move_to(&beast::get_lowest_layer(ws).socket());
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.read_message_max(64 * 1024 * 1024);
    auto [ec] = co_await ws.async_accept(upgrade, nothrow);
    if (ec) co_return;
    beast::flat_buffer buffer;
    for (;;) {
        auto [rec, n] = co_await ws.async_read(buffer, nothrow);
        if (rec) co_return;  // closed (Beast answers the close frame) or failed
        ws.text(ws.got_text());
        auto [wec, w] = co_await ws.async_write(buffer.data(), nothrow);
        if (wec) co_return;
        buffer.consume(buffer.size());
    }
}

upstream_server::upstream_server() : upstream_server(upstream_options{}) {}

upstream_server::upstream_server(std::string name)
    : upstream_server(upstream_options{.name = std::move(name)}) {}

upstream_server::upstream_server(upstream_options options) : impl_(std::make_unique<impl>()) {
    auto& s = *impl_;
    s.name = options.name;
    s.host = options.host;
    const tcp::endpoint endpoint(net::ip::make_address(options.host), options.port);
    s.acceptor.open(endpoint.protocol());
    s.acceptor.set_option(tcp::acceptor::reuse_address(true));
    s.acceptor.bind(endpoint);
    s.acceptor.listen(net::socket_base::max_listen_connections);
    s.port = s.acceptor.local_endpoint().port();
    net::co_spawn(s.ioc, s.accept_loop(), log_exception);
    s.thread = std::thread([&s] { s.ioc.run(); });
}

upstream_server::~upstream_server() { stop(); }

std::uint16_t upstream_server::port() const { return impl_->port; }

std::string upstream_server::address() const {
    const bool v6 = impl_->host.find(':') != std::string::npos;
    return (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" + std::to_string(impl_->port);
}

const std::string& upstream_server::name() const { return impl_->name; }

std::vector<recorded_request> upstream_server::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->log;
}

std::size_t upstream_server::request_count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->log.size();
}

bool upstream_server::wait_for_requests(std::size_t n, clock::duration timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] { return impl_->log.size() >= n; });
}

bool upstream_server::wait_for_complete(clock::duration timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout,
                                   [&] { return !impl_->log.empty() && impl_->log.back().complete; });
}

void upstream_server::clear_requests() {
    std::lock_guard lock(impl_->mutex);
    impl_->cleared += impl_->log.size();
    impl_->log.clear();
}

std::uint64_t upstream_server::connections_accepted() const { return impl_->accepted.load(); }

std::size_t upstream_server::open_connections() const { return impl_->open.load(); }

std::uint64_t upstream_server::dropped_requests() const { return impl_->dropped.load(); }

void upstream_server::stop() {
    auto& s = *impl_;
    if (!s.thread.joinable()) return;
    net::post(s.ioc, [&s] {
        boost::system::error_code ignored;
        s.acceptor.close(ignored);
        for (auto* socket : s.sockets) {
            socket->shutdown(tcp::socket::shutdown_both, ignored);
            socket->close(ignored);
        }
        s.ioc.stop();
    });
    s.thread.join();
}

}  // namespace tracegate::test
