#include "proxy/exchange.hpp"

#include "proxy/hop_by_hop.hpp"
#include "proxy/log.hpp"
#include "proxy/message_reader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <charconv>
#include <optional>

namespace tracegate::proxy {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple = net::as_tuple(net::use_awaitable);

/// The TCP layer of a stream: deadlines and the socket.
beast::tcp_stream& lowest(duplex_stream& s) { return s.tcp(); }

/// Which side a relay error came from.
enum class relay_side { none, read, write };
struct relay_error {
    relay_side side = relay_side::none;
    boost::system::error_code ec;
    explicit operator bool() const { return side != relay_side::none; }
};

/// Pumps a message body from `in` (through parser `p`) to `out` (through serializer `sr`)
/// one buffer at a time: memory stays flat whatever the body's size (Beast "HTTP Relay").
/// A header not yet written goes out with the first piece of body already at hand (one
/// write for a small message), or on its own before waiting for a body still to come.
template <bool is_request, class InStream, class OutStream, class InDeadline, class OutDeadline>
net::awaitable<relay_error> relay_body(InStream& in, beast::flat_buffer& in_buffer,
                                       http::parser<is_request, http::buffer_body>& p,
                                       OutStream& out,
                                       http::serializer<is_request, http::buffer_body>& sr,
                                       char* chunk, InDeadline in_deadline,
                                       OutDeadline out_deadline, std::uint64_t& bytes,
                                       std::size_t max_trailer, bool* out_spoke = nullptr) {
    auto& body = p.get().body();
    for (;;) {
        if (!sr.is_header_done() && !p.is_done() && in_buffer.size() == 0) {
            set_deadline(out, out_deadline());
            auto [ec, n] = co_await http::async_write_header(out, sr, tuple);
            if (ec) co_return relay_error{relay_side::write, ec};
        }
        if (!p.is_done()) {
            body.data = chunk;
            body.size = relay_buffer::size;
            set_deadline(in, in_deadline());
            auto ec = co_await read_some(in, in_buffer, p, max_trailer);
            if (ec == http::error::need_buffer) ec = {};
            if (ec) co_return relay_error{relay_side::read, ec};
            body.size = relay_buffer::size - body.size;
            bytes += body.size;
            // No bytes yet (a chunk header, say): a null buffer makes the serializer ask
            // for more instead of writing an empty chunk, which would end the body.
            body.data = body.size > 0 ? chunk : nullptr;
            body.more = !p.is_done();
        } else {
            body.data = nullptr;
            body.size = 0;
            body.more = false;
        }
        // `out` is not read while the body goes to it: whatever it sent meanwhile is still
        // unread now, before the write that ends the message (an answer before the whole
        // request, which leaves the rest of the body unread or read as a next request).
        if (out_spoke && p.is_done()) *out_spoke = has_spoken(out);
        set_deadline(out, out_deadline());
        auto [ec, n] = co_await http::async_write(out, sr, tuple);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return relay_error{relay_side::write, ec};
        if (p.is_done() && sr.is_done()) co_return relay_error{};
    }
}

/// Copies exactly `remaining` bytes of a body with a known length, `in` to `out`, through
/// `chunk`: no parser and no serializer in the way (the common Content-Length case).
template <class InStream, class OutStream, class InDeadline, class OutDeadline>
net::awaitable<relay_error> relay_exact(InStream& in, OutStream& out, std::uint64_t remaining,
                                        char* chunk, InDeadline in_deadline,
                                        OutDeadline out_deadline, std::uint64_t& bytes) {
    while (remaining > 0) {
        set_deadline(in, in_deadline());
        auto [rec, n] = co_await in.async_read_some(
            net::buffer(chunk, static_cast<std::size_t>(
                                   std::min<std::uint64_t>(relay_buffer::size, remaining))),
            tuple);
        if (rec) co_return relay_error{relay_side::read, rec};
        remaining -= n;
        bytes += n;
        set_deadline(out, out_deadline());
        auto [wec, wn] = co_await net::async_write(out, net::buffer(chunk, n), tuple);
        if (wec) co_return relay_error{relay_side::write, wec};
    }
    co_return relay_error{};
}

/// The header lines and the blank line that ends them.
void append_fields(const http::fields& fields, std::string& out) {
    for (const auto& f : fields) {
        out += f.name_string();
        out += ": ";
        out += f.value();
        out += "\r\n";
    }
    out += "\r\n";
}

/// A message header as it goes on the wire, in one buffer. What Beast's serializer
/// writes, without walking a buffer sequence of one piece per field several times per
/// write: that walk was a quarter of the proxy's instructions per request.
void serialize_header(const http::request_header<>& h, std::string& out) {
    out.clear();
    out += h.method_string();
    out += ' ';
    out += h.target();
    out += h.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
    append_fields(h, out);
}

void serialize_header(const http::response_header<>& h, std::string& out) {
    out.clear();
    out += h.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    char digits[4];
    const unsigned status = h.result_int();
    digits[0] = static_cast<char>('0' + status / 100 % 10);
    digits[1] = static_cast<char>('0' + status / 10 % 10);
    digits[2] = static_cast<char>('0' + status % 10);
    digits[3] = ' ';
    out.append(digits, 4);
    const std::string_view reason = h.reason();
    out += reason.empty() ? std::string_view(http::obsolete_reason(h.result())) : reason;
    out += "\r\n";
    append_fields(h, out);
}

/// What both directions of a tunnel share: when a byte last moved, how many are open.
struct tunnel_state {
    clock_type::time_point last_activity = clock_type::now();
    int open = 2;
};

/// Copies bytes one way until EOF (then half-closes the other side) or an error (then
/// closes both, which ends the other direction too).
template <class From, class To>
net::awaitable<void> pump(From& from, To& to,
                          beast::flat_buffer& pending, char* chunk, tunnel_state& state) {
    boost::system::error_code ec;
    if (pending.size() > 0) {
        std::size_t n = 0;
        std::tie(ec, n) = co_await net::async_write(to, pending.data(), tuple);
        pending.consume(pending.size());
    }
    while (!ec) {
        auto [rec, n] = co_await from.async_read_some(net::buffer(chunk, relay_buffer::size / 2),
                                                      tuple);
        state.last_activity = clock_type::now();
        if (rec == net::error::eof) {
            lowest(to).socket().shutdown(tcp::socket::shutdown_send, ec);
            --state.open;
            co_return;
        }
        ec = rec;
        if (!ec) std::tie(ec, n) = co_await net::async_write(to, net::buffer(chunk, n), tuple);
    }
    --state.open;
    lowest(from).socket().close(ec);
    lowest(to).socket().close(ec);
}

/// Closes a tunnel on which no byte moved either way for `idle` (0 = never).
net::awaitable<void> tunnel_watchdog(beast::tcp_stream& a, beast::tcp_stream& b,
                                     tunnel_state& state, std::chrono::milliseconds idle) {
    net::steady_timer timer(co_await net::this_coro::executor);
    const auto tick = std::min<std::chrono::milliseconds>(idle, std::chrono::seconds(1));
    while (state.open > 0 && idle.count() > 0) {
        timer.expires_after(tick);
        co_await timer.async_wait(tuple);
        if (state.open > 0 && clock_type::now() - state.last_activity > idle) {
            boost::system::error_code ignored;
            a.socket().close(ignored);
            b.socket().close(ignored);
            co_return;
        }
    }
}

/// After a 101: bytes both ways, unchanged, until both sides are done or idle too long.
net::awaitable<void> tunnel(duplex_stream& client, beast::flat_buffer& client_pending,
                            duplex_stream& upstream, beast::flat_buffer& upstream_pending,
                            char* chunk, std::chrono::milliseconds idle) {
    using namespace net::experimental::awaitable_operators;
    client.tcp().expires_never();
    upstream.tcp().expires_never();
    tunnel_state state;
    co_await (pump(client, upstream, client_pending, chunk, state) &&
              pump(upstream, client, upstream_pending, chunk + relay_buffer::size / 2, state) &&
              tunnel_watchdog(client.tcp(), upstream.tcp(), state, idle));
}

/// The Transfer-Encoding codings of `fields` other than chunked, as a list ("gzip").
std::string content_codings(const http::fields& fields) {
    std::string out;
    auto [first, last] = fields.equal_range(http::field::transfer_encoding);
    for (auto it = first; it != last; ++it)
        for (auto token : http::token_list{it->value()}) {
            if (beast::iequals(token, "chunked")) continue;
            if (!out.empty()) out += ", ";
            out += token;
        }
    return out;
}

/// How long to look for an upstream's answer after it stopped reading the request body.
constexpr std::chrono::milliseconds early_answer_wait{1000};

bool is_idempotent(http::verb method) {
    switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
    case http::verb::put:
    case http::verb::delete_: return true;
    default: return false;
    }
}

