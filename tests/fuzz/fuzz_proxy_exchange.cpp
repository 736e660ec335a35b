// The whole request path under fuzzed peers: a real tracegate (proxy::server with one
// worker, the in-memory trace store and its admin server) runs in this process between a
// client and an upstream that the input scripts, over loopback sockets. The input is read
// as a structure (fuzz_exchange_input.hpp): requests built from methods, targets, header
// names and framings tracegate must handle, with fuzzed values and raw bytes among them,
// and for each request the upstream's answer (interim responses, status, framing, bytes
// after the response, closing or resetting the connection, answering before the body).
//
// Checked after every input, as tests/integration/random_input_test.cpp checks them from
// outside:
// - every response the client gets is to one of its own requests, in order (each
//   request carries x-fuzz-seq, the upstream echoes it; the bytes an upstream sends after
//   a response carry a label no request has);
// - a request refused for its head (431, 405, 417, 505, 408 header_timeout) never
//   reached the upstream;
// - a non-idempotent request reached the upstream at most once;
// - afterwards a plain request on a new connection is answered 200 with its own body;
// - no exception was contained (tracegate_internal_errors_total stays 0): each is a bug;
// - and the process never stops, which libFuzzer and the sanitizers see for themselves.
#include "config/loader.hpp"
#include "proxy/log.hpp"
#include "proxy/server.hpp"
#include "tests/fuzz/exchange_input.hpp"
#include "tests/fuzz/exchange_peers.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace tracegate::fuzz;

struct harness {
    scripted_upstream upstream;
    std::uint16_t port = 0;
    std::uint16_t admin_port = 0;
    std::unique_ptr<tracegate::proxy::server> server;
    std::thread thread;
    std::uint64_t next_seq = 1;
};

/// Short limits, so an input that leaves tracegate waiting costs about a second.
std::string config_for(const harness& h) {
    return "service_name: fuzz\nworkers: 1\n"
           "listeners:\n  - name: public\n    address: 127.0.0.1:" + std::to_string(h.port) + "\n"
           "    upgrades: [websocket]\n"
           "upstreams:\n  - name: app\n    endpoints: [127.0.0.1:" + std::to_string(h.upstream.port()) + "]\n"
           "    connect_timeout: 1s\n"
           "routes:\n  - name: all\n    upstream: app\n    timeout: 1s\n"
           "limits:\n  max_header_bytes: 8192\n  header_timeout: 1s\n  idle_timeout: 2s\n"
           "  body_timeout: 1s\n  max_body_bytes: 65536\n  drain_timeout: 1s\n"
           "admin:\n  address: 127.0.0.1:" + std::to_string(h.admin_port) + "\n";
}

