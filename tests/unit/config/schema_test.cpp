// Validation of the config schema: one test per kind of error, each at its exact position.
#include "config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

namespace tracegate::config {
namespace {

using test::has_error;
using test::has_only_error;
using test::load;

TEST(schema, unknown_key_suggests_nearest) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams:
  - name: app
    endpionts: [127.0.0.1:9000]
)");
    EXPECT_TRUE(has_only_error(r, 4, 5,
                               "unknown key \"endpionts\" in upstream; did you mean \"endpoints\"?"));
}

TEST(schema, unknown_key_far_from_any_valid_key_gets_no_suggestion) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
telemetry: {exporter: otlp}
)");
    ASSERT_TRUE(has_only_error(r, 3, 1, "unknown key \"telemetry\" in config"));
    EXPECT_EQ(r.errors[0].message.find("did you mean"), std::string::npos) << r.errors[0].message;
}

TEST(schema, unknown_keys_are_found_in_every_section) {
    const load_result r = load(R"(
listner: []
listeners: [{name: l, adress: 127.0.0.1:0}]
upstreams: [{name: app}]
routes: [{name: r, upstream: app, timout: 1s, match: {path_prefx: /}}]
limits: {max_body_byte: 1}
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 1, "unknown key \"listner\" in config; did you mean \"listeners\"?"));
    EXPECT_TRUE(has_error(r, 2, 23, "unknown key \"adress\" in listener; did you mean \"address\"?"));
    EXPECT_TRUE(has_error(r, 4, 35, "unknown key \"timout\" in route; did you mean \"timeout\"?"));
    EXPECT_TRUE(has_error(r, 4, 55, "unknown key \"path_prefx\" in match; did you mean \"path_prefix\"?"));
    EXPECT_TRUE(has_error(r, 5, 10, "in limits; did you mean \"max_body_bytes\"?"));
    // The listener also lacks its address: the misspelt key does not count.
    EXPECT_TRUE(has_error(r, 2, 13, "listener: missing required key \"address\""));
    EXPECT_EQ(r.errors.size(), 6u) << test::all_errors(r);
}

TEST(schema, repeated_key_is_an_error) {
    const load_result r = load(R"(
workers: 1
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
workers: 2
)");
    EXPECT_TRUE(has_only_error(r, 4, 1, "duplicate key \"workers\" in config (first at line 1)"));
}

TEST(schema, map_where_list_expected_is_a_type_error) {
    const load_result r = load(R"(
listeners:
  name: l
  address: 127.0.0.1:0
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 2, 3, "listeners: expected a list, got a map"));
}

TEST(schema, list_item_that_is_not_a_map_is_a_type_error) {
    const load_result r = load(R"(
listeners: [public]
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 1, 13, "listener: expected a map, got \"public\""));
}

TEST(schema, non_integer_workers_is_a_type_error) {
    const load_result r = load(R"(
workers: abc
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 1, 10, "workers: expected a non-negative integer, got \"abc\""));
}

TEST(schema, negative_and_list_integers_are_type_errors) {
    const load_result r = load(R"(
workers: -1
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app, max_idle_connections: [1]}]
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 10, "workers: expected a non-negative integer, got \"-1\""));
    EXPECT_TRUE(has_error(r, 3, 47, "max_idle_connections: expected a single value, got a list"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(schema, string_where_scalar_expected_rejects_a_map) {
    const load_result r = load(R"(
service_name: {a: b}
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 1, 15, "service_name: expected a single value, got a map"));
}

TEST(schema, workers_above_1024_is_an_error) {
    const load_result ok = load(R"(
workers: 1024
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)");
    EXPECT_TRUE(ok) << test::all_errors(ok);
    const load_result r = load(R"(
workers: 1025
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 1, 10, "workers: must be at most 1024, got 1025"));
}

TEST(schema, listener_host_must_be_an_ip_literal) {
    const load_result r = load(R"(
listeners:
  - name: l
    address: localhost:8080
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(
        r, 3, 14, "address: listener host \"localhost\" must be an IP address"));
}

TEST(schema, listener_accepts_ipv4_ipv6_and_port_zero) {
    const load_result r = load(R"(
listeners:
  - {name: v4, address: 0.0.0.0:0}
  - {name: v6, address: "[::1]:8080"}
upstreams: [{name: app}]
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->listeners[0].bind, (address{"0.0.0.0", 0}));
    EXPECT_EQ(r.value->listeners[1].bind, (address{"::1", 8080}));
}

