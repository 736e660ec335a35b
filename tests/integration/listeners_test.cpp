// Listener and worker settings as a client sees them: several listeners, IPv6, and
// workers: 0 (one per core).
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

#include <set>

namespace tracegate::test {
namespace {

TEST(listeners, every_listener_serves_on_its_own_port) {
    upstream_server up("app");
    auto proxy = start_proxy(fill(R"(service_name: itest
workers: 2
listeners:
  - name: public
    address: 127.0.0.1:0
  - name: internal
    address: 127.0.0.1:0
upstreams:
  - name: app
    endpoints: [${up}]
)",
                                  {{"up", up.address()}}),
                             2);
    ASSERT_TRUE(proxy);
    const auto a = proxy->port("public");
    const auto b = proxy->port("internal");
    ASSERT_NE(a, 0);
    ASSERT_NE(b, 0);
    EXPECT_NE(a, b);
    for (auto port : {a, b}) {
        http_client client(port, io_timeout);
        const auto r = client.get("/via/" + std::to_string(port));
        EXPECT_EQ(r.status, 200u) << "listener on " << port << ": " << r.describe();
    }
}

TEST(listeners, ipv6_listener_and_ipv6_upstream_endpoint_work) {
    std::unique_ptr<upstream_server> up;
    try {
        up = std::make_unique<upstream_server>(upstream_options{.host = "::1", .name = "v6"});
    } catch (const std::exception& e) {
        GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
    }
    auto proxy = start_proxy(fill(R"(service_name: itest
workers: 2
listeners:
  - name: v6
    address: "[::1]:0"
upstreams:
  - name: app
    endpoints: ["${up}"]
)",
                                  {{"up", up->address()}}));
    ASSERT_TRUE(proxy);
    EXPECT_EQ(proxy->host("v6"), "[::1]");
    http_client client("::1", proxy->port("v6"), io_timeout);
    ASSERT_TRUE(client.connected()) << client.connect_error().message();
    const auto r = client.get("/six");
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-upstream-name"), "v6");
    ASSERT_TRUE(up->wait_for_requests(1, io_timeout));
    EXPECT_EQ(up->requests().at(0).header("X-Forwarded-For"), "::1");
}

TEST(listeners, workers_0_starts_one_worker_per_core_and_serves) {
    upstream_server up("app");
    std::string yaml = single_upstream_config(up.address());
    yaml.replace(yaml.find("workers: 2"), 10, "workers: 0");
    auto proxy = start_proxy(yaml);
    ASSERT_TRUE(proxy);
    // Several connections, so that with SO_REUSEPORT more than one worker takes part.
    for (int i = 0; i < 8; ++i) {
        http_client client(proxy->port("main"), io_timeout);
        EXPECT_EQ(client.get("/w").status, 200u);
    }
}

}  // namespace
}  // namespace tracegate::test
