// The tracing parts of the config: `tracing:`, listeners' trust_incoming_trace, routes'
// span_name and tags, and OpenTelemetry's OTEL_* environment variables.
#include "config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace tracegate::config {
namespace {

using test::has_error;
using test::has_only_error;
using strings = std::vector<std::string>;

// Lines 1-3 are fixed; what is under `tracing:` starts on line 4, indented by two
// (a raw string's first newline is dropped, as test::yaml() does).
load_result load_tracing(std::string_view body, std::map<std::string, std::string> env = {}) {
    if (body.starts_with('\n')) body.remove_prefix(1);
    return test::load(std::string(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
tracing:
)") + std::string(body) + "\n",
                      std::move(env));
}

// Lines 1-5 are fixed (a route with upstream and name); `keys` is line 6, indented by four.
load_result load_route(std::string_view keys) {
    return test::load(std::string(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
routes:
  - upstream: app
    name: r
)") + std::string(keys) + "\n");
}

constexpr std::string_view minimal = R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)";

// ---------------------------------------------------------------------------------------
// Defaults and a full block

TEST(tracing_config, defaults_when_tracing_is_absent) {
    const load_result r = test::load(minimal);
    ASSERT_TRUE(r) << test::all_errors(r);
    const tracing_config& t = r.value->tracing;
    EXPECT_EQ(t.extract, (strings{"tracecontext", "b3multi", "b3", "jaeger", "cloudtrace", "xray"}));
    EXPECT_EQ(t.inject, strings{"tracecontext"});
    EXPECT_TRUE(t.upstream_span);
    EXPECT_TRUE(t.response_header);
    EXPECT_EQ(t.request_id_header, "x-request-id");
    EXPECT_FALSE(t.record_query);
    EXPECT_EQ(t.max_tag_value_bytes, 256u);
    EXPECT_EQ(t.sampling.ratio, 1.0);
    EXPECT_TRUE(t.sampling.parent_based);
    EXPECT_EQ(t.sampling.force_header, std::nullopt);
    EXPECT_EQ(t.sampling.max_per_second, std::nullopt);
    EXPECT_TRUE(t.sampling.keep_errors);
    EXPECT_EQ(t.sampling.keep_slower_than, duration{0});
    EXPECT_TRUE(t.tags.empty());
    EXPECT_EQ(t.file, std::nullopt);
    EXPECT_TRUE(r.value->listeners.at(0).trust_incoming_trace);
    // The synthesized catch-all route has the default span name and no tags.
    EXPECT_EQ(r.value->routes.at(0).span_name, "{method} {route}");
    EXPECT_TRUE(r.value->routes.at(0).tags.empty());
}

TEST(tracing_config, empty_tracing_key_keeps_every_default) {
    const load_result r = load_tracing("");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->tracing.extract.size(), 6u);
    EXPECT_EQ(r.value->tracing.inject, strings{"tracecontext"});
    EXPECT_EQ(r.value->tracing.sampling.ratio, 1.0);
}

