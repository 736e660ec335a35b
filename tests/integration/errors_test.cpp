// Failures on the upstream side become proxy responses a client can tell apart:
// status, a short text body and x-tracegate-error naming the reason.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tracegate::test {
namespace {

using namespace std::chrono_literals;

class errors : public ::testing::Test {
protected:
    void SetUp() override {
        proxy_ = start_proxy(fill(R"(service_name: itest
workers: 2
listeners:
  - name: main
    address: 127.0.0.1:0
upstreams:
  - name: app
    endpoints: [${up}]
  - name: nowhere
    endpoints: []
  - name: refusing
    endpoints: [${refused}]
    connect_timeout: 2s
routes:
  - name: empty
    match: {path: /empty}
    upstream: nowhere
  - name: refused
    match: {path: /refused}
    upstream: refusing
  - name: slow
    match: {path_prefix: /delay/}
    upstream: app
    timeout: 300ms
  - name: closing
    match: {path_prefix: /close-}
    upstream: app
  - name: fine
    match: {path_prefix: /ok}
    upstream: app
)",
                                  {{"up", up_.address()}, {"refused", refused_.address()}}));
        ASSERT_TRUE(proxy_);
    }

    std::uint16_t port() const { return proxy_->port("main"); }

    /// A proxy-made error: status, reason header, and a short human-readable body.
    static void expect_failure(const http_response& r, unsigned status, std::string_view reason) {
        EXPECT_EQ(r.status, status) << r.describe();
        EXPECT_EQ(r.header("x-tracegate-error"), std::string(reason)) << r.describe();
        EXPECT_FALSE(r.body.empty()) << "error responses carry a short text body";
        EXPECT_LT(r.body.size(), 512u);
    }

    upstream_server up_{"app"};
    refused_port refused_;
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(errors, request_matching_no_route_gets_404_no_route) {
    http_client client(port(), io_timeout);
    expect_failure(client.get("/unrouted"), 404, "no_route");
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(errors, upstream_without_endpoints_gets_503_no_endpoint) {
    http_client client(port(), io_timeout);
    expect_failure(client.get("/empty"), 503, "no_endpoint");
}

TEST_F(errors, refused_connect_gets_502_connect_refused) {
    http_client client(port(), io_timeout);
    expect_failure(client.get("/refused"), 502, "connect_refused");
}

TEST_F(errors, upstream_slower_than_the_route_timeout_gets_504_timeout) {
    http_client client(port(), io_timeout);
    const auto start = std::chrono::steady_clock::now();
    const auto r = client.get("/delay/5000");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    expect_failure(r, 504, "timeout");
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 3s) << "the route timeout is 300ms";
}

TEST_F(errors, upstream_response_within_the_route_timeout_passes) {
    http_client client(port(), io_timeout);
    const auto r = client.get("/delay/50");
    EXPECT_EQ(r.status, 200u) << r.describe();
}

TEST_F(errors, upstream_closing_before_the_response_header_gets_502_upstream_reset) {
    http_client client(port(), io_timeout);
    expect_failure(client.get("/close-now"), 502, "upstream_reset");
    ASSERT_TRUE(up_.wait_for_requests(1, io_timeout));
    EXPECT_EQ(up_.requests().at(0).target, "/close-now");
}

TEST_F(errors, upstream_dying_after_the_header_closes_the_client_connection_mid_body) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET /close-after-headers HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout))
        << "the client connection stayed open after the upstream died; got: " << raw.received();
    const auto& bytes = raw.received();
    std::size_t status_lines = 0;
    for (auto at = bytes.find("HTTP/1."); at != std::string::npos; at = bytes.find("HTTP/1.", at + 1))
        ++status_lines;
    EXPECT_EQ(status_lines, 1u) << "a second response followed the first: " << bytes;
    const auto responses = raw.responses();
    ASSERT_FALSE(responses.empty());
    EXPECT_EQ(responses[0].status, 200u) << bytes;
    EXPECT_FALSE(responses[0].complete) << "the truncated body was presented as complete: " << bytes;
    EXPECT_LT(responses[0].body.size(), 1000u);
}

TEST_F(errors, error_responses_leave_the_proxy_serving) {
    http_client client(port(), io_timeout);
    client.get("/close-now");
    http_client again(port(), io_timeout);
    EXPECT_EQ(again.get("/ok").status, 200u);
}

}  // namespace
}  // namespace tracegate::test
