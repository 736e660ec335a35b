// `admin`, `access_log`, and the effective config written back out (GET /config).
#include "config/dump.hpp"
#include "config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tracegate::config {
namespace {

using test::has_only_error;

constexpr std::string_view minimal = R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)";

load_result load_with(std::string_view extra) { return test::load(std::string(minimal) + std::string(extra)); }

TEST(admin_config, defaults_to_loopback_9901_and_no_access_log) {
    const load_result r = test::load(minimal);
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_TRUE(r.value->admin.enabled);
    EXPECT_EQ(r.value->admin.bind.to_string(), "127.0.0.1:9901");
    EXPECT_FALSE(r.value->access_log.enabled);
}

TEST(admin_config, address_enabled_and_receive_limit_are_read) {
    const load_result r = load_with("admin: {address: '[::1]:0', enabled: false, max_receive_bytes: 1024}\n");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_FALSE(r.value->admin.enabled);
    EXPECT_EQ(r.value->admin.bind.host, "::1");
    EXPECT_EQ(r.value->admin.bind.port, 0);
    EXPECT_EQ(r.value->admin.max_receive_bytes, 1024u);
}

TEST(admin_config, errors_name_the_position) {
    EXPECT_TRUE(has_only_error(load_with("admin: {address: 'localhost:9901'}\n"), 3, 18,
                               "address: admin host \"localhost\" must be an IP address"));
    EXPECT_TRUE(has_only_error(load_with("admin: {adress: 127.0.0.1:1}\n"), 3, 9, "did you mean \"address\"?"));
    EXPECT_TRUE(has_only_error(load_with("admin: {max_receive_bytes: 0}\n"), 3, 28, "must be at least 1"));
}

TEST(access_log_config, present_section_turns_it_on_with_stdout_text_by_default) {
    const load_result r = load_with("access_log: {}\n");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_TRUE(r.value->access_log.enabled);
    EXPECT_EQ(r.value->access_log.path, "-");
    EXPECT_EQ(r.value->access_log.style, access_log_config::format::text);
    const load_result j = load_with("access_log: {path: /var/log/tg.log, format: json}\n");
    ASSERT_TRUE(j) << test::all_errors(j);
    EXPECT_EQ(j.value->access_log.path, "/var/log/tg.log");
    EXPECT_EQ(j.value->access_log.style, access_log_config::format::json);
}

TEST(access_log_config, bad_format_is_an_error_with_position) {
    EXPECT_TRUE(has_only_error(load_with("access_log: {format: xml}\n"), 3, 22,
                               "format: expected text or json, got \"xml\""));
}

constexpr std::string_view full = R"(
service_name: checkout
workers: 2
listeners:
  - {name: public, address: 0.0.0.0:8080, trust_incoming_trace: false, response_header: true}
upstreams:
  - {name: app, endpoints: [127.0.0.1:9000, 127.0.0.1:9001], lb: least_request, connect_timeout: 1500ms}
  - {name: other, endpoints: [127.0.0.1:9002]}
routes:
  - name: api
    match: {host: api.example.com, path_prefix: /v1/, methods: [GET, POST], headers: {x-tenant: blue}}
    upstream: app
    timeout: 2m
    span_name: "{method} {path}"
    tags: [{name: team, literal: payments}, {name: ua, header: user-agent}]
  - {name: rest, match: {path_regex: "/x/[0-9]+"}, upstream: other}
limits: {max_header_bytes: 8192, idle_timeout: 30s, max_body_bytes: 1048576}
tracing:
  propagation: {extract: [b3, tracecontext], inject: [tracecontext, b3multi]}
  sampling: {ratio: 0.25, force_header: x-trace-me, max_per_second: 50, keep: {errors: false, slower_than: 2s}}
  exporters:
    - {type: otlp, endpoint: "http://127.0.0.1:4318/v1/traces", encoding: json, compression: gzip,
       headers: {authorization: "Bearer s3cret"}, timeout: 3s}
    - {type: memory}
  export: {max_queue_spans: 100, max_batch_spans: 10, flush_interval: 250ms}
  store: {max_traces: 20, max_bytes: 100000}
admin: {address: 127.0.0.1:19901}
access_log: {path: "-", format: json}
)";

TEST(config_dump, yaml_loads_back_to_the_same_effective_config) {
    const load_result first = test::load(full);
    ASSERT_TRUE(first) << test::all_errors(first);
    const std::string yaml = dump_yaml(*first.value);
    const load_result again = load_string(yaml, "dump.yaml", [](const std::string&) { return std::nullopt; });
    ASSERT_TRUE(again) << test::all_errors(again) << "\n" << yaml;
    EXPECT_EQ(dump_yaml(*again.value), yaml);
    EXPECT_EQ(dump_json(*again.value), dump_json(*first.value));
    EXPECT_EQ(again.value->routes.at(0).match.path_prefix, "/v1/");
    EXPECT_EQ(again.value->tracing.sampling.ratio, 0.25);
    EXPECT_EQ(again.value->upstreams.at(0).connect_timeout, std::chrono::milliseconds(1500));
}

TEST(config_dump, exporter_header_values_are_redacted_in_both_forms) {
    const load_result r = test::load(full);
    ASSERT_TRUE(r) << test::all_errors(r);
    for (const std::string& text : {dump_yaml(*r.value), dump_json(*r.value)}) {
        EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
        EXPECT_NE(text.find("authorization"), std::string::npos);
        EXPECT_NE(text.find(redacted), std::string::npos);
    }
}

}  // namespace
}  // namespace tracegate::config
