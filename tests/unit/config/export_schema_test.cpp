// `tracing.export`, `tracing.exporters`, `tracing.store`, and the OpenTelemetry exporter
// and resource environment variables.
#include "config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace tracegate::config {
namespace {

using test::has_error;
using test::has_only_error;
using kind = exporter_config::kind;
using namespace std::chrono_literals;

// Lines 1-3 are fixed; what is under `tracing:` starts on line 4, indented by two.
load_result load_tracing(std::string_view body, std::map<std::string, std::string> env = {}) {
    if (body.starts_with('\n')) body.remove_prefix(1);
    return test::load(std::string(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
tracing:
)") + std::string(body) + "\n",
                      std::move(env));
}

constexpr std::string_view minimal = R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)";

/// A file with `content` that lives as long as the test.
struct temp_file {
    explicit temp_file(std::string_view content) {
        path = (std::filesystem::temp_directory_path() /
                ("tracegate-cfg-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
                   .string();
        std::ofstream(path) << content;
    }
    ~temp_file() { std::filesystem::remove(path); }
    static inline int counter = 0;
    std::string path;
};

TEST(export_config, defaults_are_the_in_memory_store_and_the_documented_bounds) {
    const load_result r = test::load(minimal);
    ASSERT_TRUE(r) << test::all_errors(r);
    const tracing_config& t = r.value->tracing;
    EXPECT_TRUE(t.exporters.empty());
    EXPECT_EQ(t.exporting.max_queue_spans, 8192u);
    EXPECT_EQ(t.exporting.max_batch_spans, 512u);
    EXPECT_EQ(t.exporting.flush_interval, 1s);
    EXPECT_EQ(t.exporting.shutdown_timeout, 5s);
    EXPECT_EQ(t.store.max_traces, 1000u);
    EXPECT_EQ(t.store.max_bytes, 64u << 20);
}

TEST(export_config, every_exporter_type_parses_with_its_keys) {
    temp_file token("ya29.token\n");
    const load_result r = load_tracing(R"(
  export: {max_queue_spans: 100, max_batch_spans: 10, flush_interval: 200ms, shutdown_timeout: 2s}
  store: {max_traces: 50, max_bytes: 1048576}
  exporters:
    - type: otlp
      endpoint: https://collector:4318/v1/traces
      encoding: json
      compression: gzip
      headers: {authorization: "Bearer ${TOKEN}", x-tenant: blue}
      timeout: 3s
    - type: zipkin
    - type: cloudtrace
      project_id: my-project
      token_file: )" + token.path + R"(
    - type: file
      path: spans.jsonl
    - type: memory
)",
                                       {{"TOKEN", "s3cret"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    const tracing_config& t = r.value->tracing;
    EXPECT_EQ(t.exporting.max_queue_spans, 100u);
    EXPECT_EQ(t.exporting.max_batch_spans, 10u);
    EXPECT_EQ(t.exporting.flush_interval, 200ms);
    EXPECT_EQ(t.exporting.shutdown_timeout, 2s);
    EXPECT_EQ(t.store.max_traces, 50u);
    EXPECT_EQ(t.store.max_bytes, 1048576u);
    ASSERT_EQ(t.exporters.size(), 5u);
    const exporter_config& otlp = t.exporters[0];
    EXPECT_EQ(otlp.type, kind::otlp);
    EXPECT_EQ(otlp.endpoint, "https://collector:4318/v1/traces");
    EXPECT_EQ(otlp.otlp_encoding, exporter_config::encoding::json);
    EXPECT_TRUE(otlp.gzip);
    EXPECT_EQ(otlp.timeout, 3s);
    const std::vector<std::pair<std::string, std::string>> headers{{"authorization", "Bearer s3cret"},
                                                                   {"x-tenant", "blue"}};
    EXPECT_EQ(otlp.headers, headers);
    EXPECT_EQ(otlp.origin, "test.yaml:7");
    EXPECT_EQ(t.exporters[1].type, kind::zipkin);
    EXPECT_EQ(t.exporters[1].endpoint, "http://localhost:9411/api/v2/spans");
    EXPECT_EQ(t.exporters[2].type, kind::cloudtrace);
    EXPECT_EQ(t.exporters[2].project_id, "my-project");
    EXPECT_EQ(t.exporters[2].endpoint, "https://cloudtrace.googleapis.com");
    EXPECT_EQ(t.exporters[2].token_file, token.path);
    EXPECT_EQ(t.exporters[3].type, kind::file);
    EXPECT_EQ(t.exporters[3].path, "spans.jsonl");
    EXPECT_EQ(t.exporters[4].type, kind::memory);
}

TEST(export_config, otlp_defaults_to_local_protobuf_without_compression) {
    const load_result r = load_tracing("  exporters: [{type: otlp}]");
    ASSERT_TRUE(r) << test::all_errors(r);
    const exporter_config& e = r.value->tracing.exporters.at(0);
    EXPECT_EQ(e.endpoint, "http://localhost:4318/v1/traces");
    EXPECT_EQ(e.otlp_encoding, exporter_config::encoding::protobuf);
    EXPECT_FALSE(e.gzip);
    EXPECT_EQ(e.timeout, 10s);
}

TEST(export_config, tracing_file_is_a_file_exporter_listed_first) {
    const load_result r = load_tracing("  exporters: [{type: memory}]\n  file: out.jsonl");
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->tracing.exporters.size(), 2u);
    EXPECT_EQ(r.value->tracing.exporters[0].type, kind::file);
    EXPECT_EQ(r.value->tracing.exporters[0].path, "out.jsonl");
    EXPECT_EQ(r.value->tracing.exporters[1].type, kind::memory);
}

TEST(export_errors, unknown_type_suggests_the_nearest) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: zipkn"), 5, 13,
                               "unknown exporter type \"zipkn\" (expected otlp, zipkin, cloudtrace, file or memory); "
                               "did you mean \"zipkin\"?"));
}

