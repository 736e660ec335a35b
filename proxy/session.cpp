// One downstream connection: read a request header, check it, route it, forward it, relay
// the response; repeat while keep-alive allows.
#include "proxy/exchange.hpp"
#include "proxy/hop_by_hop.hpp"
#include "proxy/log.hpp"
#include "proxy/tls_context.hpp"
#include "proxy/worker.hpp"
#include "routing/path.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>

namespace tracegate::proxy {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple = net::as_tuple(net::use_awaitable);
/// Room in the client buffer beyond a whole header: pipelined bytes, chunk headers.
constexpr std::size_t buffer_slack = 64 * 1024;

/// How reading a request header ended.
enum class header_outcome { complete, closed, timed_out, too_large, malformed };

/// RFC 9112 2.2: a bare LF in a request header (one not after CR) is refused at once,
/// not waited on until header_timeout for a CRLF CRLF that will never come.
bool has_bare_lf(std::string_view data, std::size_t from) {
    for (auto i = data.find('\n', from); i != std::string_view::npos; i = data.find('\n', i + 1))
        if (i == 0 || data[i - 1] != '\r') return true;
    return false;
}

/// Adapts a parsed Beast header to what the router looks at.
class header_view final : public routing::request_view {
public:
    header_view(const http::request_header<>& h, std::string_view path) : h_(h), path_(path) {}
    std::string_view method() const override { return h_.method_string(); }
    std::string_view host() const override {
        auto it = h_.find(http::field::host);
        return it == h_.end() ? std::string_view{} : std::string_view(it->value());
    }
    std::string_view path() const override { return path_; }
    std::optional<std::string_view> header(std::string_view name) const override {
        auto it = h_.find(name);
        if (it == h_.end()) return std::nullopt;
        return std::string_view(it->value());
    }

private:
    const http::request_header<>& h_;
    std::string_view path_;
};

/// RFC 9112 5.2 (obs-fold) and 2.2 (bare LF): rejected outright, never "repaired".
bool header_bytes_acceptable(std::string_view header) {
    for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i] != '\n') continue;
        if (i == 0 || header[i - 1] != '\r') return false;
        const bool last_line = i + 1 >= header.size() - 2;
        if (!last_line && (header[i + 1] == ' ' || header[i + 1] == '\t')) return false;
    }
    return !header.empty() && header[0] != ' ' && header[0] != '\t';
}

/// RFC 9112 3.2: Host is uri-host [":" port]. Taken: the characters of a DNS name, an IP
/// address or an IP literal, and percent-encoding. RFC 3986 reg-name also allows the
/// sub-delims (!$&'()*+,;=), which no resolvable name has and which, echoed into a page
/// or a log, only serve injection; lists, spaces, paths and userinfo never were a host.
bool valid_host(std::string_view host) {
    for (char c : host) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '.' && c != '_' && c != '~' && c != '%' && c != ':' &&
            c != '[' && c != ']')
            return false;
    }
    return true;
}

/// A request line ending in a well-formed "HTTP/d.d" that is not 1.0 or 1.1: the parser
/// refuses it, but the client deserves 505 rather than 400 (RFC 9110 15.6.6).
bool well_formed_other_version(std::string_view header) {
    const auto line = header.substr(0, header.find("\r\n"));
    if (line.size() < 9) return false;
    const auto v = line.substr(line.size() - 9);
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    return v[0] == ' ' && v.substr(1, 5) == "HTTP/" && digit(v[6]) && v[7] == '.' &&
           digit(v[8]) && v.substr(6) != "1.0" && v.substr(6) != "1.1";
}

bool to_origin_form(http::request_header<>& h);

