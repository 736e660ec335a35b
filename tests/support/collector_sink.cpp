#include "tests/support/collector_sink.hpp"

#include "tracing/gzip.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace tracegate::test {
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto nothrow = net::as_tuple(net::use_awaitable);
/// How long an idle keep-alive connection stays open.
constexpr auto idle_timeout = 120s;
/// Deadline for a TLS handshake and for writing a reply.
constexpr auto io_timeout = 30s;
/// Bigger request bodies are refused by closing: no export batch is this big.
constexpr std::uint64_t max_body = 64u << 20;

void log_exception(std::exception_ptr e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::cerr << "collector_sink: session failed: " << ex.what() << "\n";
    }
}

}  // namespace

std::optional<std::string> sink_request::header(std::string_view name) const {
    return find_header(headers, name);
}

struct collector_sink::impl {
    /// One listening period, from start() to stop(): destroyed (with the coroutine frames
    /// its io_context holds) by stop().
    struct run_state {
        // Declared before the io_context: coroutine frames it destroys still touch these.
        std::unordered_set<tcp::socket*> sockets;  ///< Open connections; io thread only.
        net::io_context ioc{1};
        tcp::acceptor acceptor{ioc};
        std::thread thread;
    };

    /// Keeps a connection's socket in run_state::sockets for stop() while it lives.
    struct registration {
        registration(run_state& r, tcp::socket* s) : run(r), socket(s) { run.sockets.insert(socket); }
        ~registration() { run.sockets.erase(socket); }
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;
        run_state& run;
        tcp::socket* socket;
    };

    collector_sink_options options;
    std::optional<ssl::context> tls;

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::vector<sink_request> log;
    std::deque<sink_reply> scripted;
    std::atomic<bool> never_answer{false};
    std::atomic<std::uint64_t> accepted{0};
    std::unique_ptr<run_state> run;  ///< Null while stopped; touched by the owner thread only.

    void record(sink_request r) {
        std::lock_guard lock(mutex);
        log.push_back(std::move(r));
        changed.notify_all();
    }

    sink_reply next_reply() {
        std::lock_guard lock(mutex);
        if (scripted.empty()) return options.default_reply;
        auto reply = std::move(scripted.front());
        scripted.pop_front();
        return reply;
    }

    net::awaitable<void> accept_loop(run_state& r);
    template <class Stream>
    net::awaitable<void> serve(Stream& stream, std::uint64_t id);
    net::awaitable<void> session(run_state& r, tcp::socket socket, std::uint64_t id);
};

net::awaitable<void> collector_sink::impl::accept_loop(run_state& r) {
    for (;;) {
        auto [ec, socket] = co_await r.acceptor.async_accept(nothrow);
        if (ec) {
            if (!r.acceptor.is_open() || ec == net::error::operation_aborted) co_return;
            continue;
        }
        const auto id = ++accepted;
        net::co_spawn(r.ioc, session(r, std::move(socket), id), log_exception);
    }
}

net::awaitable<void> collector_sink::impl::session(run_state& r, tcp::socket socket,
                                                   std::uint64_t id) {
    beast::tcp_stream plain(std::move(socket));
    registration reg(r, &plain.socket());
    if (!tls) {
        co_await serve(plain, id);
        co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), *tls);
    registration tls_reg(r, &stream.next_layer().socket());
    stream.next_layer().expires_after(io_timeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, nothrow);
    if (ec) co_return;  // the client refused the certificate, or was not TLS
    co_await serve(stream, id);
}