TEST(export_errors, missing_type_is_reported_at_the_item) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - endpoint: http://x:1/"), 5, 7,
                               "missing required key \"type\""));
}

TEST(export_errors, a_key_of_another_type_is_named) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: zipkin\n      encoding: json"), 6, 17,
                               "encoding: does not apply to a zipkin exporter"));
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: file\n      path: x\n      endpoint: http://a/"),
                               7, 17, "endpoint: does not apply to a file exporter"));
}

TEST(export_errors, bad_endpoints_say_what_is_wrong) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters: [{type: otlp, endpoint: 'collector:4318'}]"), 4, 38,
                               "must start with http:// or https://"));
    EXPECT_TRUE(has_only_error(load_tracing("  exporters: [{type: otlp, endpoint: 'http://:4318/v1/traces'}]"), 4,
                               38, "has no host"));
    EXPECT_TRUE(has_only_error(load_tracing("  exporters: [{type: otlp, endpoint: 'http://c:99999/'}]"), 4, 38,
                               "invalid port \"99999\""));
}

TEST(export_errors, encoding_and_compression_values_are_checked) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters: [{type: otlp, encoding: grpc}]"), 4, 38,
                               "encoding: expected protobuf or json, got \"grpc\""));
    EXPECT_TRUE(has_only_error(load_tracing("  exporters: [{type: otlp, compression: zstd}]"), 4, 41,
                               "compression: expected gzip or none, got \"zstd\""));
}

TEST(export_errors, header_names_and_values_are_checked) {
    EXPECT_TRUE(has_error(load_tracing("  exporters: [{type: otlp, headers: {'bad name': x}}]"), 4, 38,
                          "\"bad name\" is not a valid header name"));
    EXPECT_TRUE(has_error(load_tracing("  exporters: [{type: otlp, headers: x}]"), 4, 37,
                          "headers: expected a map"));
}

TEST(export_errors, cloudtrace_needs_a_project_and_exactly_one_token_source) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: cloudtrace\n      token_env: T", {{"T", "x"}}),
                               5, 7, "cloudtrace needs \"project_id\""));
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: cloudtrace\n      project_id: p"), 5, 7,
                               "needs one of \"token_file\", \"token_env\" or \"metadata_server\""));
    EXPECT_TRUE(has_only_error(
        load_tracing("  exporters:\n    - type: cloudtrace\n      project_id: p\n      token_env: T\n"
                     "      metadata_server: http://169.254.169.254",
                     {{"T", "x"}}),
        5, 7, "takes only one of"));
}