TEST(tracing_config, full_block_parses_into_expected_values) {
    const load_result r = test::load(R"(
listeners:
  - name: public
    address: 0.0.0.0:8080
    trust_incoming_trace: false
    response_header: true
  - name: internal
    address: 127.0.0.1:8081
    trust_incoming_trace: true
upstreams: [{name: app}]
routes:
  - name: stats
    upstream: app
    span_name: "TaskQueue.Stats {method} {path} {host} {route}"
    tags: [{name: user, header: X-User-Id}]
  - name: rest
    upstream: app
tracing:
  propagation:
    extract: [b3, tracecontext, baggage]
    inject: [tracecontext, xray]
  upstream_span: false
  response_header: false
  request_id_header: X-Correlation-ID
  record_query: true
  max_tag_value_bytes: 64
  sampling:
    ratio: 0.25
    parent_based: false
    force_header: X-Tracegate-Force-Sample
    max_per_second: 2.5
    keep: {errors: false, slower_than: 2s}
  tags:
    - {name: tenant, header: x-tenant}
    - {name: region, literal: eu-west-1}
    - {name: pod, env: POD_NAME}
    - {name: zone, env: "ZONE:-unknown"}
    - {name: build, literal: "${BUILD:-dev}"}
  file: spans.jsonl
)",
                                     {{"POD_NAME", "pod-7"}, {"BUILD", "b42"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    const settings& s = *r.value;
    EXPECT_FALSE(s.listeners.at(0).trust_incoming_trace);
    EXPECT_TRUE(s.listeners.at(1).trust_incoming_trace);
    EXPECT_EQ(s.listeners.at(0).response_header, std::optional<bool>(true));
    EXPECT_EQ(s.listeners.at(1).response_header, std::nullopt) << "absent: the tracing default";

    EXPECT_EQ(s.routes.at(0).span_name, "TaskQueue.Stats {method} {path} {host} {route}");
    EXPECT_EQ(s.routes.at(0).tags,
              (std::vector<tag_config>{{"user", tag_config::source::header, "x-user-id"}}));
    EXPECT_EQ(s.routes.at(1).span_name, "{method} {route}");
    EXPECT_TRUE(s.routes.at(1).tags.empty());

    const tracing_config& t = s.tracing;
    EXPECT_EQ(t.extract, (strings{"b3", "tracecontext", "baggage"}));
    EXPECT_EQ(t.inject, (strings{"tracecontext", "xray"}));
    EXPECT_FALSE(t.upstream_span);
    EXPECT_FALSE(t.response_header);
    EXPECT_EQ(t.request_id_header, "x-correlation-id");
    EXPECT_TRUE(t.record_query);
    EXPECT_EQ(t.max_tag_value_bytes, 64u);
    EXPECT_EQ(t.sampling.ratio, 0.25);
    EXPECT_FALSE(t.sampling.parent_based);
    EXPECT_EQ(t.sampling.force_header, "x-tracegate-force-sample");
    EXPECT_EQ(t.sampling.max_per_second, 2.5);
    EXPECT_FALSE(t.sampling.keep_errors);
    EXPECT_EQ(t.sampling.keep_slower_than, duration{2000});
    EXPECT_EQ(t.tags, (std::vector<tag_config>{
                          {"tenant", tag_config::source::header, "x-tenant"},
                          {"region", tag_config::source::literal, "eu-west-1"},
                          {"pod", tag_config::source::env, "pod-7"},
                          {"zone", tag_config::source::env, "unknown"},
                          {"build", tag_config::source::literal, "b42"},
                      }));
    EXPECT_EQ(t.file, "spans.jsonl");
}

TEST(tracing_config, none_alone_turns_a_list_off) {
    const load_result r = load_tracing(R"(  propagation: {extract: [none], inject: [none]})");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_TRUE(r.value->tracing.extract.empty());
    EXPECT_TRUE(r.value->tracing.inject.empty());
}

TEST(tracing_config, every_format_name_is_accepted) {
    const load_result r = load_tracing(
        "  propagation: {extract: [tracecontext, baggage, b3, b3multi, jaeger, cloudtrace, xray]}");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->tracing.extract,
              (strings{"tracecontext", "baggage", "b3", "b3multi", "jaeger", "cloudtrace", "xray"}));
}

TEST(tracing_config, sampling_bounds_and_stdout_file_are_accepted) {
    const load_result r = load_tracing(R"(
  file: "-"
  sampling: {ratio: 0, max_per_second: 0.5, keep: {slower_than: 0}})");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->tracing.file, "-");
    EXPECT_EQ(r.value->tracing.sampling.ratio, 0.0);
    EXPECT_EQ(r.value->tracing.sampling.max_per_second, 0.5);
    EXPECT_EQ(r.value->tracing.sampling.keep_slower_than, duration{0});
    EXPECT_EQ(load_tracing("  sampling: {ratio: 1}").value->tracing.sampling.ratio, 1.0);
}

TEST(tracing_config, the_same_tag_name_may_appear_globally_and_on_a_route) {
    const load_result r = test::load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
routes: [{name: r, upstream: app, tags: [{name: t, literal: route}]}]
tracing: {tags: [{name: t, literal: global}]}
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->routes.at(0).tags.at(0).value, "route");
    EXPECT_EQ(r.value->tracing.tags.at(0).value, "global");
}

// ---------------------------------------------------------------------------------------
// Errors, each at its position