TEST(schema, endpoint_may_be_a_dns_name) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app, endpoints: [app.default.svc.cluster.local:8080]}]
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->upstreams[0].endpoints[0], (address{"app.default.svc.cluster.local", 8080}));
}

TEST(schema, endpoint_port_zero_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams:
  - name: app
    endpoints: [127.0.0.1:9000, 127.0.0.1:0]
)");
    EXPECT_TRUE(has_only_error(r, 4, 33, "endpoint: port must be 1..65535, got 0"));
}

TEST(schema, port_out_of_range_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:65536}]
upstreams: [{name: app, endpoints: [127.0.0.1:70000]}]
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 32, "address: invalid address \"127.0.0.1:65536\": port 65536 is out of range"));
    EXPECT_TRUE(has_error(r, 2, 37, "endpoint: invalid address \"127.0.0.1:70000\": port 70000 is out of range"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(schema, missing_port_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1}]
upstreams: [{name: app, endpoints: [backend]}]
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 32, "address: invalid address \"127.0.0.1\": missing port"));
    EXPECT_TRUE(has_error(r, 2, 37, "endpoint: invalid address \"backend\": missing port"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(schema, unbracketed_ipv6_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: "::1:8080"}]
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 1, 32, "IPv6 address must be in brackets"));
}

TEST(schema, bad_duration_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams:
  - name: app
    connect_timeout: 1.5s
limits:
  idle_timeout: 60
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 4, 22, "connect_timeout: invalid duration \"1.5s\" (not a whole number"));
    EXPECT_TRUE(has_error(r, 6, 17, "idle_timeout: invalid duration \"60\" (missing unit)"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(schema, zero_connect_timeout_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app, connect_timeout: 0}]
)");
    EXPECT_TRUE(has_only_error(r, 2, 42, "connect_timeout: must be greater than 0"));
}

TEST(schema, unknown_lb_policy_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app, lb: round-robin}]
)");
    EXPECT_TRUE(has_only_error(r, 2, 29, "lb: unknown policy \"round-robin\"; expected round_robin"));
}

TEST(schema, route_naming_unknown_upstream_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: users}, {name: orders}]
routes:
  - name: r
    upstream: billing
)");
    ASSERT_TRUE(has_only_error(r, 5, 15, "upstream: no upstream named \"billing\""));
    EXPECT_EQ(r.errors[0].message.find("did you mean"), std::string::npos);
}

TEST(schema, route_upstream_may_be_defined_after_the_route) {
    const load_result r = load(R"(
routes: [{name: r, upstream: late}]
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: late}]
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->routes[0].upstream, "late");
}

TEST(schema, duplicate_listener_name_is_an_error) {
    const load_result r = load(R"(
listeners:
  - {name: public, address: 127.0.0.1:1}
  - {name: public, address: 127.0.0.1:2}
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(
        r, 3, 12, "name: duplicate listener name \"public\" (first defined at line 2)"));
}

TEST(schema, duplicate_upstream_name_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams:
  - name: app
  - name: app
routes: [{name: r, upstream: app}]
)");
    EXPECT_TRUE(has_only_error(
        r, 4, 11, "name: duplicate upstream name \"app\" (first defined at line 3)"));
}

TEST(schema, duplicate_route_name_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
routes:
  - {name: r, upstream: app}
  - {name: r, upstream: app}
)");
    EXPECT_TRUE(has_only_error(r, 5, 12, "name: duplicate route name \"r\" (first defined at line 4)"));
}

TEST(schema, same_name_in_different_sections_is_fine) {
    const load_result r = load(R"(
listeners: [{name: app, address: 127.0.0.1:0}]
upstreams: [{name: app}]
routes: [{name: app, upstream: app}]
)");
    EXPECT_TRUE(r) << test::all_errors(r);
}

TEST(schema, empty_listener_name_and_address_are_errors) {
    const load_result r = load(R"(
listeners:
  - name: ""
    address:
upstreams: [{name: app}]
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 2, 11, "listener: \"name\" must not be empty"));
    EXPECT_TRUE(has_error(r, 3, 5, "listener: \"address\" must not be empty"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(schema, missing_listener_name_and_address_are_errors_at_the_listener) {
    const load_result r = load(R"(
listeners:
  - {}
upstreams: [{name: app}]
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 2, 5, "listener: missing required key \"name\""));
    EXPECT_TRUE(has_error(r, 2, 5, "listener: missing required key \"address\""));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(schema, empty_upstream_name_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams:
  - name: ""
    endpoints: [127.0.0.1:1]
)");
    EXPECT_TRUE(has_only_error(r, 3, 11, "upstream: \"name\" must not be empty"));
}

TEST(schema, missing_upstream_name_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams:
  - endpoints: [127.0.0.1:1]
)");
    EXPECT_TRUE(has_only_error(r, 3, 5, "upstream: missing required key \"name\""));
}

