// The test upstream and clients on their own, without tracegate: when a proxy test fails,
// these passing shows the fault is in the proxy, not in the test's parts.
#include "tests/support/http_client.hpp"
#include "tests/support/payload.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/upstream_server.hpp"
#include "tests/support/websocket_client.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {
namespace {

TEST(upstream_server, answers_any_path_and_records_the_request) {
    upstream_server up("solo");
    http_client client(up.port());
    ASSERT_TRUE(client.connected()) << client.connect_error().message();
    const auto r = client.get("/hello?x=1", {{"X-Test", "a"}, {"X-Test", "b"}});
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, "ok /hello\n");
    EXPECT_EQ(r.header("x-upstream-name"), "solo");
    ASSERT_TRUE(up.wait_for_requests(1, io_timeout));
    const auto seen = up.requests().at(0);
    EXPECT_EQ(seen.method, "GET");
    EXPECT_EQ(seen.target, "/hello?x=1");
    EXPECT_EQ(count_header(seen.headers, "x-test"), 2u);
    EXPECT_EQ(seen.connection_id, 1u);
}

TEST(upstream_server, keeps_one_connection_for_sequential_requests) {
    upstream_server up;
    http_client client(up.port());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(client.get("/k").status, 200u);
    EXPECT_EQ(up.connections_accepted(), 1u);
}

TEST(upstream_server, sink_digests_both_framings_and_bytes_match_the_pattern) {
    upstream_server up;
    http_client client(up.port());
    constexpr std::uint64_t n = 3 * pattern_chunk + 17;
    for (auto how : {framing::content_length, framing::chunked}) {
        const auto r = client.upload("/sink", n, how);
        ASSERT_EQ(r.status, 200u) << r.describe();
        EXPECT_EQ(r.body, pattern_digest(n).to_string() + "\n");
    }
    for (const char* target : {"/bytes/200017", "/bytes/200017?chunked=1"}) {
        const auto d = client.download(target);
        ASSERT_FALSE(d.error) << d.describe();
        EXPECT_EQ(d.digest, pattern_digest(200017)) << target;
        EXPECT_TRUE(d.matches_pattern);
    }
}

TEST(upstream_server, head_and_no_content_leave_the_connection_usable) {
    upstream_server up;
    http_client client(up.port());
    const auto h = client.head("/bytes/1000");
    EXPECT_EQ(h.status, 200u);
    EXPECT_EQ(h.header("content-length"), "1000");
    EXPECT_TRUE(h.body.empty());
    EXPECT_EQ(client.get("/status/204").status, 204u);
    EXPECT_EQ(client.get("/status/304").status, 304u);
    EXPECT_EQ(client.get("/after").body, "ok /after\n");
}

TEST(upstream_server, die_on_next_drops_the_following_request_on_that_connection) {
    upstream_server up;
    http_client client(up.port());
    ASSERT_EQ(client.get("/die-on-next").status, 200u);
    const auto r = client.get("/second");
    EXPECT_TRUE(r.error) << r.describe();
    EXPECT_EQ(up.dropped_requests(), 1u);
    EXPECT_EQ(up.request_count(), 1u);
}

TEST(upstream_server, close_after_headers_sends_a_truncated_body_then_closes) {
    upstream_server up;
    raw_client raw(up.port());
    ASSERT_TRUE(raw.send("GET /close-after-headers HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout));
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 200u);
    EXPECT_FALSE(responses[0].complete);
}

TEST(upstream_server, expect_continue_is_answered_before_the_body) {
    upstream_server up;
    raw_client raw(up.port());
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                         "Expect: 100-continue\r\n\r\n"));
    ASSERT_TRUE(raw.read_until("\r\n\r\n", io_timeout));
    EXPECT_EQ(raw.status(), 100u);
    ASSERT_TRUE(raw.send("hello"));
    ASSERT_TRUE(raw.read_until("fnv1a=", io_timeout));
}

TEST(upstream_server, websocket_echo_returns_text_and_binary) {
    upstream_server up;
    websocket_client ws(up.port());
    ASSERT_TRUE(ws.open()) << ws.error().message();
    ASSERT_TRUE(ws.send_text("hi"));
    const auto m = ws.receive();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->text);
    EXPECT_EQ(m->data, "hi");
    EXPECT_TRUE(ws.close());
}

TEST(upstream_server, stop_refuses_new_connections) {
    upstream_server up;
    const auto port = up.port();
    up.stop();
    raw_client raw(port, std::chrono::milliseconds(2000));
    EXPECT_FALSE(raw.connected());
}

TEST(refused_port, refuses_connections) {
    refused_port closed;
    raw_client raw(closed.port(), std::chrono::milliseconds(2000));
    EXPECT_FALSE(raw.connected());
    EXPECT_EQ(raw.error(), boost::asio::error::connection_refused);
}

}  // namespace
}  // namespace tracegate::test