TEST(tracing_errors, unknown_keys_suggest_the_nearest) {
    const load_result r = test::load(R"(
listeners: [{name: l, address: 127.0.0.1:0, trust_incoming_traces: false}]
upstreams: [{name: app}]
routes: [{name: r, upstream: app, spanname: x}]
tracing:
  propagaton: {}
  sampling: {ration: 0.5, keep: {error: true}}
  tags: [{name: a, headr: x}]
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 45, "unknown key \"trust_incoming_traces\" in listener; did you mean \"trust_incoming_trace\"?"));
    EXPECT_TRUE(has_error(r, 3, 35, "unknown key \"spanname\" in route; did you mean \"span_name\"?"));
    EXPECT_TRUE(has_error(r, 5, 3, "unknown key \"propagaton\" in tracing; did you mean \"propagation\"?"));
    EXPECT_TRUE(has_error(r, 6, 14, "unknown key \"ration\" in sampling; did you mean \"ratio\"?"));
    EXPECT_TRUE(has_error(r, 6, 34, "unknown key \"error\" in keep; did you mean \"errors\"?"));
    EXPECT_TRUE(has_error(r, 7, 20, "unknown key \"headr\" in tag; did you mean \"header\"?"));
    // The tag whose only source is misspelt also has no source.
    EXPECT_TRUE(has_error(r, 7, 10, "tag: needs one of \"header\", \"literal\", \"env\" or \"client_certificate\""));
    EXPECT_EQ(r.errors.size(), 7u) << test::all_errors(r);
}

TEST(tracing_errors, unknown_propagation_format_is_reported_at_its_item_with_a_suggestion) {
    const load_result r = load_tracing(R"(
  propagation:
    extract: [tracecontext, b3mutli]
    inject:
      - tracecontext
      - zipkin)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 5, 29, "extract: unknown propagation format \"b3mutli\""));
    EXPECT_TRUE(has_error(r, 5, 29, "did you mean \"b3multi\"?"));
    EXPECT_TRUE(has_error(r, 8, 9, "inject: unknown propagation format \"zipkin\" (expected tracecontext, baggage, b3, b3multi, jaeger, cloudtrace, xray, or none)"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(tracing_errors, duplicate_propagation_format_is_an_error) {
    const load_result r = load_tracing(R"(
  propagation:
    extract: [b3, tracecontext, b3])");
    EXPECT_TRUE(has_only_error(r, 5, 33, "extract: \"b3\" is listed twice (first at line 5)"));
}

TEST(tracing_errors, none_must_be_alone) {
    const load_result r = load_tracing(R"(
  propagation:
    inject: [tracecontext, none])");
    EXPECT_TRUE(has_only_error(r, 5, 28, "inject: \"none\" must be the only entry when present"));
}

TEST(tracing_errors, empty_format_list_is_an_error) {
    const load_result r = load_tracing(R"(
  propagation:
    extract: []
    inject:)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 5, 14, "extract: must name at least one format, or be [none]"));
    EXPECT_TRUE(has_error(r, 6, 5, "inject: must name at least one format"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(tracing_errors, format_list_that_is_not_a_list_is_a_type_error) {
    const load_result r = load_tracing("  propagation: {extract: tracecontext}");
    EXPECT_TRUE(has_only_error(r, 4, 26, "extract: expected a list, got \"tracecontext\""));
}

TEST(tracing_errors, ratio_outside_zero_to_one_is_an_error) {
    EXPECT_TRUE(has_only_error(load_tracing("  sampling: {ratio: 1.5}"), 4, 21,
                               "ratio: must be from 0 to 1, got 1.5"));
    EXPECT_TRUE(has_only_error(load_tracing("  sampling: {ratio: -0.1}"), 4, 21,
                               "ratio: must be from 0 to 1, got -0.1"));
}

TEST(tracing_errors, ratio_that_is_not_a_number_is_an_error) {
    EXPECT_TRUE(has_only_error(load_tracing("  sampling: {ratio: half}"), 4, 21,
                               "ratio: expected a number, got \"half\""));
    EXPECT_TRUE(has_only_error(load_tracing("  sampling: {ratio: nan}"), 4, 21,
                               "ratio: expected a number, got \"nan\""));
    EXPECT_TRUE(has_only_error(load_tracing("  sampling:\n    ratio:"), 5, 5,
                               "ratio: expected a number, got nothing"));
}

TEST(tracing_errors, max_per_second_must_be_positive) {
    EXPECT_TRUE(has_only_error(load_tracing("  sampling: {max_per_second: 0}"), 4, 30,
                               "max_per_second: must be greater than 0, got 0"));
    EXPECT_TRUE(has_only_error(load_tracing("  sampling: {max_per_second: -3}"), 4, 30,
                               "max_per_second: must be greater than 0, got -3"));
}

TEST(tracing_errors, booleans_must_be_true_or_false) {
    const load_result r = test::load(R"(
listeners: [{name: l, address: 127.0.0.1:0, trust_incoming_trace: no}]
upstreams: [{name: app}]
tracing:
  upstream_span: yes
  sampling: {parent_based: 1, keep: {errors: maybe}}
)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 1, 67, "trust_incoming_trace: expected true or false, got \"no\""));
    EXPECT_TRUE(has_error(r, 4, 18, "upstream_span: expected true or false, got \"yes\""));
    EXPECT_TRUE(has_error(r, 5, 28, "parent_based: expected true or false, got \"1\""));
    EXPECT_TRUE(has_error(r, 5, 46, "errors: expected true or false, got \"maybe\""));
    EXPECT_EQ(r.errors.size(), 4u) << test::all_errors(r);
}

TEST(tracing_errors, bad_slower_than_duration_is_an_error) {
    EXPECT_TRUE(has_only_error(load_tracing("  sampling: {keep: {slower_than: 1.5s}}"), 4, 34,
                               "slower_than: invalid duration \"1.5s\""));
}

TEST(tracing_errors, header_names_must_be_tokens) {
    const load_result r = load_tracing(R"(
  request_id_header: "x request id"
  sampling: {force_header: "x-force:"}
  tags: [{name: t, header: "a b"}])");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 4, 22, "request_id_header: \"x request id\" is not a valid header name"));
    EXPECT_TRUE(has_error(r, 5, 28, "force_header: \"x-force:\" is not a valid header name"));
    EXPECT_TRUE(has_error(r, 6, 28, "header: \"a b\" is not a valid header name"));
    EXPECT_EQ(r.errors.size(), 3u) << test::all_errors(r);
}