/// Removes dot segments from the target's path, so the route decided here and the path
/// the upstream resolves are the same (a prefix route cannot be climbed out of). False for
/// a dot segment hidden from us but not from every upstream (routing::resolve_dot_segments).
bool remove_dot_segments(http::request_header<>& h) {
    const std::string_view target = h.target();
    const auto query = target.find('?');
    auto resolved = routing::resolve_dot_segments(target.substr(0, query));
    using verdict = routing::resolved_path::verdict;
    if (resolved.outcome == verdict::refused) return false;
    if (resolved.outcome == verdict::unchanged) return true;
    if (query != std::string_view::npos) resolved.path += target.substr(query);
    h.target(resolved.path);
    return true;
}

/// Turns an absolute-form target ("http://host/path") into origin-form plus Host
/// (RFC 9112 3.2.2), without dot segments. Returns false for a target that is neither,
/// or one whose dot segments cannot be resolved safely.
bool normalize_target(http::request_header<>& h) {
    if (!to_origin_form(h)) return false;
    return !h.target().starts_with('/') || remove_dot_segments(h);
}

bool to_origin_form(http::request_header<>& h) {
    const std::string_view target = h.target();
    if (target.starts_with('/')) return true;
    if (target == "*") return h.method() == http::verb::options;
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.size() <= scheme.size() ||
            !beast::iequals(target.substr(0, scheme.size()), scheme))
            continue;
        const auto rest = target.substr(scheme.size());
        const auto slash = rest.find_first_of("/?");
        const auto authority = rest.substr(0, slash);
        if (authority.empty() || !valid_host(authority)) return false;
        std::string origin = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
        if (origin.starts_with('?')) origin.insert(0, "/");
        h.set(http::field::host, authority);
        h.target(origin);
        return true;
    }
    return false;
}

class session {
public:
    session(worker& owner, duplex_stream client, const listener_info& listener,
            clock_type::time_point accepted_at)
        : worker_(owner), client_(std::move(client)),
          // Bounded: a chunk header or trailer that never ends cannot grow it without limit.
          buffer_(worker_.current()->settings->limits.max_header_bytes + buffer_slack),
          listener_(listener), accepted_at_(accepted_at) {
        auto& socket = client_.tcp().socket();
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        boost::system::error_code ec;
        const auto peer = socket.remote_endpoint(ec);
        if (!ec) {
            client_address_ = peer.address().to_string();
            client_port_ = peer.port();
        } else {
            client_address_ = "unknown";
        }
        const auto local = socket.local_endpoint(ec);
        if (!ec) local_port_ = local.port();
        if (client_.is_tls()) client_subject_ = peer_certificate_subject(client_.tls().native_handle());
        slot_ = worker_.register_session(&socket);
        if (auto* c = worker_.connections()) c->connection_opened(worker_.index());
    }
    ~session() {
        worker_.unregister_session(slot_);
        if (auto* c = worker_.connections()) c->connection_closed(worker_.index());
    }

    net::awaitable<void> run() {
        bool keep_alive = co_await serve_one(true);
        while (keep_alive) {
            if (buffer_.size() == 0 && !client_.is_tls() &&
                worker_.session_count() > lean_idle_above) {
                // Waits here, not in a coroutine of its own: one frame less per idle connection.
                if (!begin_idle()) break;
                auto [ec] = co_await client_.tcp().socket().async_wait(tcp::socket::wait_read, tuple);
                end_idle();
                if (ec) break;
            }
            keep_alive = co_await serve_one(false);
        }
        co_await close_gracefully();
    }

private:
    /// `limits` is a copy: a reload while the header is awaited may free the snapshot it
    /// came from.
    net::awaitable<header_outcome> read_header(config::limits_config limits, bool first,
                                               std::size_t& header_length);
    /// A new connection's first bytes, within header_timeout of the accept.
    net::awaitable<header_outcome> wait_first_request(const config::limits_config& limits);
    /// The next request's first bytes on a kept-alive connection, within idle_timeout.
    net::awaitable<header_outcome> wait_next_request(const config::limits_config& limits);
    void drop_leading_empty_lines();
    net::awaitable<bool> serve_one(bool first);

