// What a hostile or broken peer must not be able to do to the proxy: grow its memory,
// smuggle a second request, hold a tunnel forever, or switch a pooled connection's protocol.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/scripted_upstream.hpp"
#include "tests/support/upstream_server.hpp"
#include "tests/support/websocket_client.hpp"

#include <boost/asio.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <thread>

namespace tracegate::test {
namespace {

using namespace std::chrono_literals;

class hardening : public proxied_upstream_test {};

TEST_F(hardening, endless_chunk_extension_is_refused_without_growing_memory) {
    start();
    const auto before = proxy_->peak_rss_kib();
    ASSERT_TRUE(before);
    raw_client raw(port());
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;x="));
    // 16 MiB of one chunk extension that never ends: the proxy must stop reading it.
    const std::string piece(1 << 20, 'a');
    for (int i = 0; i < 16; ++i)
        if (!raw.send(piece)) break;  // the proxy closed on us: fine
    raw.read_until_closed(io_timeout);
    EXPECT_TRUE(raw.closed_by_peer());
    const auto after = proxy_->peak_rss_kib();
    ASSERT_TRUE(after);
    EXPECT_LT(*after - *before, 8u * 1024) << "peak RSS grew from " << *before << " to " << *after;
}

TEST_F(hardening, field_value_beyond_64_kib_gets_431_even_when_the_header_limit_allows_it) {
    start("limits:\n  max_header_bytes: 300000\n");
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(70000, 'b') +
                         "\r\n\r\n"));
    ASSERT_TRUE(raw.read_response(io_timeout)) << raw.received();
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 431u) << responses[0].describe();
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(hardening, http10_request_with_transfer_encoding_is_the_last_on_its_connection) {
    start();
    raw_client raw(port());
    // A pipelined second request after a chunked HTTP/1.0 one must not be forwarded.
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                         "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    EXPECT_EQ(raw.responses().size(), 1u) << raw.received();
    for (const auto& r : up_.requests()) EXPECT_NE(r.target, "/smuggled");
}

TEST_F(hardening, equal_repeated_content_lengths_reach_the_upstream_as_one) {
    start();
    raw_client raw(port());
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n"
                         "Connection: close\r\n\r\nabc"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    ASSERT_EQ(up_.request_count(), 1u);
    const auto request = up_.requests().at(0);
    EXPECT_EQ(count_header(request.headers, "content-length"), 1u);
    EXPECT_EQ(find_header(request.headers, "content-length"), "3");
}

TEST_F(hardening, dot_segments_cannot_climb_out_of_a_prefix_route) {
    start("routes:\n  - name: public\n    match: {path_prefix: /public/}\n    upstream: app\n");
    http_client client(port(), io_timeout);
    const auto escaped = client.get("/public/../admin?x=1");
    EXPECT_EQ(escaped.status, 404u) << escaped.describe();
    EXPECT_EQ(escaped.header("x-tracegate-error"), "no_route");
    const auto inside = client.get("/public/./a/../b?x=1");
    EXPECT_EQ(inside.status, 200u) << inside.describe();
    ASSERT_EQ(up_.request_count(), 1u);
    EXPECT_EQ(up_.requests().at(0).target, "/public/b?x=1") << "the upstream gets the path routed on";
}

TEST(hardening_upstream, unrequested_101_from_the_upstream_is_a_502) {
    scripted_upstream upstream(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: upgrade\r\n\r\n");
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    const auto r = client.get("/plain");
    EXPECT_EQ(r.status, 502u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "bad_upstream_response");
}

TEST_F(hardening, idle_tunnel_is_closed_after_idle_timeout) {
    start("limits:\n  idle_timeout: 1s\n");
    websocket_client ws(port(), "/ws", 20s);
    ASSERT_TRUE(ws.open()) << ws.error().message();
    ASSERT_TRUE(ws.send_text("ping"));
    ASSERT_TRUE(ws.receive());
    // Nothing moves now: the proxy must close both sides, so receive() ends with an error.
    const auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(ws.receive()) << "the tunnel stayed open";
    EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);
}

TEST(hardening_upstream, early_answer_to_an_upload_reaches_the_client_instead_of_a_502) {
    scripted_upstream upstream("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n"
                               "Connection: close\r\n\r\ntoo large",
                               true);
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    const auto r = client.upload("/upload", 64ull << 20, framing::content_length);
    EXPECT_EQ(r.status, 413u) << r.describe();
    EXPECT_FALSE(r.has_header("x-tracegate-error")) << "the upstream's own answer, not the proxy's";
}

TEST(hardening_upstream, a_malformed_chunk_read_with_the_response_header_is_a_502) {
    // Header and broken body arrive in one segment: nothing has gone to the client when
    // the chunk fails to parse, so it gets a clean 502 rather than a cut-off 200.
    scripted_upstream upstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "zz\r\nhello\r\n0\r\n\r\n");
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    const auto r = client.get("/plain");
    EXPECT_EQ(r.status, 502u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "bad_upstream_response");
}

TEST(hardening_upstream, status_line_reason_and_repeated_fields_reach_the_client_as_sent) {
    scripted_upstream upstream("HTTP/1.1 299 Fine Thanks\r\nSet-Cookie: a=1\r\n"
                               "X-Odd:  padded value\r\nSet-Cookie: b=2\r\n"
                               "Content-Length: 5\r\n\r\nhello");
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    raw_client raw(proxy->port("main"));
    ASSERT_TRUE(raw.send("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    const auto& bytes = raw.received();
    EXPECT_EQ(bytes.rfind("HTTP/1.1 299 Fine Thanks\r\n", 0), 0u) << bytes;
    const auto a = bytes.find("Set-Cookie: a=1\r\n");
    const auto b = bytes.find("Set-Cookie: b=2\r\n");
    ASSERT_NE(a, std::string::npos) << bytes;
    ASSERT_NE(b, std::string::npos) << bytes;
    EXPECT_LT(a, b) << "repeated fields keep their order: " << bytes;
    EXPECT_NE(bytes.find("X-Odd: padded value\r\n"), std::string::npos) << bytes;
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 1u) << bytes;
    EXPECT_TRUE(responses[0].complete) << bytes;
    EXPECT_EQ(responses[0].body, "hello");
}

TEST(hardening_upstream, response_content_coding_in_transfer_encoding_is_kept) {
    scripted_upstream upstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                               "5\r\nhello\r\n0\r\n\r\n");
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    const auto r = client.get("/coded");
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("transfer-encoding"), "gzip, chunked")
        << "dropping gzip would hand the client coded bytes labelled as plain";
    EXPECT_EQ(r.body, "hello");
}

}  // namespace
}  // namespace tracegate::test
