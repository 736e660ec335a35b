#include "proxy/admin_server.hpp"

#include "config/dump.hpp"
#include "proxy/admin_api.hpp"
#include "proxy/log.hpp"
#include "proxy/message_reader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <list>
#include <stdexcept>
#include <thread>

namespace tracegate::proxy {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple = net::as_tuple(net::use_awaitable);
/// An admin connection idle this long is closed; a request must arrive within it.
constexpr auto idle_timeout = 60s;

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view query_of(std::string_view target) {
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

admin_reply text(unsigned status, std::string body, std::string type = "text/plain; charset=utf-8") {
    return {status, std::move(type), std::move(body)};
}

/// `authority` without its port: "a.b:80" -> "a.b", "[::1]:80" -> "[::1]".
std::string_view host_part(std::string_view authority) {
    if (authority.starts_with('[')) return authority.substr(0, authority.find(']') + 1);
    return authority.substr(0, authority.rfind(':'));
}

bool host_allowed(std::string_view host, const std::vector<std::string>& hosts) {
    if (host.empty()) return true;  // HTTP/1.0 without Host: no browser sends that
    host = host_part(host);
    if (host.ends_with('.')) host.remove_suffix(1);
    if (host.empty()) return false;
    if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    net::ip::make_address(std::string(host), ec);
    if (!ec) return true;  // an IP address cannot be rebound
    if (beast::iequals(host, "localhost") ||
        (host.size() > 10 && beast::iequals(host.substr(host.size() - 10), ".localhost")))
        return true;  // RFC 6761 6.3: never resolved outside this machine
    for (const auto& h : hosts)
        if (beast::iequals(h, host)) return true;
    return false;
}

}  // namespace

std::string_view admin_request_refusal(std::string_view host, std::string_view origin, bool safe_method,
                                       const std::vector<std::string>& hosts) {
    if (!host_allowed(host, hosts)) return "host not allowed; list it in admin.hosts\n";
    if (safe_method || origin.empty()) return {};
    // A browser names the page that sends a POST: only the admin server's own pages may.
    for (std::string_view scheme : {"http://", "https://"}) {
        if (!beast::iequals(origin.substr(0, scheme.size()), scheme)) continue;
        const auto authority = origin.substr(scheme.size());
        if (beast::iequals(authority, host) ||
            std::any_of(hosts.begin(), hosts.end(),
                        [&](const std::string& h) { return beast::iequals(host_part(authority), h); }))
            return {};
    }
    return "cross-origin request refused\n";
}

struct admin_server::impl {
    admin_sources sources;
    net::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    std::list<beast::tcp_stream*> connections;  // io thread only
    std::thread thread;
    bool stopped = false;

    explicit impl(admin_sources s) : sources(std::move(s)) {}

    admin_reply route(const http::request<http::string_body>& request) {
        const std::string_view target = request.target();
        const std::string_view path = path_of(target);
        const bool get = request.method() == http::verb::get || request.method() == http::verb::head;
        if (path == "/v1/traces") {
            if (request.method() != http::verb::post)
                return text(405, "POST OTLP/HTTP spans here\n");
            return receive_otlp(*sources.store, request[http::field::content_type],
                                request[http::field::content_encoding], request.body(),
                                sources.max_receive_bytes);
        }
        if (!get) return text(405, "admin endpoints other than /v1/traces answer GET and HEAD\n");
        if (path == "/healthz") return text(200, "ok\n");
        if (path == "/ready")
            return sources.ready() ? text(200, "ready\n") : text(503, "draining\n");
        if (path == "/metrics")
            return text(200, sources.metrics(), "text/plain; version=0.0.4; charset=utf-8");
        if (path == "/config") {
            const auto settings = sources.settings();
            const std::string_view query = query_of(target);
            if (query.empty() || query == "format=yaml")
                return text(200, config::dump_yaml(*settings), "application/yaml; charset=utf-8");
            if (query == "format=json") return {200, "application/json", config::dump_json(*settings)};
            return text(400, "format: expected yaml or json\n");
        }
        if (path == "/traces" || path == "/traces/" || path == "/")
            return text(200, std::string(viewer_html), "text/html; charset=utf-8");
        if (path == "/api/traces") return api_traces(*sources.store, query_of(target));
        if (path.starts_with("/api/traces/")) return api_trace(*sources.store, path.substr(12));
        return text(404, "not found; try /traces, /metrics, /healthz, /ready, /config, /api/traces\n");
    }