    /// Reads into buffer_ until `deadline` without Beast's stream timeout, which would
    /// close the socket: a header timeout still owes the client its 408.
    net::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_until(
        clock_type::time_point deadline, std::size_t room) {
        using namespace net::experimental::awaitable_operators;
        if (client_.is_tls()) {
            // A TLS record cannot be read halfway and resumed: the stream's own deadline
            // ends the read, and the connection with it (no 408 over TLS).
            set_deadline(client_, deadline);
            auto [ec, n] = co_await client_.async_read_some(buffer_.prepare(room), tuple);
            co_return std::tuple{ec, n};
        }
        auto& socket = client_.tcp().socket();
        client_.tcp().expires_never();
        if (deadline == clock_type::time_point::max())
            co_return co_await socket.async_read_some(buffer_.prepare(room), tuple);
        net::steady_timer timer(client_.get_executor(), deadline);
        auto result = co_await (socket.async_read_some(buffer_.prepare(room), tuple) ||
                                timer.async_wait(tuple));
        if (result.index() == 1)
            co_return std::tuple{boost::system::error_code(beast::error::timeout), std::size_t{0}};
        co_return std::get<0>(result);
    }

    /// Waits until the client's first byte can be read; beast timeout at `deadline`. No
    /// timer of its own: the worker's idle sweep ends the wait (up to a sweep tick late).
    /// Plain TCP only (TLS has read its first record in the handshake); returns at once
    /// when bytes are already there.
    net::awaitable<boost::system::error_code> wait_first_byte(clock_type::time_point deadline) {
        auto& socket = client_.tcp().socket();
        boost::system::error_code ec;
        if (client_.is_tls() || socket.available(ec) > 0 || ec) co_return ec;
        client_.tcp().expires_never();
        slot_->idle_until = deadline;
        std::tie(ec) = co_await socket.async_wait(tcp::socket::wait_read, tuple);
        slot_->idle_until = clock_type::time_point::max();
        if (ec == net::error::operation_aborted && !worker_.draining() && clock_type::now() >= deadline)
            ec = beast::error::timeout;
        co_return ec;
    }

    /// On a worker holding more than this many connections, one waiting for its next
    /// request holds no buffer and no timer (begin_idle): a few KiB each instead of 16 and
    /// more. Below it, the wait is a read into the connection's buffer, which spares a
    /// system call (the readiness wait's epoll_ctl) and a buffer allocation per request.
    static constexpr std::size_t lean_idle_above = 256;

    /// Between requests, nothing buffered, many connections: the connection waits for its
    /// next request holding no buffer and no timer. The worker's idle sweep ends the wait
    /// after idle_timeout, a drain at once. False: the connection is over. (TLS keeps
    /// reading instead: a record already read may hold the next request, which the socket
    /// would not show.)
    bool begin_idle() {
        if (closed_by_drain()) return false;
        buffer_.shrink_to_fit();
        wire_header_ = std::string();
        chunk_.release();
        client_.tcp().expires_never();
        const auto idle = worker_.current()->settings->limits.idle_timeout;
        slot_->idle = true;
        if (idle.count() > 0) slot_->idle_until = clock_type::now() + idle;
        return true;
    }
    /// A drain closes a connection between requests, unless its next request has already
    /// arrived: that one is served (with Connection: close) like a request in flight.
    bool closed_by_drain() {
        return worker_.draining() && !has_pending_input(client_.tcp().socket());
    }

    void end_idle() {
        slot_->idle = false;
        slot_->idle_until = clock_type::time_point::max();
    }