/// Content-Length in its plain form: one field, the decimal length ("3, 3" or repeated
/// lines are accepted when equal, but passed on they could be read differently).
/// Rewritten only when it is not already so: a rewrite costs an allocation.
void normalize_content_length(http::fields& fields, std::uint64_t length) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, length).ptr;
    const std::string_view plain(digits, static_cast<std::size_t>(end - digits));
    auto [first, last] = fields.equal_range(http::field::content_length);
    if (first != last && std::next(first) == last && first->value() == plain) return;
    fields.set(http::field::content_length, plain);
}

/// A connection that ended before a single response byte (the race of reusing a
/// keep-alive connection the upstream is closing).
bool closed_before_response(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe;
}

const failure& failure_for_upstream_error(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) return failures::timeout;
    if (closed_before_response(ec) || ec == http::error::partial_message ||
        ec == net::error::connection_aborted)
        return failures::upstream_reset;
    return failures::bad_upstream_response;
}

const failure& failure_for_connect(connect_failure f) {
    switch (f) {
    case connect_failure::refused: return failures::connect_refused;
    case connect_failure::tls: return failures::upstream_tls_failed;
    default: return failures::connect_failed;
    }
}

/// least_request bookkeeping for the endpoint in use.
class endpoint_use {
public:
    endpoint_use(routing::load_balancer* lb, std::size_t index) : lb_(lb), index_(index) {
        if (lb_) lb_->on_start(index_);
    }
    ~endpoint_use() {
        if (lb_) lb_->on_finish(index_);
    }
    endpoint_use(const endpoint_use&) = delete;
    endpoint_use& operator=(const endpoint_use&) = delete;

private:
    routing::load_balancer* lb_;
    std::size_t index_;
};

}  // namespace