    net::awaitable<void> session(tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        connections.push_front(&stream);
        const auto entry = connections.begin();
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(64 * 1024);
            // Compressed bodies are checked again after gunzip; the wire size has the same bound.
            parser.body_limit(sources.max_receive_bytes);
            stream.expires_after(idle_timeout);
            const auto ec = co_await read_message(stream, buffer, parser, 64 * 1024);
            if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
                ec == beast::error::timeout)
                break;
            admin_reply reply;
            bool keep_alive = true;
            if (ec == http::error::body_limit) {
                reply = text(413, "body larger than admin.max_receive_bytes\n");
                keep_alive = false;
            } else if (ec) {
                reply = text(400, "malformed request: " + ec.message() + "\n");
                keep_alive = false;
            } else if (const auto refusal = admin_request_refusal(
                           parser.get()[http::field::host], parser.get()[http::field::origin],
                           parser.get().method() == http::verb::get ||
                               parser.get().method() == http::verb::head,
                           sources.hosts);
                       !refusal.empty()) {
                reply = text(403, std::string(refusal));
                keep_alive = false;
            } else {
                try {
                    reply = route(parser.get());
                } catch (const std::exception& e) {
                    TG_LOG(error) << "admin: " << parser.get().target() << ": " << e.what();
                    if (sources.internal_error) sources.internal_error();
                    reply = text(500, "internal error\n");
                }
                keep_alive = parser.get().keep_alive();
            }
            http::response<http::string_body> response{static_cast<http::status>(reply.status),
                                                       ec ? 11u : parser.get().version()};
            response.set(http::field::server, "tracegate-admin");
            response.set(http::field::content_type, reply.content_type);
            response.set(http::field::cache_control, "no-store");
            response.set("x-content-type-options", "nosniff");
            response.body() = std::move(reply.body);
            response.prepare_payload();
            if (!ec && parser.get().method() == http::verb::head) response.body().clear();
            response.keep_alive(keep_alive);
            stream.expires_after(idle_timeout);
            auto [wec, written] = co_await http::async_write(stream, response, tuple);
            if (wec || !keep_alive) break;
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        connections.erase(entry);
    }

    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(tuple);
            if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
            if (ec) {
                // Out of descriptors and the like: try again shortly rather than spin.
                net::steady_timer wait(ioc, 100ms);
                co_await wait.async_wait(tuple);
                continue;
            }
            net::co_spawn(ioc, session(std::move(socket)), [](std::exception_ptr e) {
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    TG_LOG(error) << "admin: connection failed: " << ex.what();
                } catch (...) {
                    TG_LOG(error) << "admin: connection failed";
                }
            });
        }
    }
};

admin_server::admin_server(admin_sources sources) : impl_(std::make_unique<impl>(std::move(sources))) {}

admin_server::~admin_server() { stop(); }

config::address admin_server::start(const config::address& bind) {
    auto& s = *impl_;
    boost::system::error_code ec;
    const auto ip = net::ip::make_address(bind.host, ec);
    const tcp::endpoint endpoint(ip, bind.port);
    if (!ec) s.acceptor.open(endpoint.protocol(), ec);
    if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && ip.is_v6()) s.acceptor.set_option(net::ip::v6_only(true), ec);
    if (!ec) s.acceptor.bind(endpoint, ec);
    if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("admin: cannot listen on " + bind.to_string() + ": " + ec.message());
    config::address bound{bind.host, s.acceptor.local_endpoint().port()};
    net::co_spawn(s.ioc, s.accept_loop(), net::detached);
    s.thread = std::thread([&s] {
        // Like a worker's loop: an exception from one admin connection ends that one only.
        for (;;) {
            try {
                s.ioc.run();
                return;
            } catch (const std::exception& e) {
                TG_LOG(error) << "admin: internal error: " << e.what() << "; contained, serving on";
            } catch (...) {
                TG_LOG(error) << "admin: internal error; contained, serving on";
            }
            if (s.sources.internal_error) s.sources.internal_error();
        }
    });
    return bound;
}

void admin_server::stop() {
    auto& s = *impl_;
    if (s.stopped) return;
    s.stopped = true;
    if (!s.thread.joinable()) return;
    net::post(s.ioc, [&s] {
        boost::system::error_code ignored;
        s.acceptor.close(ignored);
        for (auto* c : s.connections) c->socket().close(ignored);
        // Unfinished sessions are destroyed with the io_context.
        s.ioc.stop();
    });
    s.thread.join();
}

}  // namespace tracegate::proxy
