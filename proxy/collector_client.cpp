#include "proxy/collector_client.hpp"

#include "tracing/resource.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <netdb.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <variant>

namespace tracegate::proxy {
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple = net::as_tuple(net::use_awaitable);
/// A collector answers with a status and at most a small JSON or protobuf message
/// (OTLP partial success); anything this big is not one.
constexpr std::size_t max_response_body = std::size_t{4} << 20;
constexpr std::size_t max_response_header = std::size_t{64} << 10;

/// Where a request goes, from its URL.
struct origin {
    bool tls = false;
    bool ip_literal = false;
    std::string host;         ///< Without IPv6 brackets: for connecting, SNI, verification.
    std::uint16_t port = 0;
    std::string host_header;  ///< RFC 9112 3.2: host[:port], the port only when not default.
    std::string address;      ///< host:port (brackets for IPv6) as messages show it.
    std::string target;       ///< origin-form: path and query, "/" when the path is empty.

    /// What a kept-alive connection is good for: scheme, host and port.
    std::string key() const { return (tls ? "https://" : "http://") + address; }
};

std::optional<origin> parse_url(std::string_view url, std::string& error) {
    const auto parsed = urls::parse_uri(url);
    if (!parsed) {
        error = "invalid collector URL '" + std::string(url) +
                "': not an absolute http:// or https:// URL";
        return std::nullopt;
    }
    const urls::url_view& u = *parsed;
    origin o;
    if (u.scheme_id() == urls::scheme::https)
        o.tls = true;
    else if (u.scheme_id() != urls::scheme::http) {
        error = "unsupported scheme '" + std::string(u.scheme()) + "' in collector URL '" +
                std::string(url) + "' (http and https only)";
        return std::nullopt;
    }
    o.host = u.host_address();
    if (o.host.empty() || u.host_type() == urls::host_type::ipvfuture) {
        error = "no usable host in collector URL '" + std::string(url) + "'";
        return std::nullopt;
    }
    const std::uint16_t default_port = o.tls ? 443 : 80;
    o.port = default_port;
    if (u.has_port() && !u.port().empty()) {
        // port_number() wraps what does not fit in 16 bits (99999 -> 34463).
        const std::string_view text = u.port();
        unsigned long number = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        o.port = static_cast<std::uint16_t>(number);
        if (ec != std::errc{} || end != text.data() + text.size() || number == 0 || number > 65535) {
            error = "invalid port '" + std::string(u.port()) + "' in collector URL '" +
                    std::string(url) + "'";
            return std::nullopt;
        }
    }
    o.ip_literal = u.host_type() == urls::host_type::ipv4 || u.host_type() == urls::host_type::ipv6;
    const std::string bracketed = u.host_type() == urls::host_type::ipv6 ? "[" + o.host + "]" : o.host;
    o.address = bracketed + ":" + std::to_string(o.port);
    o.host_header = o.port == default_port ? bracketed : o.address;
    o.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query()) o.target += "?" + std::string(u.encoded_query());
    return o;
}

/// "2s", or "1500ms" when not whole seconds.
std::string describe(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s"
                                 : std::to_string(d.count()) + "ms";
}

/// One getaddrinfo on a thread of its own, so that waiting for it is bounded by a
/// deadline and by cancel(): asio's resolver runs getaddrinfo on a thread too, but its
/// cancel() waits for getaddrinfo to return, which an unreachable DNS server makes take
/// resolv.conf's timeout times its attempts. A lookup nobody waits for finishes alone.
class host_lookup {
public:
    enum class outcome { done, timed_out, abandoned };

    /// Starts resolving `host`:`port` (TCP, IPv4 and IPv6).
    static std::shared_ptr<host_lookup> start(const std::string& host, std::uint16_t port) {
        auto lookup = std::make_shared<host_lookup>();
        std::thread([lookup, host, service = std::to_string(port)] {
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            hints.ai_flags = AI_NUMERICSERV;
            addrinfo* list = nullptr;
            const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
            std::vector<tcp::endpoint> endpoints;
            for (auto* ai = list; rc == 0 && ai; ai = ai->ai_next) {
                if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
                tcp::endpoint ep;
                std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
                ep.resize(ai->ai_addrlen);
                endpoints.push_back(ep);
            }
            if (list) ::freeaddrinfo(list);
            std::lock_guard lock(lookup->mutex_);
            lookup->rc_ = rc;
            lookup->endpoints_ = std::move(endpoints);
            lookup->done_ = true;
            lookup->changed_.notify_all();
        }).detach();
        return lookup;
    }

