#include "config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace tracegate::config {
namespace {

using test::has_error;
using test::has_only_error;
using test::load;

// The example of the config contract, verbatim.
constexpr std::string_view full_example = R"(
service_name: frontend          # resource name of the spans this proxy reports
workers: 0                      # 0 = one per core
listeners:
  - name: public
    address: 0.0.0.0:8080       # host:port, [v6]:port
upstreams:
  - name: app
    endpoints: [127.0.0.1:9000, 127.0.0.1:9001]
    lb: round_robin             # round_robin | least_request | random
    connect_timeout: 2s
    max_idle_connections: 64    # per worker
routes:
  - name: users
    match:
      host: "*.example.com"     # exact, "*.suffix" wildcard, or absent = any
      path_prefix: /users       # or path: /exact, or path_regex: ^/u/[0-9]+$
      methods: [GET, POST]      # optional
      headers: {x-tenant: blue} # optional exact matches
    upstream: app
    timeout: 30s                # whole upstream exchange
limits:
  max_header_bytes: 65536
  header_timeout: 10s
  idle_timeout: 60s
  max_body_bytes: 0             # 0 = unlimited
  max_connections: 10000
  drain_timeout: 15s
)";

TEST(load_string, full_example_parses_into_expected_values) {
    const load_result r = load(full_example);
    ASSERT_TRUE(r) << test::all_errors(r);
    const settings& s = *r.value;
    EXPECT_EQ(s.service_name, "frontend");
    EXPECT_EQ(s.workers, 0u);
    EXPECT_EQ(s.source, "test.yaml");

    ASSERT_EQ(s.listeners.size(), 1u);
    EXPECT_EQ(s.listeners[0].name, "public");
    EXPECT_EQ(s.listeners[0].bind, (address{"0.0.0.0", 8080}));

    ASSERT_EQ(s.upstreams.size(), 1u);
    const upstream_config& u = s.upstreams[0];
    EXPECT_EQ(u.name, "app");
    EXPECT_EQ(u.endpoints, (std::vector<address>{{"127.0.0.1", 9000}, {"127.0.0.1", 9001}}));
    EXPECT_EQ(u.lb, lb_policy::round_robin);
    EXPECT_EQ(u.connect_timeout, duration{2000});
    EXPECT_EQ(u.max_idle_connections, 64u);

    ASSERT_EQ(s.routes.size(), 1u);
    const route_config& rc = s.routes[0];
    EXPECT_EQ(rc.name, "users");
    EXPECT_EQ(rc.upstream, "app");
    EXPECT_EQ(rc.timeout, duration{30000});
    EXPECT_EQ(rc.match.host, "*.example.com");
    EXPECT_EQ(rc.match.path_prefix, "/users");
    EXPECT_EQ(rc.match.path, std::nullopt);
    EXPECT_EQ(rc.match.path_regex, std::nullopt);
    EXPECT_EQ(rc.match.methods, (std::vector<std::string>{"GET", "POST"}));
    EXPECT_EQ(rc.match.headers, (std::map<std::string, std::string>{{"x-tenant", "blue"}}));

    EXPECT_EQ(s.limits.max_header_bytes, 65536u);
    EXPECT_EQ(s.limits.header_timeout, duration{10000});
    EXPECT_EQ(s.limits.idle_timeout, duration{60000});
    EXPECT_EQ(s.limits.max_body_bytes, 0u);
    EXPECT_EQ(s.limits.max_connections, 10000u);
    EXPECT_EQ(s.limits.drain_timeout, duration{15000});
}