TEST(export_errors, cloudtrace_project_may_come_from_the_environment) {
    const load_result r = load_tracing("  exporters:\n    - type: cloudtrace\n      token_env: T",
                                       {{"T", "x"}, {"GOOGLE_CLOUD_PROJECT", "from-env"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->tracing.exporters.at(0).project_id, "from-env");
}

TEST(export_errors, a_missing_or_unreadable_token_is_a_config_error) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: cloudtrace\n      project_id: p\n"
                                            "      token_file: /nonexistent/token"),
                               7, 19, "token_file: cannot read \"/nonexistent/token\""));
    temp_file empty("");
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: cloudtrace\n      project_id: p\n"
                                            "      token_file: " + empty.path),
                               7, 19, "token_file: cannot read"));
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: cloudtrace\n      project_id: p\n"
                                            "      token_env: GCP_TOKEN"),
                               7, 18, "token_env: environment variable \"GCP_TOKEN\" is not set or empty"));
}

TEST(export_errors, unreadable_ca_file_is_a_config_error) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters: [{type: otlp, ca_file: /nonexistent/ca.pem}]"), 4, 37,
                               "ca_file: cannot read \"/nonexistent/ca.pem\""));
}

TEST(export_errors, file_exporter_needs_a_path_and_one_writer_per_path) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: file"), 5, 7, "file needs \"path\""));
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - {type: file, path: a}\n    - {type: file, path: a}"),
                               6, 7, "file \"a\" is already written by the exporter at line 5"));
}

TEST(export_errors, a_second_memory_exporter_is_an_error) {
    EXPECT_TRUE(has_only_error(load_tracing("  exporters:\n    - type: memory\n    - type: memory"), 6, 7,
                               "a second memory exporter (first at line 5)"));
}

TEST(export_errors, bounds_must_be_positive) {
    EXPECT_TRUE(has_only_error(load_tracing("  export: {max_queue_spans: 0}"), 4, 29,
                               "max_queue_spans: must be at least 1"));
    EXPECT_TRUE(has_only_error(load_tracing("  export: {flush_interval: 0}"), 4, 28,
                               "flush_interval: must be greater than 0"));
    EXPECT_TRUE(has_only_error(load_tracing("  store: {max_bytes: 100}"), 4, 22, "max_bytes: must be at least 4096"));
    EXPECT_TRUE(has_only_error(load_tracing("  export: {max_queue_span: 5}"), 4, 12, "did you mean \"max_queue_spans\""));
}

// ---------------------------------------------------------------------------------------
// OpenTelemetry environment variables