    net::awaitable<void> close_gracefully() {
        using namespace std::chrono_literals;
        boost::system::error_code ec;
        auto& socket = client_.tcp().socket();
        if (client_.is_tls()) {
            // close_notify, then the TCP close; a peer that never answers costs 2 s at most.
            client_.tcp().expires_after(2s);
            co_await client_.tls().async_shutdown(tuple);
            socket.close(ec);
            co_return;
        }
        socket.shutdown(tcp::socket::shutdown_send, ec);
        if (ec) co_return;
        // Read and drop what the client still sends for a moment, so the close does not
        // reset the connection and destroy a response it has not read yet (RFC 9112 9.6).
        client_.tcp().expires_after(2s);
        std::size_t dropped = 0;
        // Read into one scratch array per worker thread: the bytes are dropped unread, and
        // a drain closing thousands of connections allocates nothing.
        thread_local std::array<char, 16384> discard;
        while (dropped < (1u << 20)) {
            auto [rec, n] = co_await client_.async_read_some(net::buffer(discard), tuple);
            if (rec) break;
            dropped += n;
        }
        socket.close(ec);
    }

    worker& worker_;
    duplex_stream client_;
    beast::flat_buffer buffer_;
    const listener_info& listener_;
    clock_type::time_point accepted_at_;
    std::string client_address_;
    std::uint16_t client_port_ = 0;
    std::uint16_t local_port_ = 0;
    std::string client_subject_;  ///< mTLS: the verified client certificate's subject
    std::list<session_slot>::iterator slot_;
    relay_buffer chunk_;
    std::string wire_header_;
};

void session::drop_leading_empty_lines() {
    // RFC 9112 2.2: empty lines before a request-line are ignored.
    while (buffer_.size() >= 2 && std::memcmp(buffer_.data().data(), "\r\n", 2) == 0)
        buffer_.consume(2);
}

net::awaitable<header_outcome> session::wait_first_request(const config::limits_config& limits) {
    // Until its first byte the connection is idle: a drain closes it.
    if (closed_by_drain()) co_return header_outcome::closed;
    const auto deadline = accepted_at_ + limits.header_timeout;
    slot_->idle = true;
    // No read buffer before the first byte: a flood of silent connections costs a few
    // KiB each, not 16 more.
    boost::system::error_code ec = co_await wait_first_byte(deadline);
    std::size_t n = 0;
    if (!ec) std::tie(ec, n) = co_await read_until(deadline, 16384);
    slot_->idle = false;
    if (ec) co_return ec == beast::error::timeout ? header_outcome::timed_out : header_outcome::closed;
    buffer_.commit(n);
    co_return header_outcome::complete;
}

net::awaitable<header_outcome> session::wait_next_request(const config::limits_config& limits) {
    // Between requests (or header_timeout 0): up to idle_timeout; a drain may end it.
    if (closed_by_drain()) co_return header_outcome::closed;
    slot_->idle = true;
    set_deadline(client_, later(limits.idle_timeout));
    boost::system::error_code ec;
    std::size_t n = 0;
    std::tie(ec, n) = co_await client_.async_read_some(buffer_.prepare(16384), tuple);
    slot_->idle = false;
    if (ec) co_return header_outcome::closed;
    buffer_.commit(n);
    co_return header_outcome::complete;
}

net::awaitable<header_outcome> session::read_header(config::limits_config limits,
                                                    bool first, std::size_t& header_length) {
    drop_leading_empty_lines();
    if (buffer_.size() == 0) {
        header_outcome started = header_outcome::complete;
        if (first && limits.header_timeout.count() > 0)
            started = co_await wait_first_request(limits);
        else
            started = co_await wait_next_request(limits);
        if (started != header_outcome::complete) co_return started;
        drop_leading_empty_lines();
    }
    // The whole header must arrive within header_timeout of its first byte (of the
    // accept, for a connection's first request): slow senders cannot hold a slot.
    const auto max_header = static_cast<std::size_t>(limits.max_header_bytes);
    const auto deadline = limits.header_timeout.count() == 0
                              ? clock_type::time_point::max()
                              : (first ? accepted_at_ : clock_type::now()) + limits.header_timeout;
    std::size_t scanned = 0;
    for (;;) {
        const std::string_view data(static_cast<const char*>(buffer_.data().data()),
                                    buffer_.size());
        const auto from = scanned >= 3 ? scanned - 3 : 0;
        if (auto end = data.find("\r\n\r\n", from); end != std::string_view::npos) {
            header_length = end + 4;
            co_return header_length > max_header ? header_outcome::too_large
                                                 : header_outcome::complete;
        }
        if (has_bare_lf(data, scanned)) co_return header_outcome::malformed;
        if (data.size() >= max_header) co_return header_outcome::too_large;
        scanned = data.size();
        const auto room = std::min<std::size_t>(16384, max_header + 4 - data.size());
        boost::system::error_code ec;
        std::size_t n = 0;
        std::tie(ec, n) = co_await read_until(deadline, room);
        if (ec == beast::error::timeout) co_return header_outcome::timed_out;
        if (ec) co_return header_outcome::closed;
        buffer_.commit(n);
        drop_leading_empty_lines();
    }
}