/// GET `target` on a new connection to `port`; the whole response as the client sees it.
std::optional<client_response> get(std::uint16_t port, const std::string& target, std::string extra = {}) {
    const int fd = connect_loopback(port);
    if (fd < 0) return std::nullopt;
    const bool sent = write_all(fd, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n");
    std::string bytes;
    std::vector<client_response> got;
    const auto deadline = clock::now() + std::chrono::seconds(5);
    bool open = sent;
    while (open && got.empty() && clock::now() < deadline) {
        open = read_some(fd, bytes, deadline);
        got = parse_responses(bytes, !open, {false});
    }
    ::close(fd);
    if (got.empty()) return std::nullopt;
    return got.front();
}

harness& start() {
    static harness* h = [] {
        auto* made = new harness;  // lives as long as the process
        made->port = free_port();
        made->admin_port = free_port();
        tracegate::log::set_level(tracegate::log::level::error);
        auto loaded = tracegate::config::load_string(config_for(*made), "<fuzz>");
        if (!loaded) {
            for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
            std::abort();
        }
        made->server = std::make_unique<tracegate::proxy::server>(loaded.value, std::nullopt);
        made->thread = std::thread([made] { made->server->run(); });
        const auto deadline = clock::now() + std::chrono::seconds(30);
        while (!get(made->admin_port, "/ready") || !get(made->port, "/warm-up")) {
            TG_FUZZ_CHECK(clock::now() < deadline);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return made;
    }();
    return *h;
}

/// Sends the input's requests on one connection and reads what comes back.
std::vector<client_response> exchange(harness& h, const exchange_input& in) {
    const int fd = connect_loopback(h.port);
    if (fd < 0) std::fprintf(stderr, "connect to tracegate: %s\n", std::strerror(errno));
    TG_FUZZ_CHECK(fd >= 0);
    std::vector<bool> heads;
    for (const auto& r : in.requests) heads.push_back(r.head);
    std::string bytes;
    std::vector<client_response> got;
    bool open = true;
    const auto deadline = clock::now() + std::chrono::seconds(4);
    auto wait_for = [&](std::size_t responses) {
        while (open && got.size() < responses && clock::now() < deadline &&
               (got.empty() || got.back().status != 101)) {
            open = read_some(fd, bytes, deadline);
            got = parse_responses(bytes, !open, heads);
        }
    };
    for (std::size_t i = 0; i < in.requests.size() && open; ++i) {
        for (const auto& piece : in.requests[i].pieces)
            if (!write_all(fd, piece)) break;
        if (i + 1 == in.requests.size() && in.half_close) ::shutdown(fd, SHUT_WR);
        if (!in.pipelined) wait_for(i + 1);
    }
    wait_for(in.requests.size());
    ::close(fd);
    return got;
}

bool refused_for_its_head(const std::string& reason) {
    return reason == "header_too_large" || reason == "method_not_allowed" || reason == "expectation_failed" ||
           reason == "version_not_supported" || reason == "header_timeout";
}

void check_responses(harness& h, const exchange_input& in, const std::vector<client_response>& got) {
    std::size_t next_own = 0;  // responses answer requests in order
    bool aligned = true;       // response i is known to answer request i
    for (std::size_t i = 0; i < got.size(); ++i) {
        const auto& r = got[i];
        if (r.proxy_error) {
            if (aligned && i < in.requests.size() && in.requests[i].exact && refused_for_its_head(*r.proxy_error))
                TG_FUZZ_CHECK(h.upstream.received(in.requests[i].seq) == 0);
            aligned = false;
            continue;
        }
        if (!r.label) {
            // Only an answer whose status line was input text can lack its label.
            bool possible = false;
            for (const auto& q : in.requests) possible = possible || !q.answer_labelled;
            TG_FUZZ_CHECK(possible);
            aligned = false;
            continue;
        }
        if (*r.label == "unlabelled") {
            aligned = false;
            continue;
        }
        bool own = false;
        for (std::size_t k = next_own; k < in.requests.size() && !own; ++k) {
            if (*r.label != std::to_string(in.requests[k].seq)) continue;
            own = true;
            aligned = aligned && k == i;
            next_own = k + 1;
        }
        if (!own) std::fprintf(stderr, "response %zu carries label %s: not a request of this client\n", i,
                               r.label->c_str());
        TG_FUZZ_CHECK(own);
    }
    for (const auto& r : in.requests)
        TG_FUZZ_CHECK(h.upstream.received(r.seq) <= (r.idempotent ? 2 : 1));
}

/// A plain request after the input: 200 with its own body, over whatever the pool holds.
void check_plain_request_served(harness& h) {
    const std::uint64_t seq = h.next_seq++;
    const std::string body = "plain-" + std::to_string(seq);
    h.upstream.script(seq, {"HTTP/1.1 200 OK\r\nx-fuzz-seq: " + std::to_string(seq) +
                                "\r\ncontent-length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
                            after_answer::keep, false});
    const auto r = get(h.port, "/plain", "x-fuzz-seq: " + std::to_string(seq) + "\r\n");
    if (!r || r->status != 200 || r->body != body)
        std::fprintf(stderr, "plain request after the input: status %u body \"%s\"\n", r ? r->status : 0,
                     r ? r->body.c_str() : "");
    TG_FUZZ_CHECK(r && r->status == 200 && r->body == body);
}

/// tracegate_internal_errors_total, summed over its sites, from the admin server.
void check_nothing_contained(harness& h) {
    const auto r = get(h.admin_port, "/metrics");
    TG_FUZZ_CHECK(r && r->status == 200);
    std::size_t at = 0;
    const std::string name = "tracegate_internal_errors_total{";
    while ((at = r->body.find(name, at)) != std::string::npos) {
        const std::size_t line_end = r->body.find('\n', at);
        const std::string line = r->body.substr(at, line_end - at);
        if (!line.ends_with(" 0")) std::fprintf(stderr, "contained exception: %s\n", line.c_str());
        TG_FUZZ_CHECK(line.ends_with(" 0"));
        at = line_end;
    }
}

/// FUZZ_EXCHANGE_VERBOSE=1: each input's requests, answers and responses on stderr, to
/// read what a saved input does (`fuzz_proxy_exchange FILE`).
void describe(const exchange_input& in, const std::vector<client_response>& got) {
    static const bool verbose = std::getenv("FUZZ_EXCHANGE_VERBOSE") != nullptr;
    if (!verbose) return;
    auto printable = [](const std::string& bytes) {
        std::string out;
        for (const char c : bytes.substr(0, 600))
            out += c == '\r' ? std::string("\\r") : c == '\n' ? std::string("\\n\n    ") : std::string(1, c);
        return out;
    };
    std::fprintf(stderr, "---- input: %zu request(s), %s%s\n", in.requests.size(),
                 in.pipelined ? "pipelined" : "one by one", in.half_close ? ", half-closed" : "");
    for (const auto& r : in.requests) {
        std::string bytes;
        for (const auto& piece : r.pieces) bytes += piece;
        std::fprintf(stderr, "  request %llu (%s):\n    %s\n  answer (%s%s):\n    %s\n  late: %s\n",
                     static_cast<unsigned long long>(r.seq), r.exact ? "exact" : "inexact", printable(bytes).c_str(),
                     r.answer.then == after_answer::keep ? "keep" : r.answer.then == after_answer::close ? "close" : "reset",
                     r.answer.before_body ? ", before the body" : "", printable(r.answer.answer).c_str(),
                     printable(r.answer.late).c_str());
    }
    for (const auto& r : got)
        std::fprintf(stderr, "  response %u label %s error %s body %zu bytes\n", r.status,
                     r.label ? r.label->c_str() : "-", r.proxy_error ? r.proxy_error->c_str() : "-", r.body.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    harness& h = start();
    const std::uint64_t first = h.next_seq;
    const exchange_input in = read_exchange_input(data, size, h.next_seq);
    for (const auto& r : in.requests) h.upstream.script(r.seq, r.answer);
    const auto got = exchange(h, in);
    describe(in, got);
    check_responses(h, in, got);
    TG_FUZZ_CHECK(h.upstream.wait_for_late_writes(clock::now() + std::chrono::seconds(10)));

    check_plain_request_served(h);
    check_nothing_contained(h);
    h.upstream.forget_before(first);
    return 0;
}