TEST(otel_export_env, an_otlp_endpoint_in_the_environment_adds_an_otlp_exporter) {
    const load_result r = test::load(minimal, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector:4318"},
                                               {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc%20def, x-tenant=blue"},
                                               {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                                               {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                                               {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->tracing.exporters.size(), 1u);
    const exporter_config& e = r.value->tracing.exporters[0];
    EXPECT_EQ(e.type, kind::otlp);
    EXPECT_EQ(e.endpoint, "http://otel-collector:4318/v1/traces");
    const std::vector<std::pair<std::string, std::string>> headers{{"api-key", "abc def"}, {"x-tenant", "blue"}};
    EXPECT_EQ(e.headers, headers);
    EXPECT_EQ(e.otlp_encoding, exporter_config::encoding::json);
    EXPECT_TRUE(e.gzip);
    EXPECT_EQ(e.timeout, 2500ms);
}

TEST(otel_export_env, the_traces_endpoint_is_used_as_is_and_wins) {
    const load_result r = test::load(minimal, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
                                               {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"},
                                               {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"},
                                               {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->tracing.exporters.at(0).endpoint, "http://b:4318/custom");
    EXPECT_EQ(r.value->tracing.exporters.at(0).otlp_encoding, exporter_config::encoding::protobuf);
}

TEST(otel_export_env, the_file_wins_over_the_environment_key_by_key) {
    const load_result r = load_tracing("  exporters: [{type: otlp, endpoint: 'http://file:4318/v1/traces'}]",
                                       {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"},
                                        {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->tracing.exporters.size(), 1u);
    EXPECT_EQ(r.value->tracing.exporters[0].endpoint, "http://file:4318/v1/traces");
    EXPECT_TRUE(r.value->tracing.exporters[0].gzip);  // the file left compression unset
}

TEST(otel_export_env, an_exporters_list_in_the_file_is_not_extended) {
    const load_result r = load_tracing("  exporters: [{type: memory}]",
                                       {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->tracing.exporters.size(), 1u);
    EXPECT_EQ(r.value->tracing.exporters[0].type, kind::memory);
}

TEST(otel_export_env, traces_exporter_names_the_exporters) {
    const load_result r = test::load(minimal, {{"OTEL_TRACES_EXPORTER", "zipkin,console"},
                                               {"OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://zipkin:9411/api/v2/spans"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->tracing.exporters.size(), 2u);
    EXPECT_EQ(r.value->tracing.exporters[0].type, kind::zipkin);
    EXPECT_EQ(r.value->tracing.exporters[0].endpoint, "http://zipkin:9411/api/v2/spans");
    EXPECT_EQ(r.value->tracing.exporters[1].type, kind::file);
    EXPECT_EQ(r.value->tracing.exporters[1].path, "-");

    const load_result none = test::load(minimal, {{"OTEL_TRACES_EXPORTER", "none"},
                                                  {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"}});
    ASSERT_TRUE(none) << test::all_errors(none);
    EXPECT_TRUE(none.value->tracing.exporters.empty());
}

TEST(otel_export_env, bad_values_are_errors_naming_the_variable) {
    EXPECT_TRUE(has_only_error(test::load(minimal, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
                                                    {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}}),
                               1, 1, "OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported"));
    EXPECT_TRUE(has_only_error(test::load(minimal, {{"OTEL_TRACES_EXPORTER", "jaeger"}}), 1, 1,
                               "OTEL_TRACES_EXPORTER: unsupported exporter \"jaeger\""));
    EXPECT_TRUE(has_only_error(test::load(minimal, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4318"}}), 1, 1,
                               "must start with http:// or https://"));
    EXPECT_TRUE(has_only_error(test::load(minimal, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
                                                    {"OTEL_EXPORTER_OTLP_HEADERS", "novalue"}}),
                               1, 1, "OTEL_EXPORTER_OTLP_HEADERS: entry \"novalue\" has no \"=\""));
    EXPECT_TRUE(has_only_error(test::load(minimal, {{"OTEL_BSP_MAX_QUEUE_SIZE", "lots"}}), 1, 1,
                               "OTEL_BSP_MAX_QUEUE_SIZE: expected a positive integer"));
}

TEST(otel_export_env, resource_attributes_are_decoded_and_may_name_the_service) {
    const load_result r = test::load(minimal, {{"OTEL_RESOURCE_ATTRIBUTES",
                                                "service.name=cart, deployment.environment=prod,team=a%2Cb"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->service_name, "cart");
    const std::vector<std::pair<std::string, std::string>> expected{{"deployment.environment", "prod"},
                                                                    {"team", "a,b"}};
    EXPECT_EQ(r.value->tracing.resource_attributes, expected);

    const load_result named = test::load(minimal, {{"OTEL_RESOURCE_ATTRIBUTES", "service.name=cart"},
                                                   {"OTEL_SERVICE_NAME", "checkout"}});
    ASSERT_TRUE(named) << test::all_errors(named);
    EXPECT_EQ(named.value->service_name, "checkout");
}

TEST(otel_export_env, batch_processor_variables_apply_where_the_file_is_silent) {
    const load_result r = load_tracing("  export: {max_batch_spans: 64}",
                                       {{"OTEL_BSP_MAX_QUEUE_SIZE", "2048"},
                                        {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "128"},
                                        {"OTEL_BSP_SCHEDULE_DELAY", "250"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->tracing.exporting.max_queue_spans, 2048u);
    EXPECT_EQ(r.value->tracing.exporting.max_batch_spans, 64u);
    EXPECT_EQ(r.value->tracing.exporting.flush_interval, 250ms);
}

}  // namespace
}  // namespace tracegate::config
