// Forwarding, keep-alive on both sides, the upstream pool and its retry rule, and the
// header rewriting a reverse proxy owes its upstream (RFC 9110 §7.6.1, X-Forwarded-*).
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {
namespace {

class proxy_basics : public ::testing::Test {
protected:
    void SetUp() override {
        proxy_ = start_proxy(single_upstream_config(up_.address()));
        ASSERT_TRUE(proxy_);
    }
    std::uint16_t port() const { return proxy_->port("main"); }

    upstream_server up_{"app"};
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(proxy_basics, get_is_forwarded_and_the_upstream_response_returned) {
    http_client client(port(), io_timeout);
    ASSERT_TRUE(client.connected()) << client.connect_error().message();
    const auto r = client.get("/hello?name=world");
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, "ok /hello\n");
    EXPECT_EQ(r.header("x-upstream-name"), "app");
    ASSERT_TRUE(up_.wait_for_requests(1, io_timeout));
    const auto seen = up_.requests().at(0);
    EXPECT_EQ(seen.method, "GET");
    EXPECT_EQ(seen.target, "/hello?name=world");
}

TEST_F(proxy_basics, post_body_reaches_the_upstream_intact) {
    http_client client(port(), io_timeout);
    const std::string body = "the quick brown fox";
    const auto r = client.post("/sink", body);
    ASSERT_EQ(r.status, 200u) << r.describe();
    body_digest expected;
    expected.update(body.data(), body.size());
    EXPECT_EQ(r.body, expected.to_string() + "\n");
}

TEST_F(proxy_basics, sequential_requests_share_one_client_and_one_upstream_connection) {
    http_client client(port(), io_timeout);
    constexpr int count = 20;
    for (int i = 0; i < count; ++i) {
        const auto path = "/seq/" + std::to_string(i);
        const auto r = client.get(path);
        ASSERT_EQ(r.status, 200u) << "request " << i << ": " << r.describe();
        ASSERT_EQ(r.body, "ok " + path + "\n");
        ASSERT_TRUE(client.connected()) << "the proxy closed the client connection after request " << i;
    }
    const auto seen = up_.requests();
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) EXPECT_EQ(seen[i].target, "/seq/" + std::to_string(i));
    // Pooled: a fresh upstream connection per request would make this 20. A second one is
    // tolerated for a connection not yet back in the pool when the next request arrives.
    EXPECT_LE(up_.connections_accepted(), 2u);
}

TEST_F(proxy_basics, upstream_connections_are_pooled_across_client_connections) {
    constexpr int count = 12;
    for (int i = 0; i < count; ++i) {
        http_client client(port(), io_timeout);
        const auto r = client.get("/conn/" + std::to_string(i));
        ASSERT_EQ(r.status, 200u) << "client connection " << i << ": " << r.describe();
    }
    // A relay would open one upstream connection per client connection. The pool is
    // per worker (two here); allow a few more for a connection not yet back in the pool.
    EXPECT_LE(up_.connections_accepted(), 4u)
        << count << " client connections opened " << up_.connections_accepted() << " upstream connections";
}

TEST_F(proxy_basics, pipelined_requests_are_answered_in_order) {
    raw_client raw(port());
    ASSERT_TRUE(raw.connected());
    // The first is the slowest: answering in completion order would put it last.
    ASSERT_TRUE(raw.send("GET /delay/300 HTTP/1.1\r\nHost: a\r\n\r\n"
                         "GET /second HTTP/1.1\r\nHost: a\r\n\r\n"
                         "GET /third HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 3u) << raw.received();
    EXPECT_EQ(responses[0].body, "ok /delay/300\n");
    EXPECT_EQ(responses[1].body, "ok /second\n");
    EXPECT_EQ(responses[2].body, "ok /third\n");
}

TEST_F(proxy_basics, get_on_a_pooled_connection_the_upstream_closed_is_retried_once) {
    http_client client(port(), io_timeout);
    ASSERT_EQ(client.get("/die-on-next").status, 200u);
    // The pooled connection now dies on its next request, like an upstream idle timeout
    // racing with reuse. A GET is idempotent: the proxy retries on a fresh connection.
    const auto r = client.get("/after");
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, "ok /after\n");
    EXPECT_EQ(up_.dropped_requests(), 1u) << "the proxy did not reuse the pooled connection";
    EXPECT_GE(up_.connections_accepted(), 2u);
}

TEST_F(proxy_basics, post_on_a_pooled_connection_the_upstream_closed_is_not_retried) {
    http_client client(port(), io_timeout);
    ASSERT_EQ(client.get("/die-on-next").status, 200u);
    const auto r = client.post("/submit", "order=1");
    EXPECT_EQ(r.status, 502u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "upstream_reset") << r.describe();
    EXPECT_EQ(up_.dropped_requests(), 1u) << "the proxy did not reuse the pooled connection";
    for (const auto& seen : up_.requests())
        EXPECT_NE(seen.target, "/submit") << "a non-idempotent request was sent twice";
}

TEST_F(proxy_basics, hop_by_hop_headers_are_not_forwarded) {
    http_client client(port(), io_timeout);
    const auto r = client.get("/hop", {{"Connection", "keep-alive, X-Custom"},
                                       {"X-Custom", "1"},
                                       {"Keep-Alive", "timeout=5"},
                                       {"Proxy-Connection", "keep-alive"},
                                       {"TE", "trailers"},
                                       {"Trailer", "X-Checksum"},
                                       {"X-End-To-End", "kept"}});
    ASSERT_EQ(r.status, 200u) << r.describe();
    ASSERT_TRUE(up_.wait_for_requests(1, io_timeout));
    const auto seen = up_.requests().at(0);
    for (const char* name : {"X-Custom", "Keep-Alive", "Proxy-Connection", "TE", "Trailer"})
        EXPECT_FALSE(seen.has_header(name)) << name << " reached the upstream: " << *seen.header(name);
    if (auto connection = seen.header("Connection")) {
        EXPECT_EQ(connection->find("X-Custom"), std::string::npos)
            << "the client's Connection header was forwarded: " << *connection;
    }
    EXPECT_EQ(seen.header("X-End-To-End"), "kept");
}

TEST_F(proxy_basics, x_forwarded_headers_are_added_and_host_is_kept) {
    http_client client(port(), io_timeout);
    const auto r = client.get("/fwd", {{"Host", "shop.example.test"}, {"X-Forwarded-For", "10.0.0.1"}});
    ASSERT_EQ(r.status, 200u) << r.describe();
    ASSERT_TRUE(up_.wait_for_requests(1, io_timeout));
    const auto seen = up_.requests().at(0);
    EXPECT_EQ(seen.header("Host"), "shop.example.test");
    EXPECT_EQ(count_header(seen.headers, "X-Forwarded-For"), 1u);
    EXPECT_EQ(seen.header("X-Forwarded-For"), "10.0.0.1, 127.0.0.1");
    EXPECT_EQ(seen.header("X-Forwarded-Proto"), "http");
    EXPECT_EQ(seen.header("X-Forwarded-Host"), "shop.example.test");
}

TEST_F(proxy_basics, x_forwarded_for_starts_with_the_client_address) {
    http_client client(port(), io_timeout);
    ASSERT_EQ(client.get("/fwd").status, 200u);
    ASSERT_TRUE(up_.wait_for_requests(1, io_timeout));
    EXPECT_EQ(up_.requests().at(0).header("X-Forwarded-For"), "127.0.0.1");
}

TEST_F(proxy_basics, head_response_has_no_body_and_the_connection_stays_usable) {
    http_client client(port(), io_timeout);
    const auto h = client.head("/bytes/5000");
    ASSERT_EQ(h.status, 200u) << h.describe();
    EXPECT_EQ(h.header("content-length"), "5000");
    // A proxy that relayed 5000 body bytes after the HEAD header would corrupt the next
    // response on this connection.
    const auto next = client.get("/after-head");
    EXPECT_EQ(next.status, 200u) << next.describe();
    EXPECT_EQ(next.body, "ok /after-head\n");
}

TEST_F(proxy_basics, no_content_and_not_modified_carry_no_body) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET /status/204 HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(raw.read_until("\r\n\r\n", io_timeout)) << raw.received();
    ASSERT_TRUE(raw.send("GET /status/304 HTTP/1.1\r\nHost: a\r\n\r\n"
                         "GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 3u) << raw.received();
    EXPECT_EQ(responses[0].status, 204u);
    EXPECT_EQ(responses[1].status, 304u);
    for (int i : {0, 1}) {
        EXPECT_TRUE(responses[i].body.empty());
        EXPECT_FALSE(responses[i].has_header("Transfer-Encoding")) << raw.received();
    }
    EXPECT_EQ(responses[2].status, 200u);
    EXPECT_EQ(responses[2].body, "ok /after\n");
}

TEST_F(proxy_basics, client_connection_close_makes_the_proxy_close_after_the_response) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << "still open after: " << raw.received();
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 1u) << raw.received();
    EXPECT_EQ(responses[0].body, "ok /bye\n");
}

}  // namespace
}  // namespace tracegate::test