TEST(load_string, non_default_values_are_read) {
    const load_result r = load(R"(
service_name: edge
workers: 8
listeners:
  - {name: v6, address: "[::]:0"}
upstreams:
  - name: a
    endpoints: [users.internal:80, "[::1]:81"]
    lb: least_request
    connect_timeout: 250ms
    max_idle_connections: 0
  - name: b
    endpoints: []
    lb: random
routes:
  - name: r
    upstream: b
    timeout: 0
limits:
  max_header_bytes: 1024
  header_timeout: 1m
  max_body_bytes: 1048576
  max_connections: 1
  drain_timeout: 1h
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    const settings& s = *r.value;
    EXPECT_EQ(s.service_name, "edge");
    EXPECT_EQ(s.workers, 8u);
    EXPECT_EQ(s.listeners[0].bind, (address{"::", 0}));
    EXPECT_EQ(s.upstreams[0].endpoints,
              (std::vector<address>{{"users.internal", 80}, {"::1", 81}}));
    EXPECT_EQ(s.upstreams[0].lb, lb_policy::least_request);
    EXPECT_EQ(s.upstreams[0].connect_timeout, duration{250});
    EXPECT_EQ(s.upstreams[0].max_idle_connections, 0u);
    EXPECT_TRUE(s.upstreams[1].endpoints.empty());
    EXPECT_EQ(s.upstreams[1].lb, lb_policy::random);
    EXPECT_EQ(s.routes[0].timeout, duration{0});
    EXPECT_EQ(s.routes[0].match.host, std::nullopt);
    EXPECT_EQ(s.limits.max_header_bytes, 1024u);
    EXPECT_EQ(s.limits.header_timeout, duration{60000});
    EXPECT_EQ(s.limits.idle_timeout, duration{60000});  // default kept
    EXPECT_EQ(s.limits.max_body_bytes, 1048576u);
    EXPECT_EQ(s.limits.max_connections, 1u);
    EXPECT_EQ(s.limits.drain_timeout, duration{3600000});
}

TEST(load_string, no_routes_with_one_upstream_synthesizes_default_route) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: only, endpoints: [127.0.0.1:9]}]
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->routes.size(), 1u);
    const route_config& rc = r.value->routes[0];
    EXPECT_EQ(rc.name, "default");
    EXPECT_EQ(rc.upstream, "only");
    // Matches everything: no criterion set.
    EXPECT_EQ(rc.match.host, std::nullopt);
    EXPECT_EQ(rc.match.path, std::nullopt);
    EXPECT_EQ(rc.match.path_prefix, std::nullopt);
    EXPECT_EQ(rc.match.path_regex, std::nullopt);
    EXPECT_TRUE(rc.match.methods.empty());
    EXPECT_TRUE(rc.match.headers.empty());
    EXPECT_EQ(rc.timeout, route_config{}.timeout);
}

TEST(load_string, empty_routes_list_with_one_upstream_synthesizes_default_route) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: only}]
routes: []
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->routes.size(), 1u);
    EXPECT_EQ(r.value->routes[0].name, "default");
    EXPECT_EQ(r.value->routes[0].upstream, "only");
}

TEST(load_string, routes_key_with_nothing_under_it_counts_as_no_routes) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: only}]
routes:
limits:
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->routes.size(), 1u);
    EXPECT_EQ(r.value->routes[0].name, "default");
    EXPECT_EQ(r.value->limits.max_connections, limits_config{}.max_connections);
}

TEST(load_string, no_routes_with_two_upstreams_is_an_error) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams:
  - name: a
  - name: b
)");
    EXPECT_TRUE(has_only_error(r, 3, 3, "routes: required when more than one upstream is defined"));
}

TEST(load_string, empty_routes_with_two_upstreams_points_at_routes) {
    const load_result r = load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: a}, {name: b}]
routes: []
)");
    EXPECT_TRUE(has_only_error(r, 3, 9, "routes: required when more than one upstream"));
}

TEST(load_string, source_names_the_settings_and_the_errors) {
    const load_result ok = load_string(embedded_default_yaml(), "<embedded>", test::fake_env());
    ASSERT_TRUE(ok) << test::all_errors(ok);
    EXPECT_EQ(ok.value->source, "<embedded>");

    const load_result bad = load_string("workers: x\n", "conf/edge.yaml", test::fake_env());
    ASSERT_FALSE(bad.errors.empty());
    EXPECT_EQ(bad.errors[0].file, "conf/edge.yaml");
}