TEST(tracing_errors, empty_header_names_are_errors) {
    const load_result r = load_tracing(R"(
  request_id_header: ""
  sampling:
    force_header:)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 4, 22, "request_id_header: must not be empty"));
    EXPECT_TRUE(has_error(r, 6, 5, "force_header: must not be empty"));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(tracing_errors, max_tag_value_bytes_must_be_at_least_one) {
    EXPECT_TRUE(has_only_error(load_tracing("  max_tag_value_bytes: 0"), 4, 24,
                               "max_tag_value_bytes: must be at least 1, got 0"));
    EXPECT_TRUE(has_only_error(load_tracing("  max_tag_value_bytes: 4294967296"), 4, 24,
                               "max_tag_value_bytes: must be at most 4294967295"));
}

TEST(tracing_errors, empty_file_is_an_error) {
    EXPECT_TRUE(has_only_error(load_tracing("  file: \"\""), 4, 9, "file: must not be empty"));
}

TEST(tracing_errors, tag_without_name_or_source_is_an_error) {
    const load_result r = load_tracing(R"(
  tags:
    - {header: x-tenant}
    - {name: ""}
    - name: lonely)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 5, 7, "tag: missing required key \"name\""));
    EXPECT_TRUE(has_error(r, 6, 14, "tag: \"name\" must not be empty"));
    EXPECT_TRUE(has_error(r, 6, 7, "tag: needs one of \"header\", \"literal\", \"env\" or \"client_certificate\""));
    EXPECT_TRUE(has_error(r, 7, 7, "tag: needs one of \"header\", \"literal\", \"env\" or \"client_certificate\""));
    EXPECT_EQ(r.errors.size(), 4u) << test::all_errors(r);
}

TEST(tracing_errors, tag_with_two_sources_is_an_error_at_the_second) {
    const load_result r = load_tracing(R"(
  tags:
    - name: t
      literal: a
      env: HOME)");
    EXPECT_TRUE(has_only_error(r, 7, 12, "env: conflicts with \"literal\"; a tag takes exactly one of header, literal, env"));
}

TEST(tracing_errors, duplicate_tag_names_in_one_list_are_errors) {
    const load_result r = load_tracing(R"(
  tags:
    - {name: t, literal: a}
    - {name: u, literal: b}
    - {name: t, header: x-t})");
    EXPECT_TRUE(has_only_error(r, 7, 14, "name: duplicate tag name \"t\" (first defined at line 5)"));
    const load_result route = load_route("    tags: [{name: a, literal: x}, {name: a, literal: y}]");
    EXPECT_TRUE(has_only_error(route, 6, 42, "name: duplicate tag name \"a\" (first defined at line 6)"));
}