    /// Waits until the lookup is done, `deadline` passes or abandon() is called.
    outcome wait(clock_type::time_point deadline) {
        std::unique_lock lock(mutex_);
        changed_.wait_until(lock, deadline, [&] { return done_ || abandoned_; });
        return abandoned_ ? outcome::abandoned : done_ ? outcome::done : outcome::timed_out;
    }

    /// Thread-safe: makes wait() return now.
    void abandon() {
        std::lock_guard lock(mutex_);
        abandoned_ = true;
        changed_.notify_all();
    }

    /// After outcome::done: the addresses, or empty with `error` saying why.
    std::vector<tcp::endpoint> result(const std::string& host, std::string& error) {
        std::lock_guard lock(mutex_);
        if (rc_ != 0 || endpoints_.empty())
            error = "cannot resolve " + host + (rc_ != 0 ? std::string(": ") + ::gai_strerror(rc_) : "");
        return std::move(endpoints_);
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool done_ = false;
    bool abandoned_ = false;
    int rc_ = 0;
    std::vector<tcp::endpoint> endpoints_;
};

/// OpenSSL's reason for a TLS failure ("certificate verify failed: hostname mismatch").
std::string describe_tls(const boost::system::error_code& ec, SSL* ssl) {
    if (ec.category() != net::error::get_ssl_category()) return ec.message();
    const char* reason = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    std::string text = reason ? reason : ec.message();
    if (ssl && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED)
        text += std::string(": ") + ::X509_verify_cert_error_string(::SSL_get_verify_result(ssl));
    return text;
}

/// The peer closed or reset the connection: on a reused one, the race of sending on a
/// keep-alive connection the server is closing as idle (RFC 9112 9.3.1).
bool peer_closed(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe ||
           ec == ssl::error::stream_truncated;
}

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

/// A connection with its read buffer (bytes past a response belong to the connection).
struct connection {
    using stream_type = std::variant<beast::tcp_stream, tls_stream>;

    /// Plain TCP, or TLS over it when `tls` is given.
    connection(std::string k, const net::any_io_executor& executor, ssl::context* tls)
        : key(std::move(k)),
          stream(tls ? stream_type(std::in_place_type<tls_stream>, executor, *tls)
                     : stream_type(std::in_place_type<beast::tcp_stream>, executor)) {}

    std::string key;  ///< origin::key() of where it goes.
    stream_type stream;
    beast::flat_buffer buffer;

