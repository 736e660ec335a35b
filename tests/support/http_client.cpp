#include "tests/support/http_client.hpp"

#include "tests/support/sync_run.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstring>
#include <limits>
#include <sstream>

namespace tracegate::test {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto nothrow = net::as_tuple(net::use_awaitable);
/// Responses read whole by request() are small; a larger one is a test bug.
constexpr std::uint64_t max_buffered_body = 64 * 1024 * 1024;

template <class Fields>
header_list to_list(const Fields& fields) {
    header_list out;
    for (const auto& f : fields) out.emplace_back(f.name_string(), f.value());
    return out;
}

/// Applies the default Host, then `headers` in order (a Host among them replaces it).
template <class Request>
void add_headers(Request& req, const std::string& default_host, const header_list& headers) {
    req.set(http::field::host, default_host);
    for (const auto& [name, value] : headers) {
        if (beast::iequals(name, "host"))
            req.set(http::field::host, value);
        else
            req.insert(name, value);
    }
}

}  // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
    return find_header(headers, name);
}

bool http_response::has_header(std::string_view name) const {
    return count_header(headers, name) > 0;
}

std::string http_response::describe() const {
    std::ostringstream out;
    if (error) out << "error: " << error.message() << " (" << error.category().name() << ":" << error.value() << "); ";
    out << "HTTP " << status;
    if (auto reason = header("x-tracegate-error")) out << " [x-tracegate-error: " << *reason << "]";
    out << " " << body.size() << " bytes";
    if (!body.empty()) out << ": " << body.substr(0, 200);
    return out.str();
}

std::optional<std::string> download_result::header(std::string_view name) const {
    return find_header(headers, name);
}

std::string download_result::describe() const {
    std::ostringstream out;
    if (error) out << "error: " << error.message() << "; ";
    out << "HTTP " << status << ", " << digest.to_string()
        << (matches_pattern ? "" : ", bytes differ from the pattern")
        << (chunked ? ", chunked" : "");
    return out.str();
}

std::vector<http_response> parse_responses(std::string_view bytes, bool eof) {
    std::vector<http_response> out;
    while (!bytes.empty()) {
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        parser.header_limit(1024 * 1024);
        parser.body_limit(max_buffered_body);
        beast::error_code ec;
        const auto used = parser.put(net::buffer(bytes.data(), bytes.size()), ec);
        bytes.remove_prefix(used);
        if (!ec && !parser.is_done() && bytes.empty() && eof) parser.put_eof(ec);

        http_response r;
        if (parser.is_header_done()) {
            const auto& res = parser.get();
            r.status = res.result_int();
            r.version = res.version();
            r.headers = to_list(res.base());
            r.body = res.body();
        }
        if (ec == http::error::need_more || (!ec && !parser.is_done())) ec = http::error::partial_message;
        r.error = ec;
        r.complete = parser.is_done();
        out.push_back(std::move(r));
        if (ec) break;
    }
    return out;
}

struct http_client::impl {
    net::io_context ioc{1};
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;
    std::string host_header;
    duration timeout;
    boost::system::error_code connect_error;
    bool open = false;

    void close() {
        if (!open) return;
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.socket().close(ignored);
        open = false;
    }

    /// Reads one response whole (skipping 1xx but 101) into `out`.
    net::awaitable<void> read_response(http_response& out, bool head) {
        for (;;) {
            http::response_parser<http::string_body> parser;
            parser.header_limit(1024 * 1024);
            parser.body_limit(max_buffered_body);
            parser.skip(head);
            stream.expires_after(timeout);
            auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
            if (parser.is_header_done()) {
                const auto& res = parser.get();
                out.status = res.result_int();
                out.version = res.version();
                out.headers = to_list(res.base());
                out.body = res.body();
            }
            out.error = ec;
            out.complete = !ec && parser.is_done();
            if (ec) {
                close();
                co_return;
            }
            if (out.status >= 100 && out.status < 200 && out.status != 101) continue;
            if (!parser.get().keep_alive()) close();
            co_return;
        }
    }

    net::awaitable<http_response> exchange(http::request<http::string_body> req) {
        http_response out;
        if (!open) {
            out.error = net::error::not_connected;
            co_return out;
        }
        stream.expires_after(timeout);
        auto [ec, n] = co_await http::async_write(stream, req, nothrow);
        if (ec) {
            out.error = ec;
            close();
            co_return out;
        }
        co_await read_response(out, req.method() == http::verb::head);
        co_return out;
    }

    net::awaitable<http_response> upload(http::request<http::buffer_body> req, std::uint64_t n) {
        http_response out;
        if (!open) {
            out.error = net::error::not_connected;
            co_return out;
        }
        http::request_serializer<http::buffer_body> sr{req};
        req.body().data = nullptr;
        req.body().more = true;
        stream.expires_after(timeout);
        auto [ec, w] = co_await http::async_write_header(stream, sr, nothrow);
        for (std::uint64_t offset = 0; !ec && offset < n;) {
            const auto piece =
                static_cast<std::size_t>(std::min<std::uint64_t>(pattern_chunk, n - offset));
            req.body().data = const_cast<char*>(pattern_data(offset));
            req.body().size = piece;
            req.body().more = true;
            stream.expires_after(timeout);
            std::tie(ec, w) = co_await http::async_write(stream, sr, nothrow);
            if (ec == http::error::need_buffer) ec = {};
            offset += piece;
        }
        if (!ec) {
            req.body().data = nullptr;
            req.body().size = 0;
            req.body().more = false;
            stream.expires_after(timeout);
            std::tie(ec, w) = co_await http::async_write(stream, sr, nothrow);
        }
        if (ec) {
            // The server may have answered early (e.g. 413) and closed: read what it said.
            out.error = ec;
            http_response early;
            co_await read_response(early, false);
            if (early.status != 0) {
                early.error = ec;
                out = std::move(early);
            }
            close();
            co_return out;
        }
        co_await read_response(out, false);
        co_return out;
    }

