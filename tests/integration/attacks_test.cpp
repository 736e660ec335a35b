// What one hostile client or one broken upstream could do to every other user of the
// proxy (issue 13's findings, each tried as an attacker would): stop the process, hand a
// client another client's response, or reach a path a route does not allow.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/scripted_upstream.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

namespace tracegate::test {
namespace {

using namespace std::chrono_literals;

/// The proxy still answers a plain request on a new connection.
void expect_still_serving(tracegate_process& proxy, std::string_view target = "/still-there") {
    ASSERT_TRUE(proxy.running()) << "the process is gone";
    http_client client(proxy.port("main"), io_timeout);
    const auto r = client.get(target);
    EXPECT_EQ(r.status, 200u) << r.describe();
}

class attacks : public proxied_upstream_test {};

TEST_F(attacks, a_request_trailer_field_of_100_kb_is_refused_and_the_proxy_serves_on) {
    start();
    raw_client raw(port());
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n0\r\nX: " + std::string(100000, 't') + "\r\n\r\n"));
    raw.read_until_closed(io_timeout);
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 1u) << raw.received().substr(0, 300);
    EXPECT_EQ(responses[0].status, 431u) << responses[0].describe();
    EXPECT_EQ(responses[0].header("x-tracegate-error"), "trailer_too_large");
    expect_still_serving(*proxy_);
}

TEST_F(attacks, a_trailer_over_max_header_bytes_in_small_fields_is_refused) {
    start("limits:\n  max_header_bytes: 4096\n");
    std::string trailer;
    for (int i = 0; i < 200; ++i) trailer += "X-" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
    raw_client raw(port());
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n0\r\n" + trailer + "\r\n"));
    raw.read_until_closed(io_timeout);
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 1u) << raw.received().substr(0, 300);
    EXPECT_EQ(responses[0].status, 431u) << responses[0].describe();
    expect_still_serving(*proxy_);
}

TEST_F(attacks, a_path_of_40000_characters_on_a_regex_route_is_answered_and_the_proxy_serves_on) {
    start("routes:\n"
          "  - name: users\n    match: {path_regex: \"^/users/[0-9]+$\"}\n    upstream: app\n"
          "  - name: rest\n    match: {path_prefix: /}\n    upstream: app\n");
    http_client client(port(), io_timeout);
    const auto long_digits = client.get("/users/" + std::string(40000, '7'));
    EXPECT_EQ(long_digits.status, 200u) << long_digits.describe();
    http_client other(port(), io_timeout);
    const auto long_letters = other.get("/" + std::string(40000, 'a'));
    EXPECT_EQ(long_letters.status, 200u) << long_letters.describe();
    expect_still_serving(*proxy_);
}