clock_type::time_point later(std::chrono::milliseconds d) {
    return d.count() > 0 ? clock_type::now() + d : clock_type::time_point::max();
}

void set_deadline(beast::tcp_stream& stream, clock_type::time_point at) {
    if (at == clock_type::time_point::max())
        stream.expires_never();
    else
        stream.expires_at(at);
}

net::awaitable<bool> send_failure(duplex_stream& client, const failure& f, bool keep_alive,
                                  unsigned version, bool head, request_trace* trace) {
    using namespace std::chrono_literals;
    http::response<http::string_body> res{f.status, 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set("x-tracegate-error", f.reason);
    std::string text(f.text);
    text += '\n';
    res.content_length(text.size());
    if (!head) res.body() = text;
    if (!keep_alive)
        res.set(http::field::connection, "close");
    else if (version == 10)
        res.set(http::field::connection, "keep-alive");
    if (trace) {
        trace->on_failure(f.reason, static_cast<unsigned>(f.status), f.upstream);
        trace->decorate(res);
    }
    client.tcp().expires_after(10s);
    auto [ec, n] = co_await http::async_write(client, res, tuple);
    if (trace) trace->finish(0, ec ? 0 : text.size());
    co_return keep_alive && !ec;
}

net::awaitable<bool> forward(exchange_context& cx, http::request_parser<http::buffer_body>& parser,
                             bool keep_alive, bool expect_continue) {
    auto& request = parser.get();
    const auto& settings = *cx.rt.settings;
    const auto& limits = settings.limits;
    const auto& upstream = settings.upstreams[cx.route.upstream_index];
    const auto deadline = later(cx.route.config.timeout);
    auto io_deadline = [&] { return std::min(deadline, later(limits.idle_timeout)); };
    auto client_deadline = [&] { return later(limits.idle_timeout); };
    // A request body trickled in (a byte every few seconds passes idle_timeout) still
    // ends at body_timeout after its header: it holds an upstream connection meanwhile.
    const auto body_deadline = later(limits.body_timeout);
    auto body_read_deadline = [&] { return std::min(body_deadline, client_deadline()); };
    // An upstream's header (and trailer) may be as large as a client's, and 64 KiB always.
    const std::size_t max_response_header =
        std::min<std::uint64_t>(std::max<std::uint64_t>(limits.max_header_bytes, 65536), UINT32_MAX);

    const unsigned client_version = request.version();
    const bool head = request.method() == http::verb::head;
    const bool body_pending = !parser.is_done();
    const bool upgrade = parser.upgrade() && keep_allowed_upgrades(request, cx.upgrades);
    const bool retryable = is_idempotent(request.method()) && !body_pending;

    // The one place the upstream request header is made.
    const bool chunked = parser.chunked();
    const auto request_length = parser.content_length();
    remove_hop_by_hop(request, upgrade, settings.tracing.request_id_header);
    if (request_length) normalize_content_length(request, *request_length);
    if (upgrade) request.set(http::field::connection, "upgrade");
    if (chunked) request.chunked(true);
    set_forwarded_headers(request, cx.client_address, cx.scheme);
    request.version(11);

    auto fail = [&](const failure& f) -> net::awaitable<bool> {
        // The request body (if any) was not read: the connection cannot carry another.
        co_return co_await send_failure(cx.client, f, keep_alive && !body_pending, client_version,
                                        head, &cx.trace);
    };

    if (upstream.endpoints.empty()) co_return co_await fail(failures::no_endpoint);

    // Balancers belong to a runtime; a request that started before a reload uses none.
    auto balancers = cx.owner.balancers();
    routing::load_balancer* lb = balancers->for_runtime.get() == &cx.rt
                                     ? &balancers->by_upstream[cx.route.upstream_index]
                                     : nullptr;

    // Find a connection: each endpoint once, pooled first, in balancer order.
    std::vector<bool> tried(upstream.endpoints.size(), false);
    std::unique_ptr<upstream_connection> conn;
    const upstream_tls tls{cx.rt.upstream_tls[cx.route.upstream_index].get(),
                           upstream.tls ? &*upstream.tls : nullptr};
    std::size_t endpoint = 0;
    const failure* last_failure = &failures::no_endpoint;
    while (!conn) {
        endpoint = lb ? lb->pick(tried) : std::size_t(std::find(tried.begin(), tried.end(), false) - tried.begin());
        if (endpoint >= tried.size()) co_return co_await fail(*last_failure);
        tried[endpoint] = true;
        const auto& address = upstream.endpoints[endpoint];
        cx.trace.begin_attempt(request, address);
        conn = cx.owner.pool().take(address, limits.idle_timeout);
        if (conn) break;
        auto result = co_await connect_upstream(address, upstream.connect_timeout, deadline, tls);
        if (result.connection) {
            conn = std::move(result.connection);
            cx.trace.attempt().add_event("upstream connected");
            break;
        }
        if (result.failure == connect_failure::tls)
            cx.trace.attempt().add_event("upstream TLS handshake failed: " + std::string(result.tls_failure));
        cx.trace.attempt_failed(failure_for_connect(result.failure).reason);
        TG_LOG(warn) << "route " << cx.route.config.name << ": upstream " << upstream.name
                     << " endpoint " << address.to_string() << ": connect failed: "
                     << result.detail;
        if (clock_type::now() >= deadline) co_return co_await fail(failures::timeout);
        last_failure = &failure_for_connect(result.failure);
    }
    endpoint_use in_use(lb, endpoint);
    if (request.count(http::field::host) == 0)
        request.set(http::field::host, upstream.endpoints[endpoint].to_string());

    // Send the header; one retry on a fresh connection when a reused one turns out to
    // have been closed by the upstream before it answered (idempotent, bodiless only).
    bool early_answer = false;  // the upload broke off; look for an answer already sent
    bool answered_early = false;  // the upstream spoke before the request was all sent
    std::uint64_t request_bytes = 0;
    std::uint64_t response_bytes = 0;
    std::optional<http::request_serializer<http::buffer_body>> sr;
    std::optional<http::response_parser<http::buffer_body>> rp;
    for (bool retried = false;; retried = true) {
        set_deadline(conn->stream, io_deadline());
        boost::system::error_code ec;
        if (!body_pending) {
            // The whole request in one write.
            serialize_header(request, cx.wire_header);
            auto [wec, wn] = co_await net::async_write(conn->stream, net::buffer(cx.wire_header),
                                                       tuple);
            ec = wec;
        } else {
            sr.emplace(request);
            request.body().data = nullptr;
            request.body().size = 0;
            request.body().more = true;
        }
        if (body_pending && expect_continue) {
            // The header alone: the client waits for the upstream to be reachable.
            auto [wec, wn] = co_await http::async_write_header(conn->stream, *sr, tuple);
            ec = wec;
        }  // else the header goes with the first piece of body (relay_body)
        if (!ec && body_pending) {
            if (expect_continue) {
                // The upstream is reachable: let the client send its body now.
                static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
                cx.client.tcp().expires_after(limits.idle_timeout.count() ? limits.idle_timeout
                                                                     : std::chrono::hours(1));
                auto [cec, cn] = co_await net::async_write(cx.client, net::buffer(go_on), tuple);
                if (cec) co_return false;
            }
            const auto relayed = co_await relay_body(cx.client, cx.client_buffer, parser,
                                                     conn->stream, *sr, cx.chunk.get(),
                                                     body_read_deadline, io_deadline, request_bytes,
                                                     limits.max_header_bytes, &answered_early);
            if (relayed.side == relay_side::read) {
                if (relayed.ec == http::error::body_limit)
                    co_await send_failure(cx.client, failures::body_too_large, false,
                                          client_version, head, &cx.trace);
                else if (relayed.ec == http::error::header_limit)
                    co_await send_failure(cx.client, failures::trailer_too_large, false,
                                          client_version, head, &cx.trace);
                else if (relayed.ec == beast::error::timeout && clock_type::now() >= body_deadline)
                    // The stream closed the connection at the deadline: this only records it.
                    co_await send_failure(cx.client, failures::body_timeout, false, client_version,
                                          head, &cx.trace);
                else if (relayed.ec != beast::error::timeout &&
                         relayed.ec.category() == http::make_error_code(http::error::bad_chunk).category())
                    co_await send_failure(cx.client, failures::bad_request, false, client_version,
                                          head, &cx.trace);
                co_return false;  // the client is gone or broke the framing
            }
            if (relayed.side == relay_side::write) {
                // The upstream stopped reading: it may have answered early (a 413, a 401)
                // and closed. Its answer, if any, beats a 502; the rest of the client's
                // body is unread, so the client connection ends after it.
                keep_alive = false;
                early_answer = true;
            }
        }
        // The response header.
        if (!ec) {
            for (;;) {
                rp.emplace();
                rp->body_limit(boost::none);
                rp->header_limit(static_cast<std::uint32_t>(max_response_header));
                if (head) rp->skip(true);
                auto header_deadline = deadline == clock_type::time_point::max()
                                           ? later(limits.idle_timeout)
                                           : deadline;
                if (early_answer)
                    header_deadline = std::min(header_deadline, later(early_answer_wait));
                set_deadline(conn->stream, header_deadline);
                ec = co_await read_header(conn->stream, conn->buffer, *rp);
                if (ec) break;
                const unsigned status = rp->get().result_int();
                if (status / 100 != 1 || status == 101) break;  // interim responses are dropped
            }
        }
        if (!ec) break;
        if (conn->reused && retryable && !retried && closed_before_response(ec)) {
            TG_LOG(debug) << "upstream " << upstream.name << ": pooled connection closed, retrying";
            cx.trace.attempt_failed("upstream_reset");
            cx.trace.begin_attempt(request, upstream.endpoints[endpoint]);
            auto fresh = co_await connect_upstream(upstream.endpoints[endpoint],
                                                   upstream.connect_timeout, deadline, tls);
            if (!fresh.connection) co_return co_await fail(failure_for_connect(fresh.failure));
            conn = std::move(fresh.connection);
            continue;
        }
        if (early_answer && ec == beast::error::timeout) ec = net::error::connection_reset;
        TG_LOG(warn) << "route " << cx.route.config.name << ": upstream " << upstream.name << " "
                     << conn->key << ": " << ec.message();
        // The upstream may have stopped reading (its answer unread): nothing here is reusable.
        co_return co_await fail(failure_for_upstream_error(ec));
    }

    // The response header, rewritten for the client.
    auto& response = rp->get();
    const unsigned status = response.result_int();
    cx.trace.on_response(status);
    if (status == 101 && (!upgrade || !upgrade_answered(request, response))) {
        // A protocol switch nobody asked for: the connection speaks something else now.
        TG_LOG(warn) << "upstream " << upstream.name << " " << conn->key
                     << ": 101 to a request that did not ask for that upgrade";
        co_return co_await fail(failures::bad_upstream_response);
    }
    if (!response_framing_acceptable(status, response)) {
        TG_LOG(warn) << "upstream " << upstream.name << " " << conn->key
                     << ": response with status " << status
                     << (status < 100 ? "" : " and both Transfer-Encoding and Content-Length");
        co_return co_await fail(failures::bad_upstream_response);
    }
    const bool upstream_keep_alive = rp->keep_alive();
    const bool switching = upgrade && status == 101;
    const bool bodyless = head || status == 204 || status == 304 || status / 100 == 1;
    const auto response_length = rp->content_length();
    const bool has_length = response_length.has_value();
    // Codings other than chunked (gzip, say) describe the body itself: they stay, and
    // chunked is applied on top again for this hop.
    const std::string codings = content_codings(response);
    remove_hop_by_hop(response, switching);
    if (status == 204)
        response.erase(http::field::content_length);  // RFC 9110 8.6: never on a 204
    else if (has_length)
        normalize_content_length(response, *response_length);
    if (!codings.empty()) response.set(http::field::transfer_encoding, codings);
    if (cx.owner.draining()) keep_alive = false;
    if (!bodyless && !has_length) {
        if (client_version == 11)
            response.chunked(true);
        else
            keep_alive = false;  // HTTP/1.0: the end of the body is the end of the connection
    }
    response.version(11);
    if (switching)
        response.set(http::field::connection, "upgrade");
    else if (!keep_alive)
        response.set(http::field::connection, "close");
    else if (client_version == 10)
        response.set(http::field::connection, "keep-alive");

    cx.trace.decorate(response);
    // The request is all upstream (a failed upload ended above); the answer is for the
    // client, and the upstream connection is reusable when it said so and sent nothing more.
    const bool request_sent = (!sr || sr->is_done()) && !answered_early;
    auto reusable = [&] { return upstream_keep_alive && request_sent && conn->buffer.size() == 0; };
    // A response body that broke off after its header went out: only the span can say so.
    auto body_broke_off = [&](const relay_error& relayed) {
        if (relayed.side == relay_side::read) {
            cx.trace.abandoned(failures::upstream_reset.reason, true);
            TG_LOG(warn) << "route " << cx.route.config.name << ": upstream " << upstream.name
                         << " " << conn->key << ": response body: "
                         << (relayed.ec == net::error::eof ? "closed before the end"
                                                           : relayed.ec.message());
        } else {
            cx.trace.abandoned("client_reset", false);
        }
        cx.trace.finish(request_bytes, response_bytes);
    };
    if (!switching && (bodyless || has_length)) {
        // The common case: the header and the body bytes already read in one write, the
        // rest of a known length copied as it comes.
        serialize_header(response, cx.wire_header);
        std::uint64_t remaining = bodyless ? 0 : *response_length;
        const auto first = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, conn->buffer.size()));
        // Not a std::array of two buffers: for that type Asio's async_write hands the stream,
        // after the header went out alone, {an empty buffer, the body}. Over TLS, Beast's
        // flat_stream then writes the prefix that fits its 16 KiB flattening limit, which is
        // nothing, and a write of 0 bytes ends async_write as if it were done: the body bytes
        // of this buffer were silently dropped whenever they passed ~16 KiB.
        const auto head_and_body = beast::buffers_cat(
            net::buffer(cx.wire_header), net::const_buffer(conn->buffer.data().data(), first));
        set_deadline(cx.client, client_deadline());
        relay_error relayed;
        auto [ec, n] = co_await net::async_write(cx.client, head_and_body, tuple);
        if (!ec && n != net::buffer_size(head_and_body)) ec = net::error::broken_pipe;  // never silently short
        if (ec) {
            relayed = relay_error{relay_side::write, ec};
        } else {
            conn->buffer.consume(first);
            remaining -= first;
            response_bytes += first;
            if (remaining > 0)
                relayed = co_await relay_exact(conn->stream, cx.client, remaining, cx.chunk.get(),
                                               io_deadline, client_deadline, response_bytes);
        }
        if (relayed) {
            body_broke_off(relayed);
            co_return false;
        }
        cx.trace.finish(request_bytes, response_bytes);
        if (reusable()) cx.owner.pool().put(std::move(conn), upstream.max_idle_connections);
        co_return keep_alive;
    }

    http::response_serializer<http::buffer_body> rs{response};
    response.body().data = nullptr;
    response.body().size = 0;
    response.body().more = !bodyless;
    if (bodyless || switching) {
        set_deadline(cx.client, client_deadline());
        auto [ec, n] = co_await http::async_write_header(cx.client, rs, tuple);
        if (ec) co_return false;
    }  // else the header goes with the first piece of body (relay_body)
    // From here on a failure can only close the connection: never a second response.

    if (switching) {
        cx.trace.finish(request_bytes, 0);  // the span covers the upgrade, not the tunnel's life
        co_await tunnel(cx.client, cx.client_buffer, conn->stream, conn->buffer, cx.chunk.get(),
                        limits.idle_timeout);
        co_return false;
    }
    if (!bodyless) {
        const auto relayed = co_await relay_body(conn->stream, conn->buffer, *rp, cx.client, rs,
                                                 cx.chunk.get(), io_deadline, client_deadline,
                                                 response_bytes, max_response_header);
        if (relayed.side == relay_side::read && !rs.is_header_done()) {
            // The body broke off within what the header read had already buffered (a
            // malformed chunk, say): nothing has gone to the client yet, so it gets a 502.
            TG_LOG(warn) << "route " << cx.route.config.name << ": upstream " << upstream.name
                         << " " << conn->key << ": response body: " << relayed.ec.message();
            co_return co_await fail(failure_for_upstream_error(relayed.ec));
        }
        if (relayed) {
            body_broke_off(relayed);
            co_return false;
        }
    }
    cx.trace.finish(request_bytes, response_bytes);
    if (rp->is_done() && reusable()) cx.owner.pool().put(std::move(conn), upstream.max_idle_connections);
    co_return keep_alive;
}

}  // namespace tracegate::proxy
