// Route selection as a client sees it: each kind of match sends the request to a
// different upstream; the first matching route wins.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {
namespace {

class routing : public ::testing::Test {
protected:
    void SetUp() override {
        const auto yaml = fill(R"(service_name: itest
workers: 2
listeners:
  - name: main
    address: 127.0.0.1:0
upstreams:
  - {name: by-host, endpoints: [${host}]}
  - {name: by-exact-path, endpoints: [${exact}]}
  - {name: by-prefix, endpoints: [${prefix}]}
  - {name: by-regex, endpoints: [${regex}]}
  - {name: by-method, endpoints: [${method}]}
  - {name: by-header, endpoints: [${header}]}
  - {name: fallback, endpoints: [${fallback}]}
routes:
  - name: api-host
    match: {host: api.example.test}
    upstream: by-host
  - name: exact
    match: {path: /exact}
    upstream: by-exact-path
  - name: images
    match: {path_prefix: /images/}
    upstream: by-prefix
  - name: versioned
    match: {path_regex: "/v[0-9]+/items"}
    upstream: by-regex
  - name: deletes
    match: {methods: [DELETE]}
    upstream: by-method
  - name: blue-tenant
    match: {headers: {x-tenant: blue}}
    upstream: by-header
  - name: everything-else
    match: {path_prefix: /}
    upstream: fallback
)",
                               {{"host", host_.address()},
                                {"exact", exact_.address()},
                                {"prefix", prefix_.address()},
                                {"regex", regex_.address()},
                                {"method", method_.address()},
                                {"header", header_.address()},
                                {"fallback", fallback_.address()}});
        proxy_ = start_proxy(yaml);
        ASSERT_TRUE(proxy_);
    }

    /// Which upstream answered `method target` with `headers`.
    std::string served_by(std::string_view method, std::string_view target,
                          const header_list& headers = {}) {
        http_client client(proxy_->port("main"), io_timeout);
        const auto r = client.request(method, target, headers);
        EXPECT_EQ(r.status, 200u) << method << " " << target << ": " << r.describe();
        return r.header("x-upstream-name").value_or("<none>");
    }

    upstream_server host_{"by-host"}, exact_{"by-exact-path"}, prefix_{"by-prefix"},
        regex_{"by-regex"}, method_{"by-method"}, header_{"by-header"}, fallback_{"fallback"};
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(routing, host_match_selects_its_upstream) {
    EXPECT_EQ(served_by("GET", "/images/a.png", {{"Host", "api.example.test"}}), "by-host");
    EXPECT_EQ(served_by("GET", "/anything", {{"Host", "api.example.test:8080"}}), "by-host")
        << "the port in Host is not part of the host match";
    EXPECT_EQ(served_by("GET", "/anything", {{"Host", "API.Example.TEST"}}), "by-host")
        << "host names compare case-insensitively";
    EXPECT_EQ(served_by("GET", "/anything", {{"Host", "other.example.test"}}), "fallback");
}

TEST_F(routing, exact_path_match_ignores_the_query_and_longer_paths) {
    EXPECT_EQ(served_by("GET", "/exact"), "by-exact-path");
    EXPECT_EQ(served_by("GET", "/exact?x=1"), "by-exact-path");
    EXPECT_EQ(served_by("GET", "/exact/more"), "fallback");
}

TEST_F(routing, path_prefix_match_selects_its_upstream) {
    EXPECT_EQ(served_by("GET", "/images/cat.png"), "by-prefix");
    EXPECT_EQ(served_by("GET", "/imagesXYZ"), "fallback");
}

TEST_F(routing, path_regex_must_match_the_whole_path) {
    EXPECT_EQ(served_by("GET", "/v2/items"), "by-regex");
    EXPECT_EQ(served_by("GET", "/v10/items?page=3"), "by-regex");
    EXPECT_EQ(served_by("GET", "/v2/items/7"), "fallback");
}

TEST_F(routing, method_match_selects_its_upstream) {
    EXPECT_EQ(served_by("DELETE", "/orders/1"), "by-method");
    EXPECT_EQ(served_by("GET", "/orders/1"), "fallback");
}

TEST_F(routing, header_match_selects_its_upstream) {
    EXPECT_EQ(served_by("GET", "/orders", {{"X-Tenant", "blue"}}), "by-header");
    EXPECT_EQ(served_by("GET", "/orders", {{"X-Tenant", "green"}}), "fallback");
}

TEST_F(routing, first_matching_route_wins) {
    // Matches api-host (first), images, deletes and blue-tenant.
    EXPECT_EQ(served_by("DELETE", "/images/x", {{"Host", "api.example.test"}, {"X-Tenant", "blue"}}),
              "by-host");
    // Matches images before deletes.
    EXPECT_EQ(served_by("DELETE", "/images/x"), "by-prefix");
}

TEST_F(routing, requests_on_one_connection_are_routed_one_by_one) {
    http_client client(proxy_->port("main"), io_timeout);
    EXPECT_EQ(client.get("/images/1").header("x-upstream-name"), "by-prefix");
    EXPECT_EQ(client.get("/exact").header("x-upstream-name"), "by-exact-path");
    EXPECT_EQ(client.get("/x", {{"X-Tenant", "blue"}}).header("x-upstream-name"), "by-header");
}

std::string balanced_config(const upstream_server& a, const upstream_server& b, std::string_view lb) {
    return fill(R"(service_name: itest
workers: 2
listeners:
  - name: main
    address: 127.0.0.1:0
upstreams:
  - name: pair
    endpoints: [${a}, ${b}]
    lb: ${lb}
)",
                {{"a", a.address()}, {"b", b.address()}, {"lb", std::string(lb)}});
}

TEST(load_balancing, round_robin_alternates_between_endpoints) {
    upstream_server a("a"), b("b");
    auto proxy = start_proxy(balanced_config(a, b, "round_robin"));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(client.get("/rr").status, 200u);
    // One client connection stays on one worker: its round robin alternates exactly.
    EXPECT_EQ(a.request_count(), 5u);
    EXPECT_EQ(b.request_count(), 5u);
}

TEST(load_balancing, random_uses_every_endpoint) {
    upstream_server a("a"), b("b");
    auto proxy = start_proxy(balanced_config(a, b, "random"));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    for (int i = 0; i < 40; ++i) ASSERT_EQ(client.get("/rnd").status, 200u);
    // Each endpoint missing all 40 draws has probability 2^-40.
    EXPECT_GE(a.request_count(), 1u);
    EXPECT_GE(b.request_count(), 1u);
    EXPECT_EQ(a.request_count() + b.request_count(), 40u);
}

TEST(load_balancing, refused_endpoint_does_not_take_down_the_upstream) {
    upstream_server good("good");
    refused_port dead;
    auto proxy = start_proxy(fill(R"(service_name: itest
workers: 2
listeners:
  - name: main
    address: 127.0.0.1:0
upstreams:
  - name: pair
    endpoints: [${dead}, ${good}]
)",
                                  {{"dead", dead.address()}, {"good", good.address()}}));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    int ok = 0;
    for (int i = 0; i < 10; ++i) ok += client.get("/x").status == 200u ? 1 : 0;
    EXPECT_GE(ok, 5) << "the live endpoint should serve at least its round-robin share";
}

}  // namespace
}  // namespace tracegate::test