TEST(embedded_default_yaml, loads_without_errors_into_documented_values) {
    const load_result r = load_string(embedded_default_yaml(), "<embedded>", test::fake_env());
    ASSERT_TRUE(r) << test::all_errors(r);
    const settings& s = *r.value;
    EXPECT_EQ(s.service_name, "tracegate");
    EXPECT_EQ(s.workers, 0u);
    ASSERT_EQ(s.listeners.size(), 1u);
    EXPECT_EQ(s.listeners[0].name, "public");
    EXPECT_EQ(s.listeners[0].bind, (address{"0.0.0.0", 8080}));
    ASSERT_EQ(s.upstreams.size(), 1u);
    EXPECT_EQ(s.upstreams[0].name, "app");
    EXPECT_EQ(s.upstreams[0].endpoints, (std::vector<address>{{"127.0.0.1", 9000}}));
    // No routes written: the synthesized catch-all.
    ASSERT_EQ(s.routes.size(), 1u);
    EXPECT_EQ(s.routes[0].name, "default");
    EXPECT_EQ(s.routes[0].upstream, "app");
}

TEST(embedded_default_yaml, limits_equal_the_built_in_defaults) {
    const load_result r = load_string(embedded_default_yaml(), "<embedded>", test::fake_env());
    ASSERT_TRUE(r) << test::all_errors(r);
    const limits_config defaults;
    const limits_config& l = r.value->limits;
    EXPECT_EQ(l.max_header_bytes, defaults.max_header_bytes);
    EXPECT_EQ(l.header_timeout, defaults.header_timeout);
    EXPECT_EQ(l.idle_timeout, defaults.idle_timeout);
    EXPECT_EQ(l.max_body_bytes, defaults.max_body_bytes);
    EXPECT_EQ(l.max_connections, defaults.max_connections);
    EXPECT_EQ(l.drain_timeout, defaults.drain_timeout);
    const upstream_config upstream_defaults;
    EXPECT_EQ(r.value->upstreams[0].connect_timeout, upstream_defaults.connect_timeout);
    EXPECT_EQ(r.value->upstreams[0].max_idle_connections, upstream_defaults.max_idle_connections);
    EXPECT_EQ(r.value->upstreams[0].lb, upstream_defaults.lb);
}