template <class Stream>
net::awaitable<void> collector_sink::impl::serve(Stream& stream, std::uint64_t id) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(1 << 20);
        parser.body_limit(max_body);
        tcp_layer.expires_after(idle_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) break;  // closed by the peer, idle, or not HTTP

        auto req = parser.release();
        sink_request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        for (const auto& field : req) r.headers.emplace_back(field.name_string(), field.value());
        r.body = std::move(req.body());
        if (beast::iequals(req[http::field::content_encoding], "gzip"))
            r.decode_failed = !tracing::gzip_decompress(r.body, r.decoded_body);
        else
            r.decoded_body = r.body;
        r.connection_id = id;
        r.received = clock::now();
        record(std::move(r));

        if (never_answer) {
            // Hold the connection: read (and ignore) until the client gives up.
            tcp_layer.expires_never();
            char scratch[512];
            for (;;) {
                auto [rec, got] = co_await tcp_layer.async_read_some(net::buffer(scratch), nothrow);
                if (rec) co_return;
            }
        }

        const auto reply = next_reply();
        if (reply.delay.count() > 0) {
            net::steady_timer timer(tcp_layer.get_executor(), reply.delay);
            co_await timer.async_wait(nothrow);
        }
        if (reply.drop) break;
        http::response<http::string_body> res;
        res.version(11);
        res.result(reply.status);
        if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
        for (const auto& [name, value] : reply.headers) res.insert(name, value);
        res.body() = reply.body;
        res.keep_alive(req.keep_alive() && !reply.close);
        res.prepare_payload();
        tcp_layer.expires_after(io_timeout);
        auto [wec, w] = co_await http::async_write(stream, res, nothrow);
        if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

collector_sink::collector_sink() : collector_sink(collector_sink_options{}) {}

collector_sink::collector_sink(collector_sink_options options) : impl_(std::make_unique<impl>()) {
    impl_->options = std::move(options);
    if (const auto& files = impl_->options.tls) {
        auto& tls = impl_->tls.emplace(ssl::context::tls_server);
        tls.use_certificate_chain_file(files->cert_file);
        tls.use_private_key_file(files->key_file, ssl::context::pem);
    }
    start();
}

collector_sink::~collector_sink() { stop(); }

std::uint16_t collector_sink::port() const { return impl_->options.port; }

std::string collector_sink::url(std::string_view path) const {
    return (impl_->tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port()) +
           std::string(path);
}

void collector_sink::push_reply(sink_reply reply) {
    std::lock_guard lock(impl_->mutex);
    impl_->scripted.push_back(std::move(reply));
}

void collector_sink::set_default_reply(sink_reply reply) {
    std::lock_guard lock(impl_->mutex);
    impl_->options.default_reply = std::move(reply);
}

void collector_sink::set_never_answer(bool never) { impl_->never_answer = never; }

std::vector<sink_request> collector_sink::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->log;
}

std::size_t collector_sink::request_count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->log.size();
}

bool collector_sink::wait_for_requests(std::size_t n, clock::duration timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] { return impl_->log.size() >= n; });
}

void collector_sink::clear_requests() {
    std::lock_guard lock(impl_->mutex);
    impl_->log.clear();
}

std::uint64_t collector_sink::connections_accepted() const { return impl_->accepted.load(); }

void collector_sink::start() {
    auto& s = *impl_;
    if (s.run) return;
    auto r = std::make_unique<impl::run_state>();
    const tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), s.options.port);
    r->acceptor.open(endpoint.protocol());
    // The previous run's connections may linger in TIME_WAIT on this port.
    r->acceptor.set_option(tcp::acceptor::reuse_address(true));
    r->acceptor.bind(endpoint);
    r->acceptor.listen(net::socket_base::max_listen_connections);
    s.options.port = r->acceptor.local_endpoint().port();
    net::co_spawn(r->ioc, s.accept_loop(*r), log_exception);
    r->thread = std::thread([&ioc = r->ioc] { ioc.run(); });
    s.run = std::move(r);
}

void collector_sink::stop() {
    auto& s = *impl_;
    if (!s.run) return;
    auto& r = *s.run;
    net::post(r.ioc, [&r] {
        boost::system::error_code ignored;
        r.acceptor.close(ignored);
        for (auto* socket : r.sockets) {
            socket->shutdown(tcp::socket::shutdown_both, ignored);
            socket->close(ignored);
        }
        r.ioc.stop();
    });
    r.thread.join();
    s.run.reset();
}

bool collector_sink::running() const { return impl_->run != nullptr; }

}  // namespace tracegate::test