TEST(tracing_errors, unset_env_tag_is_an_error_at_its_value) {
    const load_result r = load_tracing(R"(
  tags:
    - {name: pod, env: POD_NAME})");
    EXPECT_TRUE(has_only_error(r, 5, 24, "env: environment variable \"POD_NAME\" is not set (write POD_NAME:-default to give a default)"));
}

TEST(tracing_errors, env_tag_default_applies_when_unset_or_empty) {
    const load_result unset = load_tracing("  tags: [{name: z, env: \"ZONE:-none\"}]");
    ASSERT_TRUE(unset) << test::all_errors(unset);
    EXPECT_EQ(unset.value->tracing.tags.at(0).value, "none");
    const load_result empty = load_tracing("  tags: [{name: z, env: \"ZONE:-none\"}]", {{"ZONE", ""}});
    ASSERT_TRUE(empty) << test::all_errors(empty);
    EXPECT_EQ(empty.value->tracing.tags.at(0).value, "none");
    const load_result set = load_tracing("  tags: [{name: z, env: \"ZONE:-none\"}]", {{"ZONE", "b"}});
    ASSERT_TRUE(set) << test::all_errors(set);
    EXPECT_EQ(set.value->tracing.tags.at(0).value, "b");
    EXPECT_EQ(set.value->tracing.tags.at(0).from, tag_config::source::env);
}

TEST(tracing_errors, env_tag_must_name_a_variable) {
    const load_result r = load_tracing("  tags: [{name: z, env: \"1ZONE\"}]");
    EXPECT_TRUE(has_only_error(r, 4, 25, "env: \"1ZONE\" is not an environment variable name"));
}

TEST(tracing_errors, tags_must_be_a_list_of_maps) {
    EXPECT_TRUE(has_only_error(load_tracing("  tags: {name: t}"), 4, 9, "tags: expected a list, got a map"));
    EXPECT_TRUE(has_only_error(load_tracing("  tags: [tenant]"), 4, 10, "tag: expected a map, got \"tenant\""));
}

TEST(tracing_errors, tracing_that_is_not_a_map_is_a_type_error) {
    EXPECT_TRUE(has_only_error(load_tracing("  - on"), 4, 3, "tracing: expected a map, got a list"));
}

TEST(tracing_errors, span_name_unknown_placeholder_is_an_error_with_a_suggestion) {
    const load_result r = load_route("    span_name: \"{verb} {rout}\"");
    ASSERT_TRUE(has_only_error(r, 6, 16, "span_name: unknown placeholder \"{verb}\" in \"{verb} {rout}\" (expected {method}, {path}, {host} or {route})"));
    const load_result typo = load_route("    span_name: \"{method} {rout}\"");
    EXPECT_TRUE(has_only_error(typo, 6, 16, "unknown placeholder \"{rout}\" in \"{method} {rout}\" (expected {method}, {path}, {host} or {route}); did you mean \"{route}\"?"));
}

TEST(tracing_errors, span_name_braces_must_pair_up) {
    EXPECT_TRUE(has_only_error(load_route("    span_name: \"GET {path\""), 6, 16,
                               "span_name: unclosed \"{\" in \"GET {path\""));
    EXPECT_TRUE(has_only_error(load_route("    span_name: \"GET path}\""), 6, 16,
                               "span_name: \"}\" without \"{\" in \"GET path}\""));
    EXPECT_TRUE(has_only_error(load_route("    span_name: \"{}\""), 6, 16,
                               "span_name: unknown placeholder \"{}\""));
}

TEST(tracing_errors, empty_span_name_is_an_error) {
    EXPECT_TRUE(has_only_error(load_route("    span_name: \"\""), 6, 16, "span_name: must not be empty"));
}

TEST(tracing_errors, span_name_without_placeholders_is_kept) {
    const load_result r = load_route("    span_name: TaskQueue.Stats");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->routes.at(0).span_name, "TaskQueue.Stats");
}

// ---------------------------------------------------------------------------------------
// OpenTelemetry environment variables

