#include "tests/fuzz/exchange_input.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <string_view>

namespace tracegate::fuzz {
namespace {

constexpr std::array<std::string_view, 9> methods = {"GET",   "POST",    "PUT",     "DELETE", "PATCH",
                                                     "HEAD",  "OPTIONS", "CONNECT", "TRACE"};
constexpr std::array<std::string_view, 6> idempotent_methods = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
constexpr std::array<std::string_view, 7> targets = {
    "/", "/a/b?c=d", "/public/%2e%2e/secret", "/public/..%2fsecret", "/x/..;/y", "*", "http://example.test/x"};
constexpr std::array<std::string_view, 4> versions = {"HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 "};
constexpr std::array<std::string_view, 21> request_fields = {
    "Host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Expect", "TE", "Trailer",
    "traceparent", "tracestate", "b3", "X-B3-TraceId", "X-B3-Sampled", "uber-trace-id", "baggage",
    "X-Cloud-Trace-Context", "X-Amzn-Trace-Id", "x-request-id", "Keep-Alive", "Proxy-Connection", "Cookie"};
constexpr std::array<std::string_view, 10> response_fields = {
    "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Trailer", "Keep-Alive",
    "Set-Cookie", "traceresponse", "Sec-WebSocket-Accept", "Proxy-Authenticate"};
constexpr std::array<std::string_view, 14> values = {
    "chunked", "close", "keep-alive", "100-continue", "websocket", "h2c", "0", "5", "gzip, chunked",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
    "upgrade, x-request-id", "identity", "trailers"};
constexpr std::array<std::string_view, 10> statuses = {
    "HTTP/1.1 200 OK", "HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified", "HTTP/1.1 101 Switching Protocols",
    "HTTP/1.0 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 500 Internal Server Error", "HTTP/1.1 099 Odd",
    "HTTP/1.1 200", "HTTP/1.1 302 Found"};
constexpr std::array<std::string_view, 3> interim = {"", "HTTP/1.1 100 Continue\r\n\r\n",
                                                     "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"};

enum class framing { none, content_length, chunked, raw };

/// Input text with every 'z' and 'Z' read as 'y' (see the header).
std::string text(FuzzedDataProvider& in, std::size_t max) {
    std::string s = in.ConsumeRandomLengthString(max);
    std::replace(s.begin(), s.end(), 'z', 'y');
    std::replace(s.begin(), s.end(), 'Z', 'Y');
    return s;
}

template <std::size_t N>
std::string_view pick(FuzzedDataProvider& in, const std::array<std::string_view, N>& table) {
    return table[in.ConsumeIntegralInRange<std::size_t>(0, N - 1)];
}

/// True one time in `n`: the shapes are mostly ones tracegate forwards, so that inputs reach
/// the upstream and back, with something hostile now and then.
/// (An exhausted provider gives 0: false, so the input's tail is not all hostility.)
bool one_in(FuzzedDataProvider& in, int n) { return in.ConsumeIntegralInRange(0, n - 1) == n - 1; }

/// A table entry, or (one time in eight) the input's own text.
template <std::size_t N>
std::string pick_or_text(FuzzedDataProvider& in, const std::array<std::string_view, N>& table, std::size_t max) {
    if (one_in(in, 8)) return text(in, max);
    return std::string(pick(in, table));
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool is_framing_field(std::string_view name) {
    auto same = [&](std::string_view other) {
        return std::equal(name.begin(), name.end(), other.begin(), other.end(),
                          [](char a, char b) { return std::tolower(a) == std::tolower(b); });
    };
    return same("content-length") || same("transfer-encoding");
}

/// A header value: a table entry, input text, or now and then a long run (past any
/// header limit).
std::string value(FuzzedDataProvider& in) {
    if (one_in(in, 32)) return std::string(in.ConsumeIntegralInRange<std::size_t>(0, 70000), 'a');
    if (one_in(in, 3)) return text(in, 80);
    return std::string(pick(in, values));
}

/// How a body is framed: mostly as it should be.
framing pick_framing(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange(0, 8)) {
    case 0: case 1: case 2: return framing::none;
    case 3: case 4: case 5: return framing::content_length;
    case 6: case 7: return framing::chunked;
    default: return framing::raw;
    }
}

/// The body and the framing fields for it; `raw` framing appends input bytes as they are.
void frame(FuzzedDataProvider& in, framing how, std::string& head, std::string& body, std::string_view eol) {
    const std::string payload = text(in, 512);
    switch (how) {
    case framing::none: break;
    case framing::content_length:
        head += "Content-Length: " + std::to_string(payload.size()) + std::string(eol);
        body = payload;
        break;
    case framing::chunked: {
        head += "Transfer-Encoding: chunked" + std::string(eol);
        std::size_t at = 0;
        const std::size_t pieces = in.ConsumeIntegralInRange<std::size_t>(1, 3);
        for (std::size_t i = 0; i < pieces && at < payload.size(); ++i) {
            const std::size_t n = i + 1 == pieces ? payload.size() - at
                                                   : in.ConsumeIntegralInRange<std::size_t>(1, payload.size() - at);
            char size[32];
            std::snprintf(size, sizeof size, "%zx", n);
            body += std::string(size) + "\r\n" + payload.substr(at, n) + "\r\n";
            at += n;
        }
        body += "0\r\n";
        if (in.ConsumeBool()) body += "x-trailer: " + text(in, 40) + "\r\n";
        body += "\r\n";
        break;
    }
    case framing::raw:
        head += "Content-Length: " + text(in, 8) + std::string(eol);
        body = payload;
        break;
    }
}

/// The upstream's answer to `r`; an answer whose status line is input text may end its
/// head before the label (r.answer_labelled).
void plan_answer(FuzzedDataProvider& in, planned_request& r, bool last, std::uint64_t& next_seq) {
    upstream_script& s = r.answer;
    s.answer = std::string(pick(in, interim));
    r.answer_labelled = !one_in(in, 8);
    s.answer += r.answer_labelled ? (one_in(in, 3) ? std::string(pick(in, statuses)) : std::string("HTTP/1.1 200 OK"))
                                  : text(in, 40);
    s.answer += "\r\nx-fuzz-seq: " + std::to_string(r.seq) + "\r\n";
    const std::size_t fields = in.ConsumeIntegralInRange<std::size_t>(0, 4);
    for (std::size_t i = 0; i < fields; ++i)
        s.answer += pick_or_text(in, response_fields, 20) + ": " + value(in) + "\r\n";
    std::string body;
    // Mostly framed; unframed ends with the connection, which the upstream mostly closes
    // (kept open, tracegate waits for the route's timeout: slow, so now and then only).
    const auto how = one_in(in, 3) ? pick_framing(in) : one_in(in, 2) ? framing::chunked : framing::content_length;
    frame(in, how, s.answer, body, "\r\n");
    const bool unframed = how == framing::none;
    if (unframed) body = text(in, 256);
    s.answer += "\r\n" + body;
    // Bytes after the response, labelled for no request: at once, or a moment later (only
    // after the input's last request: sent while a next request is on its way, they would
    // be that request's answer in any proxy).
    const int extra = in.ConsumeIntegralInRange(0, 5);
    if (extra >= 4) {
        const std::string poison = "HTTP/1.1 200 OK\r\nx-fuzz-seq: " + std::to_string(next_seq++) +
                                   "\r\ncontent-length: 8\r\n\r\npoisoned";
        (extra == 5 && last ? s.late : s.answer) += poison;
    }
    s.then = one_in(in, 2) ? static_cast<after_answer>(in.ConsumeIntegralInRange(0, 2)) : after_answer::keep;
    if (unframed && s.then == after_answer::keep && !one_in(in, 4)) s.then = after_answer::close;
    s.before_body = one_in(in, 6);
}

planned_request request_for(FuzzedDataProvider& in, bool last, std::uint64_t& next_seq) {
    planned_request r;
    r.seq = next_seq++;
    const std::string method = one_in(in, 16) ? text(in, 12) : std::string(pick(in, methods));
    r.head = method == "HEAD";
    r.idempotent = std::find(idempotent_methods.begin(), idempotent_methods.end(), method) != idempotent_methods.end();
    const std::string target = one_in(in, 8)   ? "/" + text(in, 100)
                               : one_in(in, 3) ? std::string(pick(in, targets))
                                               : "/app/" + std::to_string(r.seq);
    const std::string version = one_in(in, 16) ? text(in, 12)
                                : one_in(in, 4) ? std::string(pick(in, versions))
                                                : std::string("HTTP/1.1");
    const std::string_view eol = one_in(in, 32) ? "\n" : "\r\n";
    r.exact = eol == "\r\n" && !has_line_break(method) && !has_line_break(target) && !has_line_break(version);

    std::vector<std::string> lines;
    if (!one_in(in, 16)) lines.push_back("Host: example.test");
    const std::size_t fields = in.ConsumeIntegralInRange<std::size_t>(0, 4);
    for (std::size_t i = 0; i < fields; ++i) {
        std::string name = pick_or_text(in, request_fields, 20);
        std::string v = value(in);
        if (is_framing_field(name) || has_line_break(name) || has_line_break(v)) r.exact = false;
        lines.push_back(std::move(name) + ": " + std::move(v));
    }
    lines.insert(lines.begin() + in.ConsumeIntegralInRange<std::size_t>(0, lines.size()),
                 "x-fuzz-seq: " + std::to_string(r.seq));

    std::string head = method + " " + target + " " + version + std::string(eol);
    for (const auto& line : lines) head += line + std::string(eol);
    std::string body;
    const auto how = pick_framing(in);
    if (how == framing::raw) r.exact = false;
    frame(in, how, head, body, eol);
    const std::string bytes = head + std::string(eol) + body;

    // Written in up to three pieces, so tracegate sees partial heads and bodies.
    std::size_t at = 0;
    for (int i = 0; i < 2 && at < bytes.size(); ++i) {
        const std::size_t cut = in.ConsumeIntegralInRange<std::size_t>(at, bytes.size());
        if (cut > at) r.pieces.push_back(bytes.substr(at, cut - at));
        at = cut;
    }
    if (at < bytes.size()) r.pieces.push_back(bytes.substr(at));
    plan_answer(in, r, last, next_seq);
    return r;
}

}  // namespace

exchange_input read_exchange_input(const std::uint8_t* data, std::size_t size, std::uint64_t& next_seq) {
    FuzzedDataProvider in(data, size);
    exchange_input out;
    out.pipelined = in.ConsumeBool();
    out.half_close = one_in(in, 4);
    const std::size_t requests = in.ConsumeIntegralInRange<std::size_t>(1, 3);
    for (std::size_t i = 0; i < requests; ++i) out.requests.push_back(request_for(in, i + 1 == requests, next_seq));
    return out;
}

}  // namespace tracegate::fuzz