net::awaitable<bool> session::serve_one(bool first) {
    std::size_t header_length = 0;
    const auto outcome =
        co_await read_header(worker_.current()->settings->limits, first, header_length);
    // The request keeps the snapshot current when its header arrived, across reloads.
    const std::shared_ptr<const runtime> snapshot = worker_.current();
    const runtime& rt = *snapshot;
    const auto& limits = rt.settings->limits;
    switch (outcome) {
    case header_outcome::complete: break;
    case header_outcome::closed: co_return false;
    case header_outcome::timed_out:
        co_await send_failure(client_, failures::header_timeout, false, 11, false);
        co_return false;
    case header_outcome::too_large:
        co_await send_failure(client_, failures::header_too_large, false, 11, false);
        co_return false;
    case header_outcome::malformed:
        co_await send_failure(client_, failures::bad_request, false, 11, false);
        co_return false;
    }

    const std::string_view raw(static_cast<const char*>(buffer_.data().data()), header_length);
    if (!header_bytes_acceptable(raw)) {
        co_await send_failure(client_, failures::bad_request, false, 11, false);
        co_return false;
    }

    http::request_parser<http::buffer_body> parser;
    parser.eager(false);
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::uint64_t>(limits.max_header_bytes + 4, UINT32_MAX)));
    if (limits.max_body_bytes > 0)
        parser.body_limit(limits.max_body_bytes);
    else
        parser.body_limit(boost::none);
    boost::system::error_code ec;
    try {
        parser.put(net::buffer(buffer_.data().data(), header_length), ec);
    } catch (const std::length_error&) {
        ec = http::error::header_limit;  // one field value over Beast's 64 KiB maximum
    }
    buffer_.consume(header_length);
    if (ec || !parser.is_header_done()) {
        const auto& failure = ec == http::error::body_limit     ? failures::body_too_large
                              : ec == http::error::header_limit ? failures::header_too_large
                              : well_formed_other_version(raw)  ? failures::version_not_supported
                                                                : failures::bad_request;
        co_await send_failure(client_, failure, false, 11, false);
        co_return false;
    }

    auto& request = parser.get();
    const unsigned version = request.version();
    const bool head = request.method() == http::verb::head;
    if (version != 10 && version != 11) {
        co_await send_failure(client_, failures::version_not_supported, false, 11, head);
        co_return false;
    }
    // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in 1.0. RFC 9112 6.1/6.3:
    // Content-Length beside Transfer-Encoding, or a coding we cannot frame, is refused.
    if (request.method() == http::verb::connect) {
        // Its authority-form target ("host:443") is no origin-form: answered before that check.
        co_await send_failure(client_, failures::method_not_allowed, false, version, head);
        co_return false;
    }
    const auto hosts = request.count(http::field::host);
    const auto host_it = request.find(http::field::host);
    const auto coding = check_request_transfer_encoding(request);
    if (hosts > 1 || (version == 11 && hosts == 0) ||
        (host_it != request.end() && !valid_host(host_it->value())) ||
        coding == transfer_coding::invalid ||
        (coding != transfer_coding::none && request.count(http::field::content_length) > 0) ||
        !normalize_target(request)) {
        co_await send_failure(client_, failures::bad_request, false, version, head);
        co_return false;
    }

    // Nothing of the body has been read: a proxy-made answer from here on closes the
    // connection when a body was announced, since its bytes would follow.
    const bool body_pending = !parser.is_done();
    // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing; close after it.
    bool keep_alive = parser.keep_alive() && !worker_.draining() &&
                      !(version == 10 && coding != transfer_coding::none);

    bool expect_continue = false;
    if (auto it = request.find(http::field::expect); it != request.end()) {
        if (!beast::iequals(it->value(), "100-continue")) {
            co_await send_failure(client_, failures::expectation_failed, false, version, head);
            co_return false;
        }
        expect_continue = version == 11;
        request.erase(http::field::expect);
    }

    const std::string_view target = request.target();
    const header_view view(request, target.substr(0, target.find('?')));
    const routing::route* route = rt.routes.match(view);
    const std::string_view upstream_name =
        route ? std::string_view(rt.settings->upstreams[route->upstream_index].name) : "";
    const request_facts facts{client_address_,  client_port_,
                              local_port_,      listener_.scheme,
                              listener_.trust_incoming_trace, listener_.response_header,
                              client_subject_, worker_.observer(), worker_.index()};
    request_trace trace(rt.tracing, request, request.method_string(), request.target(), version,
                        route, upstream_name, facts);
    if (route == nullptr) {
        keep_alive = keep_alive && !body_pending;
        co_return co_await send_failure(client_, failures::no_route, keep_alive, version, head,
                                        &trace);
    }

    exchange_context context{worker_, rt,           *route,          client_,
                             buffer_, chunk_,       wire_header_,    client_address_,
                             listener_.scheme,      trace,
                             listener_.upgrades};
    co_return co_await forward(context, parser, keep_alive, expect_continue);
}

}  // namespace