TEST(load_string, env_variables_are_substituted_in_scalars) {
    const load_result r = load(R"(
service_name: ${SERVICE}
workers: ${WORKERS:-3}
listeners: [{name: l, address: "${BIND_HOST:-127.0.0.1}:${PORT}"}]
upstreams: [{name: app, endpoints: ["${UPSTREAM}"]}]
)",
                               {{"SERVICE", "checkout"}, {"PORT", "8443"}, {"UPSTREAM", "app.svc:80"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->service_name, "checkout");
    EXPECT_EQ(r.value->workers, 3u);
    EXPECT_EQ(r.value->listeners[0].bind, (address{"127.0.0.1", 8443}));
    EXPECT_EQ(r.value->upstreams[0].endpoints[0], (address{"app.svc", 80}));
}

TEST(load_string, double_dollar_in_a_scalar_is_a_literal_dollar) {
    const load_result r = load(R"(
service_name: cost$$center
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
routes:
  - name: r
    upstream: app
    match: {path_regex: "^/a$$|^/b$"}
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->service_name, "cost$center");
    EXPECT_EQ(r.value->routes[0].match.path_regex, "^/a$|^/b$");
}

TEST(load_string, unset_env_variable_is_an_error_at_its_scalar) {
    const load_result r = load(R"(
listeners:
  - name: l
    address: ${LISTEN_ADDRESS}
upstreams: [{name: app}]
)");
    EXPECT_TRUE(has_only_error(r, 3, 14, "environment variable \"LISTEN_ADDRESS\" is not set"));
}

TEST(load_string, yaml_syntax_error_is_reported_at_its_mark) {
    const load_result r = load(R"(
listeners:
  - name: l
    address: [127.0.0.1:0
upstreams: []
)");
    ASSERT_FALSE(r);
    ASSERT_EQ(r.errors.size(), 1u) << test::all_errors(r);
    EXPECT_EQ(r.errors[0].file, "test.yaml");
    EXPECT_NE(r.errors[0].message.find("invalid YAML"), std::string::npos);
    // yaml-cpp notices the unclosed "[" where the next line's content starts.
    EXPECT_EQ(r.errors[0].line, 4);
    EXPECT_EQ(r.errors[0].column, 10);
    EXPECT_NE(r.errors[0].message.find("end of sequence flow not found"), std::string::npos)
        << r.errors[0].message;
}

TEST(load_string, bad_indentation_is_a_syntax_error_not_an_exception) {
    const load_result r = load("a: b: c\n");
    EXPECT_TRUE(has_only_error(r, 1, 5, "invalid YAML: illegal map value"));
}

TEST(load_string, empty_document_reports_missing_listeners_and_upstreams) {
    const load_result r = load("");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 1, "listeners: at least one listener is required"));
    EXPECT_TRUE(has_error(r, 1, 1, "upstreams: at least one upstream is required"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(load_string, top_level_that_is_not_a_map_is_an_error) {
    const load_result r = load("- a\n- b\n");
    EXPECT_TRUE(has_only_error(r, 1, 1, "config: expected a map, got a list"));
}

TEST(load_string, reports_every_error_at_once_in_file_order) {
    const load_result r = load(R"(
workers: abc
listeners:
  - name: public
    address: localhost:8080
upstreams:
  - name: app
    endpionts: [127.0.0.1:9000]
    connect_timeout: 5 seconds
routes:
  - name: users
    upstream: ap
limits:
  max_header_bytes: 100
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 10, "workers: expected a non-negative integer, got \"abc\""));
    EXPECT_TRUE(has_error(r, 4, 14, "must be an IP address"));
    EXPECT_TRUE(has_error(r, 7, 5, "unknown key \"endpionts\" in upstream; did you mean \"endpoints\"?"));
    EXPECT_TRUE(has_error(r, 8, 22, "connect_timeout: invalid duration \"5 seconds\""));
    EXPECT_TRUE(has_error(r, 11, 15, "no upstream named \"ap\"; did you mean \"app\"?"));
    EXPECT_TRUE(has_error(r, 13, 21, "max_header_bytes: must be at least 1024, got 100"));
    ASSERT_EQ(r.errors.size(), 6u) << test::all_errors(r);
    for (std::size_t i = 1; i < r.errors.size(); ++i) {
        EXPECT_LT(r.errors[i - 1].line, r.errors[i].line) << test::all_errors(r);
    }
}

TEST(error, to_string_is_file_line_column_message) {
    const error e{"conf/tracegate.yaml", 12, 7, "unknown key \"x\" in route"};
    EXPECT_EQ(e.to_string(), "conf/tracegate.yaml:12:7: unknown key \"x\" in route");
}

class load_file_test : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("tracegate-config-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, std::string_view text) {
        const auto path = dir_ / name;
        std::ofstream(path) << text;
        return path.string();
    }

    std::filesystem::path dir_;
};

TEST_F(load_file_test, reads_a_file_and_names_it_as_source) {
    const std::string path = write("ok.yaml", embedded_default_yaml());
    const load_result r = load_file(path, test::fake_env());
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->source, path);
    EXPECT_EQ(r.value->service_name, "tracegate");
}

TEST_F(load_file_test, errors_name_the_file) {
    const std::string path = write("bad.yaml", "workers: 2000\nlisteners: []\n");
    const load_result r = load_file(path, test::fake_env());
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 10, "workers: must be at most 1024, got 2000"));
    for (const error& e : r.errors) {
        EXPECT_EQ(e.file, path);
        EXPECT_EQ(e.to_string().rfind(path + ":", 0), 0u) << e.to_string();
    }
}

TEST_F(load_file_test, missing_file_is_one_error_at_line_1_with_the_os_reason) {
    const std::string path = (dir_ / "does-not-exist.yaml").string();
    const load_result r = load_file(path, test::fake_env());
    ASSERT_FALSE(r);
    ASSERT_EQ(r.errors.size(), 1u) << test::all_errors(r);
    EXPECT_EQ(r.errors[0].file, path);
    EXPECT_EQ(r.errors[0].line, 1);
    EXPECT_EQ(r.errors[0].column, 1);
    EXPECT_NE(r.errors[0].message.find("No such file or directory"), std::string::npos)
        << r.errors[0].message;
}

TEST_F(load_file_test, directory_is_unreadable_with_the_os_reason) {
    const load_result r = load_file(dir_.string(), test::fake_env());
    ASSERT_FALSE(r);
    ASSERT_EQ(r.errors.size(), 1u) << test::all_errors(r);
    EXPECT_EQ(r.errors[0].line, 1);
    EXPECT_NE(r.errors[0].message.find("Is a directory"), std::string::npos) << r.errors[0].message;
}

}  // namespace
}  // namespace tracegate::config