    beast::tcp_stream& tcp() {
        if (auto* s = std::get_if<tls_stream>(&stream)) return s->next_layer();
        return std::get<beast::tcp_stream>(stream);
    }
};

/// An idle kept-alive connection is usable when reading would block. On plain HTTP any
/// byte means trouble (a server does not speak unasked); under TLS an alert record
/// (content type 21, RFC 8446 5.1) is in practice close_notify.
bool looks_open(connection& c) {
    unsigned char byte = 0;
    const ssize_t n = ::recv(c.tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    return n == 1 && std::holds_alternative<tls_stream>(c.stream) && byte != 21;
}

/// The request as Beast sends it: the body is the caller's, not copied.
using wire_request = http::request<http::span_body<const char>>;

/// What one exchange on one connection gave.
struct exchange_result {
    tracing::incoming_response response;
    bool keep_alive = false;         ///< The connection may carry the next request.
    bool closed_unanswered = false;  ///< Peer closed it before a single response byte.
};

/// One send(): where to and until when; makes the "timed out" messages.
struct send_context {
    const origin& where;
    clock_type::time_point deadline;
    std::chrono::milliseconds timeout;

    std::string timed_out(std::string_view doing) const {
        return "timed out after " + describe(timeout) + " (" + std::string(doing) + " " +
               where.address + ")";
    }
};

class collector_client final : public tracing::http_transport {
public:
    explicit collector_client(const tracing::transport_options& options)
        : tls_(ssl::context::tls_client),
          user_agent_("tracegate/" + std::string(tracing::tracegate_version())) {
        ::SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
        tls_.set_verify_mode(ssl::verify_peer);
        if (!options.ca_file) {
            tls_.set_default_verify_paths();
            return;
        }
        const auto& file = *options.ca_file;
        if (!std::ifstream(file).good())
            throw std::runtime_error("cannot read ca_file " + file + ": " + std::strerror(errno));
        boost::system::error_code ec;
        tls_.load_verify_file(file, ec);
        if (ec)
            throw std::runtime_error("cannot load ca_file " + file + ": " +
                                     describe_tls(ec, nullptr) + " (a PEM CA bundle is expected)");
    }

    tracing::incoming_response send(const tracing::outgoing_request& request) noexcept override {
        tracing::incoming_response failed;
        try {
            send_scope scope(*this);
            return send_checked(request);
        } catch (const std::exception& e) {
            failed.error = std::string("internal error: ") + e.what();
        } catch (...) {
            failed.error = "internal error";
        }
        connection_.reset();
        return failed;
    }

    void cancel() noexcept override {
        std::shared_ptr<host_lookup> lookup;
        {
            std::lock_guard lock(cancel_mutex_);
            if (!sending_) return;
            cancelled_ = true;
            lookup = lookup_;
            // Sockets belong to the exporter thread: this closes the one in use from
            // inside its run(). One that has not started its operation yet sees
            // cancelled_ first (the coroutines look right before each operation).
            try {
                net::post(ioc_, [this, generation = generation_] {
                    if (generation != generation_ || !active_) return;
                    boost::system::error_code ignored;
                    active_->socket().close(ignored);
                });
            } catch (...) {
                // bad_alloc: the send still ends at its deadline.
            }
        }
        if (lookup) lookup->abandon();
    }

private:
    /// Marks a send() in progress for cancel(), which acts on that send() only.
    struct send_scope {
        explicit send_scope(collector_client& c) : client(c) {
            std::lock_guard lock(client.cancel_mutex_);
            ++client.generation_;
            client.sending_ = true;
            client.cancelled_ = false;
        }
        ~send_scope() {
            std::lock_guard lock(client.cancel_mutex_);
            client.sending_ = false;
            client.lookup_.reset();
            client.active_ = nullptr;
        }
        send_scope(const send_scope&) = delete;
        send_scope& operator=(const send_scope&) = delete;
        collector_client& client;
    };

    tracing::incoming_response cancelled_response() {
        connection_.reset();
        tracing::incoming_response response;
        response.error = "cancelled";
        return response;
    }

    tracing::incoming_response send_checked(const tracing::outgoing_request& request) {
        tracing::incoming_response failed;
        const auto where = parse_url(request.url, failed.error);
        if (!where) return failed;
        wire_request req;
        if (!build(request, *where, req, failed.error)) return failed;
        const send_context context{*where, clock_type::now() + request.timeout, request.timeout};

        if (connection_ && (connection_->key != where->key() || !looks_open(*connection_)))
            connection_.reset();
        bool reused = connection_ != nullptr;
        for (;;) {
            if (!connection_) {
                failed.error = connect(context);
                if (cancelled_) return cancelled_response();
                if (!failed.error.empty()) return failed;
            }
            active_ = &connection_->tcp();
            auto result = run(exchange(*connection_, req, context));
            active_ = nullptr;
            if (result.response.status == 0 && cancelled_) return cancelled_response();
            // One retry, on a fresh connection, for a reused one the peer had closed.
            if (result.closed_unanswered && reused && clock_type::now() < context.deadline) {
                connection_.reset();
                reused = false;
                continue;
            }
            if (!result.keep_alive) connection_.reset();
            return std::move(result.response);
        }
    }

    /// Fills `req`; false with `error` when a header could split the message.
    bool build(const tracing::outgoing_request& request, const origin& where, wire_request& req,
               std::string& error) const {
        const auto bad = [](std::string_view s) {
            return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
        };
        if (request.method.empty() || bad(request.method) ||
            request.method.find(' ') != std::string::npos) {
            error = "invalid request method '" + request.method + "'";
            return false;
        }
        req.method_string(request.method);
        req.target(where.target);
        req.version(11);
        for (const auto& h : request.headers) {
            if (h.name.empty() || bad(h.name) || bad(h.value) ||
                h.name.find_first_of(" :") != std::string::npos) {
                error = "invalid request header '" + h.name + "'";
                return false;
            }
            // Framing and identity are the transport's.
            if (beast::iequals(h.name, "host") || beast::iequals(h.name, "content-length") ||
                beast::iequals(h.name, "transfer-encoding") || beast::iequals(h.name, "user-agent"))
                continue;
            req.insert(h.name, h.value);
        }
        req.set(http::field::host, where.host_header);
        req.set(http::field::user_agent, user_agent_);
        const auto verb = req.method();
        if (!request.body.empty() || verb == http::verb::post || verb == http::verb::put ||
            verb == http::verb::patch)
            req.content_length(request.body.size());
        req.body() = {request.body.data(), request.body.size()};
        return true;
    }

    /// The addresses of `context.where`; empty with the reason when there are none.
    std::vector<tcp::endpoint> addresses(const send_context& context, std::string& error) {
        const auto& where = context.where;
        if (where.ip_literal) return {tcp::endpoint(net::ip::make_address(where.host), where.port)};
        auto lookup = host_lookup::start(where.host, where.port);
        {
            std::lock_guard lock(cancel_mutex_);
            if (cancelled_) return {};
            lookup_ = lookup;
        }
        const auto outcome = lookup->wait(context.deadline);
        {
            std::lock_guard lock(cancel_mutex_);
            lookup_.reset();
        }
        if (outcome == host_lookup::outcome::timed_out) error = context.timed_out("resolving");
        if (outcome != host_lookup::outcome::done) return {};
        return lookup->result(where.host, error);
    }

    /// Opens connection_ to `context.where`; returns the reason when it cannot.
    std::string connect(const send_context& context) {
        const auto& where = context.where;
        std::string error;
        const auto endpoints = addresses(context, error);
        if (endpoints.empty()) return error;

        auto c = std::make_unique<connection>(where.key(), ioc_.get_executor(),
                                              where.tls ? &tls_ : nullptr);
        c->buffer.max_size(max_response_header + max_response_body);
        active_ = &c->tcp();
        auto ec = run(connect_tcp(c->tcp(), endpoints, context.deadline));
        active_ = nullptr;
        if (ec == beast::error::timeout) return context.timed_out("connecting to");
        if (ec == net::error::connection_refused) return "connection refused (" + where.address + ")";
        if (ec) return "cannot connect to " + where.address + ": " + ec.message();

        if (auto* s = std::get_if<tls_stream>(&c->stream)) {
            SSL* handle = s->native_handle();
            X509_VERIFY_PARAM* param = ::SSL_get0_param(handle);
            // OpenSSL checks the name as part of verifying the chain (what
            // ssl::host_name_verification does in a callback), so a mismatch is reported
            // as such. RFC 6066 3: no IP literal in SNI.
            bool ok = true;
            if (where.ip_literal) {
                ok = ::X509_VERIFY_PARAM_set1_ip_asc(param, where.host.c_str()) == 1;
            } else {
                ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                ok = ::X509_VERIFY_PARAM_set1_host(param, where.host.c_str(), where.host.size()) == 1 &&
                     ::SSL_set_tlsext_host_name(handle, where.host.c_str()) == 1;
            }
            if (!ok) return "cannot set up TLS for " + where.address;
            active_ = &c->tcp();
            ec = run(handshake(*s, context.deadline));
            active_ = nullptr;
            if (ec == beast::error::timeout) return context.timed_out("TLS handshake with");
            if (ec)
                return "TLS handshake with " + where.address + " failed: " + describe_tls(ec, handle);
        }
        connection_ = std::move(c);
        return {};
    }

    net::awaitable<boost::system::error_code> connect_tcp(beast::tcp_stream& stream,
                                                          const std::vector<tcp::endpoint>& endpoints,
                                                          clock_type::time_point deadline) {
        if (cancelled_) co_return net::error::operation_aborted;
        stream.expires_at(deadline);
        auto [ec, ep] = co_await stream.async_connect(endpoints, tuple);
        if (!ec) stream.socket().set_option(tcp::no_delay(true), ec);
        co_return ec;
    }

    net::awaitable<boost::system::error_code> handshake(tls_stream& stream,
                                                        clock_type::time_point deadline) {
        if (cancelled_) co_return net::error::operation_aborted;
        stream.next_layer().expires_at(deadline);
        auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, tuple);
        co_return ec;
    }

    /// Writes `req` and reads the response on `c`.
    net::awaitable<exchange_result> exchange(connection& c, const wire_request& req,
                                             const send_context& context) {
        if (auto* s = std::get_if<tls_stream>(&c.stream))
            co_return co_await exchange_on(*s, c.buffer, req, context);
        co_return co_await exchange_on(std::get<beast::tcp_stream>(c.stream), c.buffer, req, context);
    }

    template <class Stream>
    net::awaitable<exchange_result> exchange_on(Stream& stream, beast::flat_buffer& buffer,
                                                const wire_request& req,
                                                const send_context& context) {
        exchange_result result;
        auto& error = result.response.error;
        const auto& address = context.where.address;
        auto& tcp_layer = beast::get_lowest_layer(stream);
        if (cancelled_) co_return result;
        tcp_layer.expires_at(context.deadline);
        auto [wec, written] = co_await http::async_write(stream, req, tuple);
        if (wec) {
            result.closed_unanswered = wec != beast::error::timeout;
            error = wec == beast::error::timeout
                        ? context.timed_out("sending the request to")
                        : "sending the request to " + address + " failed: " + wec.message();
            co_return result;
        }
        for (;;) {
            http::response_parser<http::string_body> parser;
            parser.header_limit(max_response_header);
            parser.body_limit(max_response_body);
            if (req.method() == http::verb::head) parser.skip(true);
            if (cancelled_) co_return result;
            auto [rec, read] = co_await http::async_read(stream, buffer, parser, tuple);
            if (rec) {
                if (rec == beast::error::timeout)
                    error = context.timed_out("waiting for the response from");
                else if (rec == http::error::body_limit)
                    error = "response body over 4 MiB from " + address;
                else if (rec == http::error::header_limit)
                    error = "response header over 64 KiB from " + address;
                else if (peer_closed(rec) || rec == http::error::partial_message) {
                    result.closed_unanswered = !parser.got_some();
                    error = "connection closed by " + address +
                            (parser.got_some() ? " in the middle of the response"
                                               : " before any response");
                } else if (rec.category() == http::make_error_code(http::error::bad_version).category())
                    error = "invalid HTTP response from " + address + ": " + rec.message();
                else
                    error = "reading the response from " + address + " failed: " + rec.message();
                co_return result;
            }
            auto& res = parser.get();
            // 1xx are interim (RFC 9110 15.2); the final response follows.
            if (res.result_int() >= 100 && res.result_int() < 200 &&
                res.result() != http::status::switching_protocols)
                continue;
            tcp_layer.expires_never();
            result.response.status = static_cast<int>(res.result_int());
            for (const auto& field : res) {
                std::string name(field.name_string());
                for (auto& ch : name)
                    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
                result.response.headers.push_back({std::move(name), std::string(field.value())});
            }
            result.response.body = std::move(res.body());
            // Stray bytes after the response would be read as the next one's start.
            result.keep_alive = res.keep_alive() && !parser.need_eof() && buffer.size() == 0 &&
                                res.result() != http::status::switching_protocols;
            co_return result;
        }
    }

    /// Runs `op` on ioc_ until it finishes. Every operation in it has a deadline (the
    /// tcp_stream's expiry), which is what bounds the wait.
    template <class T>
    T run(net::awaitable<T> op) {
        std::optional<T> result;
        std::exception_ptr error;
        net::co_spawn(ioc_, std::move(op), [&](std::exception_ptr e, T value) {
            error = e;
            if (!e) result.emplace(std::move(value));
        });
        ioc_.restart();
        ioc_.run();
        if (error) std::rethrow_exception(error);
        return std::move(*result);
    }

    ssl::context tls_;
    std::string user_agent_;
    net::io_context ioc_{1};
    std::unique_ptr<connection> connection_;  ///< The kept-alive one, if any.
    beast::tcp_stream* active_ = nullptr;     ///< In use by run(); exporter thread only.

    // What cancel(), the one member called from another thread, shares with send().
    std::mutex cancel_mutex_;
    bool sending_ = false;
    std::uint64_t generation_ = 0;  ///< Counts send() calls: a cancel() belongs to one.
    std::atomic<bool> cancelled_{false};
    std::shared_ptr<host_lookup> lookup_;  ///< What send() waits for, if it does.
};

}  // namespace

std::unique_ptr<tracing::http_transport> make_collector_client(
    const tracing::transport_options& options) {
    return std::make_unique<collector_client>(options);
}

}  // namespace tracegate::proxy