    net::awaitable<download_result> download(http::request<http::empty_body> req) {
        download_result out;
        if (!open) {
            out.error = net::error::not_connected;
            co_return out;
        }
        stream.expires_after(timeout);
        auto [ec, w] = co_await http::async_write(stream, req, nothrow);
        if (ec) {
            out.error = ec;
            close();
            co_return out;
        }
        std::vector<char> chunk(pattern_chunk);
        for (;;) {
            http::response_parser<http::buffer_body> parser;
            parser.header_limit(1024 * 1024);
            parser.body_limit(std::numeric_limits<std::uint64_t>::max());
            stream.expires_after(timeout);
            std::tie(ec, w) = co_await http::async_read_header(stream, buffer, parser, nothrow);
            if (ec) break;
            const auto& res = parser.get();
            out.status = res.result_int();
            out.headers = to_list(res.base());
            out.chunked = res.chunked();
            if (out.status >= 100 && out.status < 200 && out.status != 101) {
                out.status = 0;
                continue;
            }
            while (!parser.is_done()) {
                parser.get().body().data = chunk.data();
                parser.get().body().size = chunk.size();
                stream.expires_after(timeout);
                std::tie(ec, w) = co_await http::async_read(stream, buffer, parser, nothrow);
                if (ec == http::error::need_buffer) ec = {};
                if (ec) break;
                const std::size_t got = chunk.size() - parser.get().body().size;
                if (out.matches_pattern &&
                    std::memcmp(chunk.data(), pattern_data(out.digest.bytes), got) != 0)
                    out.matches_pattern = false;
                out.digest.update(chunk.data(), got);
            }
            if (!ec && !parser.get().keep_alive()) close();
            break;
        }
        out.error = ec;
        if (ec) close();
        co_return out;
    }

    net::awaitable<bool> wait_closed(duration wait) {
        char byte;
        stream.expires_after(wait);
        auto [ec, n] = co_await stream.async_read_some(net::buffer(&byte, 1), nothrow);
        close();
        co_return ec == net::error::eof || ec == net::error::connection_reset;
    }
};

http_client::http_client(std::uint16_t port, duration timeout)
    : http_client("127.0.0.1", port, timeout) {}

http_client::http_client(const std::string& host, std::uint16_t port, duration timeout)
    : impl_(std::make_unique<impl>()) {
    auto& s = *impl_;
    s.timeout = timeout;
    const auto ip = net::ip::make_address(host);
    s.host_header = (ip.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
    const tcp::endpoint endpoint(ip, port);
    s.connect_error = sync_run(s.ioc, [](impl& s, tcp::endpoint ep) -> net::awaitable<boost::system::error_code> {
        s.stream.expires_after(s.timeout);
        auto [ec] = co_await s.stream.async_connect(ep, nothrow);
        co_return ec;
    }(s, endpoint));
    s.open = !s.connect_error;
}

http_client::~http_client() { impl_->close(); }

bool http_client::connected() const { return impl_->open; }

boost::system::error_code http_client::connect_error() const { return impl_->connect_error; }

void http_client::set_timeout(duration timeout) { impl_->timeout = timeout; }

http_response http_client::request(std::string_view method, std::string_view target,
                                   const header_list& headers, std::string body,
                                   unsigned version) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(version);
    add_headers(req, impl_->host_header, headers);
    const bool has_length = req.count(http::field::content_length) > 0 ||
                            req.count(http::field::transfer_encoding) > 0;
    req.body() = std::move(body);
    if (!has_length && (!req.body().empty() || method == "POST" || method == "PUT"))
        req.content_length(req.body().size());
    return sync_run(impl_->ioc, impl_->exchange(std::move(req)));
}

http_response http_client::get(std::string_view target, const header_list& headers) {
    return request("GET", target, headers);
}

http_response http_client::head(std::string_view target, const header_list& headers) {
    return request("HEAD", target, headers);
}

http_response http_client::post(std::string_view target, std::string body,
                                const header_list& headers) {
    return request("POST", target, headers, std::move(body));
}

http_response http_client::upload(std::string_view target, std::uint64_t n, framing how,
                                  const header_list& headers) {
    http::request<http::buffer_body> req{http::verb::post, target, 11};
    add_headers(req, impl_->host_header, headers);
    req.set(http::field::content_type, "application/octet-stream");
    if (how == framing::chunked)
        req.chunked(true);
    else
        req.content_length(n);
    return sync_run(impl_->ioc, impl_->upload(std::move(req), n));
}

download_result http_client::download(std::string_view target, const header_list& headers,
                                      unsigned version) {
    http::request<http::empty_body> req{http::verb::get, target, version};
    add_headers(req, impl_->host_header, headers);
    return sync_run(impl_->ioc, impl_->download(std::move(req)));
}

bool http_client::wait_closed_by_peer(duration wait) {
    if (!impl_->open) return false;
    return sync_run(impl_->ioc, impl_->wait_closed(wait));
}

void http_client::close() { impl_->close(); }

}  // namespace tracegate::test