namespace {

net::awaitable<void> serve_connection(worker& owner, tcp::socket socket, const listener_info& listener) {
    const auto accepted_at = clock_type::now();
    if (!listener.tls) {
        session s(owner, duplex_stream(beast::tcp_stream(std::move(socket))), listener, accepted_at);
        co_await s.run();
        co_return;
    }
    // The context stays alive with the connection: a reload may replace the listener's.
    const std::shared_ptr<net::ssl::context> context = listener.tls;
    duplex_stream client(beast::tcp_stream(std::move(socket)), *context);
    const auto& limits = owner.current()->settings->limits;
    if (limits.header_timeout.count() > 0) client.tcp().expires_at(accepted_at + limits.header_timeout);
    auto [ec] = co_await client.tls().async_handshake(net::ssl::stream_base::server, tuple);
    if (ec) {
        // Counted, not logged: scanners and bad clients fail handshakes at any rate.
        if (auto* c = owner.connections())
            c->handshake_failed(owner.index(), handshake_failure_kind(ec, client.tls().native_handle()));
        boost::system::error_code ignored;
        client.tcp().socket().close(ignored);
        co_return;
    }
    session s(owner, std::move(client), listener, accepted_at);
    co_await s.run();
}

}  // namespace

net::awaitable<void> run_session(worker& owner, tcp::socket socket, const listener_info& listener) {
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    std::exception_ptr failed;
    try {
        co_await serve_connection(owner, std::move(socket), listener);
    } catch (...) {
        // Whatever escaped (a bug, an exception from a library on bytes it was handed)
        // ends this connection only: its frames are gone and its socket closed by now.
        failed = std::current_exception();
    }
    if (failed) {
        std::ostringstream who;
        who << "listener " << listener.name << ", client " << peer;
        owner.contain(metrics::internal_error_site::session, who.str(), failed);
    }
}

}  // namespace tracegate::proxy
