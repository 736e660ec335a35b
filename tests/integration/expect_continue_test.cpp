// Expect: 100-continue (RFC 9110 §10.1.1): the client learns before sending the body
// whether it is wanted.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {
namespace {

class expect_continue : public ::testing::Test {
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
routes:
  - name: sink
    match: {path: /sink}
    upstream: app
)",
                                  {{"up", up_.address()}}));
        ASSERT_TRUE(proxy_);
    }

    upstream_server up_{"app"};
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(expect_continue, client_gets_100_continue_before_sending_the_body_then_the_response) {
    const std::string body = "twelve bytes";
    raw_client raw(proxy_->port("main"));
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
                         "Expect: 100-continue\r\n\r\n"));
    ASSERT_TRUE(raw.read_until("\r\n\r\n", io_timeout))
        << "no interim response while the body is held back; got: " << raw.received();
    ASSERT_EQ(raw.status(), 100u) << raw.received();
    ASSERT_TRUE(raw.send(body));
    ASSERT_TRUE(raw.read_until("fnv1a=", io_timeout)) << raw.received();
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 2u) << raw.received();
    EXPECT_EQ(responses[0].status, 100u);
    EXPECT_EQ(responses[1].status, 200u);
    body_digest expected;
    expected.update(body.data(), body.size());
    EXPECT_EQ(responses[1].body, expected.to_string() + "\n");
}

TEST_F(expect_continue, unknown_route_gets_404_without_the_body_being_sent) {
    raw_client raw(proxy_->port("main"));
    ASSERT_TRUE(raw.send("POST /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n"
                         "Expect: 100-continue\r\n\r\n"));
    ASSERT_TRUE(raw.read_until("\r\n\r\n", io_timeout)) << raw.received();
    ASSERT_EQ(raw.status(), 404u) << "expected the final status instead of 100 Continue: "
                                  << raw.received();
    const auto responses = raw.responses();
    ASSERT_FALSE(responses.empty());
    EXPECT_EQ(responses[0].header("x-tracegate-error"), "no_route");
    EXPECT_EQ(up_.request_count(), 0u);
}

}  // namespace
}  // namespace tracegate::test