TEST(schema, empty_route_name_and_upstream_are_errors) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
routes:
  - name: ""
    upstream: ""
  - match: {path: /}
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 4, 11, "route: \"name\" must not be empty"));
    EXPECT_TRUE(has_error(r, 5, 15, "route: \"upstream\" must not be empty"));
    EXPECT_TRUE(has_error(r, 6, 5, "route: missing required key \"name\""));
    EXPECT_TRUE(has_error(r, 6, 5, "route: missing required key \"upstream\""));
    EXPECT_EQ(r.errors.size(), 4u) << test::all_errors(r);
}

TEST(schema, empty_service_name_is_an_error) {
    const load_result r = load(R"(
service_name: ""
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 1, 15, "service_name: must not be empty"));
}

TEST(schema, at_least_one_listener_is_required) {
    const load_result missing = load(R"(
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(missing, 1, 1, "listeners: at least one listener is required"));
    const load_result empty = load(R"(
listeners: []
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(empty, 1, 12, "listeners: at least one listener is required"));
}

TEST(schema, listeners_key_with_nothing_under_it_still_needs_a_listener) {
    const load_result r = load(R"(
listeners:
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 1, 1, "listeners: at least one listener is required"));
}

TEST(schema, at_least_one_upstream_is_required) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: []
)");
    EXPECT_TRUE(has_only_error(r, 2, 12, "upstreams: at least one upstream is required"));
}

TEST(schema, upstream_with_empty_endpoints_is_allowed) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app, endpoints: []}]
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_TRUE(r.value->upstreams[0].endpoints.empty());
}

TEST(schema, max_header_bytes_below_1024_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
limits:
  max_header_bytes: 1023
)");
    EXPECT_TRUE(has_only_error(r, 4, 21, "max_header_bytes: must be at least 1024, got 1023"));
}

TEST(schema, zero_max_connections_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
limits: {max_connections: 0}
)");
    EXPECT_TRUE(has_only_error(r, 3, 27, "max_connections: must be at least 1, got 0"));
}

}  // namespace
}  // namespace tracegate::config

namespace tracegate::config {
namespace {

using test::has_only_error;
using test::load;

TEST(schema, listener_upgrades_default_to_websocket_and_are_lowercased) {
    const load_result r = load(R"(
listeners:
  - {name: a, address: 127.0.0.1:0}
  - {name: b, address: 127.0.0.1:0, upgrades: [WebSocket, h2c, "custom/2"]}
  - {name: c, address: 127.0.0.1:0, upgrades: []}
upstreams: [{name: app, endpoints: [127.0.0.1:1]}]
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->listeners[0].upgrades, std::vector<std::string>{"websocket"});
    EXPECT_EQ(r.value->listeners[1].upgrades, (std::vector<std::string>{"websocket", "h2c", "custom/2"}));
    EXPECT_TRUE(r.value->listeners[2].upgrades.empty());
}

TEST(schema, listener_upgrade_that_is_no_protocol_name_is_an_error) {
    const load_result r = load(R"(
listeners:
  - {name: a, address: 127.0.0.1:0, upgrades: ["web socket"]}
upstreams: [{name: app, endpoints: [127.0.0.1:1]}]
)");
    EXPECT_TRUE(has_only_error(r, 2, 48, "upgrades: \"web socket\" is not a protocol name"));
}

TEST(schema, body_timeout_is_a_limit_with_a_five_minute_default) {
    const load_result defaults = load(R"(
listeners: [{name: a, address: 127.0.0.1:0}]
upstreams: [{name: app, endpoints: [127.0.0.1:1]}]
)");
    ASSERT_TRUE(defaults) << test::all_errors(defaults);
    EXPECT_EQ(defaults.value->limits.body_timeout, std::chrono::minutes(5));
    const load_result set = load(R"(
listeners: [{name: a, address: 127.0.0.1:0}]
upstreams: [{name: app, endpoints: [127.0.0.1:1]}]
limits: {body_timeout: 30s}
)");
    ASSERT_TRUE(set) << test::all_errors(set);
    EXPECT_EQ(set.value->limits.body_timeout, std::chrono::seconds(30));
}

}  // namespace
}  // namespace tracegate::config