TEST_F(attacks, percent_encoded_dot_segments_cannot_climb_out_of_a_prefix_route) {
    start("routes:\n  - name: public\n    match: {path_prefix: /public/}\n    upstream: app\n");
    {
        // %2E is "." (RFC 3986 6.2.2.2): resolved like "..", so no route matches "/secret".
        http_client client(port(), io_timeout);
        for (const char* target : {"/public/%2e%2e/secret", "/public/%2E%2E/secret", "/public/.%2e/secret"}) {
            const auto r = client.get(target);
            EXPECT_EQ(r.status, 404u) << target << ": " << r.describe();
            EXPECT_EQ(r.header("x-tracegate-error"), "no_route") << target;
        }
    }
    // Dot segments only a lenient upstream sees: refused outright.
    for (const char* target : {"/public/%2E%2E%2Fsecret", "/public/..%2fsecret", "/public/..\\secret",
                               "/public/..;/secret", "/public/%2e%2e%5csecret"}) {
        raw_client raw(port());
        ASSERT_TRUE(raw.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: a\r\n\r\n"));
        ASSERT_TRUE(raw.read_response(io_timeout)) << target << ": " << raw.received();
        const auto responses = raw.responses();
        ASSERT_FALSE(responses.empty()) << target;
        EXPECT_EQ(responses[0].status, 400u) << target << ": " << responses[0].describe();
    }
    EXPECT_EQ(up_.request_count(), 0u) << "forwarded: " << up_.requests().at(0).target;
    // A dot that is no segment stays as the client wrote it.
    http_client client(port(), io_timeout);
    const auto plain = client.get("/public/a%2Etxt");
    EXPECT_EQ(plain.status, 200u) << plain.describe();
    ASSERT_EQ(up_.request_count(), 1u);
    EXPECT_EQ(up_.requests().at(0).target, "/public/a%2Etxt");
}

TEST(attacks_upstream, bytes_an_upstream_sends_after_its_response_never_reach_the_next_client) {
    // Answers every request on a connection, then 50 ms later writes a second, unasked
    // response: a broken app, or one that read a chunked body as a next request.
    std::atomic<int> poisoned{0};
    scripted_upstream upstream([&](scripted_upstream::socket& s) {
        while (!scripted_upstream::read_head(s).empty()) {
            if (!scripted_upstream::write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) return;
            std::this_thread::sleep_for(50ms);  // the upstream's own timing, not a wait for readiness
            if (!scripted_upstream::write(s, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nPOISONED")) return;
            ++poisoned;
        }
    });
    // One worker, so every request shares one upstream pool.
    auto proxy = start_proxy(single_upstream_config(upstream.address(), "", 1));
    ASSERT_TRUE(proxy);
    for (int i = 0; i < 5; ++i) {
        http_client client(proxy->port("main"), io_timeout);  // another client each time
        const auto r = client.get("/client-" + std::to_string(i));
        EXPECT_EQ(r.status, 200u) << "client " << i << ": " << r.describe();
        EXPECT_EQ(r.body, "ok") << "client " << i << " got another request's response";
        // The stray bytes are on the pooled connection before the next client asks.
        const auto deadline = std::chrono::steady_clock::now() + io_timeout;
        while (poisoned.load() <= i && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        ASSERT_GT(poisoned.load(), i);
    }
}

TEST(attacks_upstream, a_response_trailer_field_over_64_kib_ends_that_response_only) {
    scripted_upstream upstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: " +
                               std::string(70000, 't') + "\r\n\r\n");
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    raw_client raw(proxy->port("main"));
    ASSERT_TRUE(raw.send("GET /trailer HTTP/1.1\r\nHost: a\r\n\r\n"));
    raw.read_until_closed(io_timeout);
    EXPECT_TRUE(raw.closed_by_peer());
    ASSERT_TRUE(proxy->running()) << "the process is gone";
    EXPECT_TRUE(proxy->wait_for_log("upstream app .*(response body|header)", io_timeout)) << proxy->log();
}

TEST(attacks_upstream, a_response_header_field_over_64_kib_is_a_502_and_the_proxy_serves_on) {
    scripted_upstream upstream("HTTP/1.1 200 OK\r\nX-Big: " + std::string(70000, 'b') +
                               "\r\nContent-Length: 2\r\n\r\nok");
    auto proxy = start_proxy(single_upstream_config(upstream.address(), "limits:\n  max_header_bytes: 300000\n"));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    const auto r = client.get("/big");
    EXPECT_EQ(r.status, 502u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "bad_upstream_response");
    http_client again(proxy->port("main"), io_timeout);
    EXPECT_EQ(again.get("/again").status, 502u) << "still serving";
}

TEST(attacks_upstream, transfer_encoding_beside_content_length_is_never_passed_on) {
    for (const char* head : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n"}) {
        scripted_upstream upstream(std::string(head) + "hello");
        auto proxy = start_proxy(single_upstream_config(upstream.address()));
        ASSERT_TRUE(proxy);
        http_client client(proxy->port("main"), io_timeout);
        const auto r = client.get("/both");
        EXPECT_EQ(r.status, 502u) << head << r.describe();
        EXPECT_EQ(r.header("x-tracegate-error"), "bad_upstream_response") << head;
    }
}

TEST(attacks_upstream, a_status_below_100_is_a_502_not_a_final_response) {
    scripted_upstream upstream("HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok");
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    const auto r = client.get("/odd");
    EXPECT_EQ(r.status, 502u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "bad_upstream_response");
}

TEST(attacks_upstream, content_length_on_a_204_does_not_reach_the_client) {
    scripted_upstream upstream("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    raw_client raw(proxy->port("main"));
    ASSERT_TRUE(raw.send("GET /none HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    EXPECT_EQ(raw.received().rfind("HTTP/1.1 204 ", 0), 0u) << raw.received();
    EXPECT_EQ(raw.received().find("Content-Length"), std::string::npos) << raw.received();
}

TEST_F(attacks, a_bare_lf_request_gets_400_at_once_not_at_header_timeout) {
    start("limits:\n  header_timeout: 60s\n");
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET / HTTP/1.1\nHost: a\n\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << "still waiting: " << raw.received();
    ASSERT_EQ(raw.responses().size(), 1u) << raw.received();
    EXPECT_EQ(raw.responses()[0].status, 400u);
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(attacks, connect_gets_405_as_documented) {
    start();
    raw_client raw(port());
    ASSERT_TRUE(raw.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    ASSERT_EQ(raw.responses().size(), 1u) << raw.received();
    EXPECT_EQ(raw.responses()[0].status, 405u) << raw.received();
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(attacks, a_host_with_markup_or_quote_characters_gets_400) {
    start();
    for (const char* host : {"a<b", "a>b", "a\"b", "a'b", "a=b", "<script>"}) {
        raw_client raw(port());
        ASSERT_TRUE(raw.send(std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n"));
        ASSERT_TRUE(raw.read_until_closed(io_timeout)) << host << ": " << raw.received();
        ASSERT_FALSE(raw.responses().empty()) << host;
        EXPECT_EQ(raw.responses()[0].status, 400u) << host;
    }
    EXPECT_EQ(up_.request_count(), 0u);
    http_client client(port(), io_timeout);
    EXPECT_EQ(client.get("/", {{"Host", "shop-1.example.com:8080"}}).status, 200u);
    EXPECT_EQ(client.get("/", {{"Host", "[::1]:8080"}}).status, 200u);
}

TEST_F(attacks, connection_cannot_strip_the_request_id_the_proxy_generated) {
    start();
    http_client client(port(), io_timeout);
    const auto r = client.get("/", {{"Connection", "x-request-id"}});
    EXPECT_EQ(r.status, 200u) << r.describe();
    ASSERT_EQ(up_.request_count(), 1u);
    const auto id = find_header(up_.requests().at(0).headers, "x-request-id");
    ASSERT_TRUE(id) << "the upstream got no request id";
    EXPECT_EQ(r.header("x-request-id"), id);
}

}  // namespace
}  // namespace tracegate::test

namespace tracegate::test {
namespace {

TEST_F(attacks, an_upgrade_the_listener_does_not_allow_goes_upstream_as_a_plain_request) {
    start();  // upgrades: [websocket] by default
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET /plain HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                         "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"));
    ASSERT_TRUE(raw.read_response(io_timeout)) << raw.received();
    ASSERT_EQ(raw.responses().size(), 1u) << raw.received();
    EXPECT_EQ(raw.responses()[0].status, 200u) << raw.received();
    ASSERT_EQ(up_.request_count(), 1u);
    const auto headers = up_.requests().at(0).headers;  // requests() is a copy
    EXPECT_FALSE(find_header(headers, "upgrade")) << "h2c reached the upstream";
    EXPECT_FALSE(find_header(headers, "http2-settings"));
}

TEST_F(attacks, with_no_upgrades_allowed_a_websocket_handshake_never_becomes_a_tunnel) {
    proxy_ = start_proxy(fill(R"(listeners:
  - name: main
    address: 127.0.0.1:0
    upgrades: []
upstreams:
  - name: app
    endpoints: [${endpoint}]
)",
                              {{"endpoint", up_.address()}}));
    ASSERT_TRUE(proxy_);
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
    ASSERT_TRUE(raw.read_response(io_timeout)) << raw.received();
    ASSERT_FALSE(raw.responses().empty());
    EXPECT_NE(raw.responses()[0].status, 101u) << raw.received();
}

TEST(attacks_upstream, a_101_for_a_protocol_the_client_did_not_ask_for_is_a_502) {
    scripted_upstream upstream("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n");
    auto proxy = start_proxy(single_upstream_config(upstream.address()));
    ASSERT_TRUE(proxy);
    raw_client raw(proxy->port("main"));
    ASSERT_TRUE(raw.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
    ASSERT_TRUE(raw.read_response(io_timeout)) << raw.received();
    ASSERT_FALSE(raw.responses().empty());
    EXPECT_EQ(raw.responses()[0].status, 502u) << raw.received();
    EXPECT_EQ(raw.responses()[0].header("x-tracegate-error"), "bad_upstream_response");
}

TEST_F(attacks, a_body_trickled_in_is_cut_at_body_timeout) {
    start("limits:\n  body_timeout: 1s\n  idle_timeout: 30s\n");
    raw_client raw(port());
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"));
    const auto started = std::chrono::steady_clock::now();
    // One byte every 200 ms: each read is well within idle_timeout, the whole is not.
    EXPECT_FALSE(raw.send_slowly(std::string(100, 'x'), 1, 200ms, 15s)) << "the proxy took it all";
    raw.read_until_closed(io_timeout);
    EXPECT_TRUE(raw.closed_by_peer());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);
}

}  // namespace
}  // namespace tracegate::test

namespace tracegate::test {
namespace {

TEST_F(attacks, a_slow_header_gets_408_at_header_timeout_across_reloads) {
    // The header's limits came from the config snapshot current when the connection
    // started reading; a reload frees that snapshot while the header trickles in.
    start("limits:\n  header_timeout: 1s\n");
    raw_client raw(port());
    const auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\n"));
    for (int i = 0; i < 3; ++i) {
        proxy_->signal(SIGHUP);
        ASSERT_TRUE(proxy_->wait_for_log("config reloaded", io_timeout, i + 1));
        raw.send("X-Slow: " + std::to_string(i) + "\r\n");
    }
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
    ASSERT_EQ(raw.responses().size(), 1u) << raw.received();
    EXPECT_EQ(raw.responses()[0].status, 408u);
    EXPECT_EQ(up_.request_count(), 0u);
}

}  // namespace
}  // namespace tracegate::test