TEST(otel_env, service_name_applies_unless_the_file_sets_it) {
    const load_result from_env = test::load(minimal, {{"OTEL_SERVICE_NAME", "checkout"}});
    ASSERT_TRUE(from_env) << test::all_errors(from_env);
    EXPECT_EQ(from_env.value->service_name, "checkout");

    const load_result file_wins = test::load(std::string("service_name: billing") + std::string(minimal),
                                             {{"OTEL_SERVICE_NAME", "checkout"}});
    ASSERT_TRUE(file_wins) << test::all_errors(file_wins);
    EXPECT_EQ(file_wins.value->service_name, "billing");
}

TEST(otel_env, empty_variables_count_as_unset) {
    const load_result r = test::load(minimal, {{"OTEL_SERVICE_NAME", ""},
                                               {"OTEL_PROPAGATORS", " "},
                                               {"OTEL_TRACES_SAMPLER", ""}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->service_name, "tracegate");
    EXPECT_EQ(r.value->tracing.extract.size(), 6u);
    EXPECT_EQ(r.value->tracing.inject, strings{"tracecontext"});
}

TEST(otel_env, propagators_set_extract_and_inject) {
    const load_result r =
        test::load(minimal, {{"OTEL_PROPAGATORS", " b3multi , tracecontext,baggage,b3multi"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    // Trimmed, repeats dropped, order kept.
    EXPECT_EQ(r.value->tracing.extract, (strings{"b3multi", "tracecontext", "baggage"}));
    EXPECT_EQ(r.value->tracing.inject, (strings{"b3multi", "tracecontext", "baggage"}));
}

TEST(otel_env, propagators_none_empties_both_lists) {
    const load_result r = test::load(minimal, {{"OTEL_PROPAGATORS", "none"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_TRUE(r.value->tracing.extract.empty());
    EXPECT_TRUE(r.value->tracing.inject.empty());
}

TEST(otel_env, file_list_wins_over_propagators_key_by_key) {
    const load_result r = load_tracing("  propagation: {extract: [xray]}", {{"OTEL_PROPAGATORS", "b3,jaeger"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->tracing.extract, strings{"xray"});
    EXPECT_EQ(r.value->tracing.inject, (strings{"b3", "jaeger"}));
}

TEST(otel_env, bad_propagator_is_ignored_when_the_file_sets_both_lists) {
    const load_result r = load_tracing("  propagation: {extract: [xray], inject: [b3]}",
                                       {{"OTEL_PROPAGATORS", "ottrace"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->tracing.inject, strings{"b3"});
}

struct sampler_case {
    std::string sampler;
    std::optional<std::string> arg;
    double ratio;
    bool parent_based;
};

TEST(otel_env, traces_sampler_sets_ratio_and_parent_based) {
    const std::vector<sampler_case> cases{
        {"always_on", std::nullopt, 1.0, false},
        {"always_off", std::nullopt, 0.0, false},
        {"traceidratio", "0.25", 0.25, false},
        {"traceidratio", std::nullopt, 1.0, false},
        {"parentbased_always_on", std::nullopt, 1.0, true},
        {"parentbased_always_off", std::nullopt, 0.0, true},
        {"parentbased_traceidratio", "0.125", 0.125, true},
        // The argument only means something to the ratio samplers.
        {"always_off", "0.5", 0.0, false},
        {"parentbased_always_on", "junk", 1.0, true},
    };
    for (const sampler_case& c : cases) {
        std::map<std::string, std::string> env{{"OTEL_TRACES_SAMPLER", c.sampler}};
        if (c.arg) env["OTEL_TRACES_SAMPLER_ARG"] = *c.arg;
        const load_result r = test::load(minimal, env);
        ASSERT_TRUE(r) << c.sampler << test::all_errors(r);
        EXPECT_EQ(r.value->tracing.sampling.ratio, c.ratio) << c.sampler;
        EXPECT_EQ(r.value->tracing.sampling.parent_based, c.parent_based) << c.sampler;
    }
}

TEST(otel_env, file_sampling_keys_win_over_traces_sampler_key_by_key) {
    const std::map<std::string, std::string> env{{"OTEL_TRACES_SAMPLER", "traceidratio"},
                                                 {"OTEL_TRACES_SAMPLER_ARG", "0.5"}};
    const load_result ratio_in_file = load_tracing("  sampling: {ratio: 0.1}", env);
    ASSERT_TRUE(ratio_in_file) << test::all_errors(ratio_in_file);
    EXPECT_EQ(ratio_in_file.value->tracing.sampling.ratio, 0.1);
    EXPECT_FALSE(ratio_in_file.value->tracing.sampling.parent_based);

    const load_result parent_in_file = load_tracing("  sampling: {parent_based: true}", env);
    ASSERT_TRUE(parent_in_file) << test::all_errors(parent_in_file);
    EXPECT_EQ(parent_in_file.value->tracing.sampling.ratio, 0.5);
    EXPECT_TRUE(parent_in_file.value->tracing.sampling.parent_based);

    // Both set in the file: the variables are not even read, so a bad one does no harm.
    const load_result both = load_tracing("  sampling: {ratio: 0.1, parent_based: true}",
                                          {{"OTEL_TRACES_SAMPLER", "jaeger_remote"}});
    ASSERT_TRUE(both) << test::all_errors(both);
    EXPECT_EQ(both.value->tracing.sampling.ratio, 0.1);
}

TEST(otel_env, unknown_propagator_is_an_error_naming_the_variable) {
    const load_result r = test::load(minimal, {{"OTEL_PROPAGATORS", "tracecontext,b3mutli"}});
    ASSERT_TRUE(has_only_error(r, 1, 1, "OTEL_PROPAGATORS: unknown propagator \"b3mutli\" in \"tracecontext,b3mutli\""));
    EXPECT_TRUE(r.errors[0].message.starts_with("OTEL_PROPAGATORS: ")) << r.errors[0].message;
    EXPECT_NE(r.errors[0].message.find("did you mean \"b3multi\"?"), std::string::npos);
    EXPECT_EQ(r.errors[0].file, "test.yaml");
}

TEST(otel_env, propagators_none_with_others_is_an_error) {
    EXPECT_TRUE(has_only_error(test::load(minimal, {{"OTEL_PROPAGATORS", "none,b3"}}), 1, 1,
                               "OTEL_PROPAGATORS: \"none\" must be the only entry"));
    EXPECT_TRUE(has_only_error(test::load(minimal, {{"OTEL_PROPAGATORS", ",,"}}), 1, 1,
                               "OTEL_PROPAGATORS: names no propagator"));
}

TEST(otel_env, unsupported_sampler_is_an_error_naming_the_variable) {
    const load_result r = test::load(minimal, {{"OTEL_TRACES_SAMPLER", "parentbased_traceidration"}});
    ASSERT_TRUE(has_only_error(r, 1, 1, "OTEL_TRACES_SAMPLER: unsupported sampler \"parentbased_traceidration\""));
    EXPECT_NE(r.errors[0].message.find("did you mean \"parentbased_traceidratio\"?"), std::string::npos)
        << r.errors[0].message;
    EXPECT_TRUE(has_only_error(test::load(minimal, {{"OTEL_TRACES_SAMPLER", "jaeger_remote"}}), 1, 1,
                               "OTEL_TRACES_SAMPLER: unsupported sampler \"jaeger_remote\""));
}

TEST(otel_env, bad_sampler_argument_is_an_error_naming_the_variable) {
    for (const char* arg : {"1.5", "-0.5", "half", "inf"}) {
        const load_result r = test::load(minimal, {{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
                                                   {"OTEL_TRACES_SAMPLER_ARG", arg}});
        EXPECT_TRUE(has_only_error(r, 1, 1,
                                   "OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 to 1 for "
                                   "parentbased_traceidratio, got \"" + std::string(arg) + "\""))
            << arg;
    }
}

TEST(otel_env, env_errors_come_before_file_errors) {
    const load_result r = test::load(R"(
workers: x
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
)",
                                     {{"OTEL_TRACES_SAMPLER", "sometimes"}});
    ASSERT_EQ(r.errors.size(), 2u) << test::all_errors(r);
    EXPECT_TRUE(r.errors[0].message.starts_with("OTEL_TRACES_SAMPLER: ")) << test::all_errors(r);
    EXPECT_EQ(r.errors[1].line, 1);
    EXPECT_EQ(r.errors[1].column, 10);
}

TEST(tracing_tags, client_certificate_subject_is_a_tag_source) {
    const load_result r = load_tracing("  tags: [{name: caller, client_certificate: subject}]");
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(r.value->tracing.tags.size(), 1u);
    EXPECT_EQ(r.value->tracing.tags[0].from, tag_config::source::client_certificate);
    EXPECT_TRUE(has_only_error(load_tracing("  tags: [{name: caller, client_certificate: issuer}]"), 4, 45,
                               "client_certificate: expected subject, got \"issuer\""));
}

}  // namespace
}  // namespace tracegate::config
