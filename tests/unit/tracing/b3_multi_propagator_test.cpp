#include "tracing/b3_multi_propagator.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

using test::map_carrier;

constexpr std::string_view trace_hex = "463ac35c9f6413ad48485a3953bb6124";
constexpr std::string_view span_hex = "a2fb4a1d1a96d312";
constexpr std::string_view parent_hex = "0020000000000001";

const b3_multi_propagator propagator;

map_carrier ids(std::string_view trace = trace_hex, std::string_view span = span_hex) {
    return map_carrier{{"X-B3-TraceId", std::string(trace)}, {"X-B3-SpanId", std::string(span)}};
}

struct sampled_case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> extra;
    std::optional<bool> decision;
    bool debug;
};

class b3multi_sampling : public ::testing::TestWithParam<sampled_case> {};

TEST_P(b3multi_sampling, is_read_from_sampled_and_flags) {
    auto headers = ids();
    for (const auto& [name, value] : GetParam().extra) headers.add(name, value);
    const auto ctx = propagator.extract(headers);
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->trace_id.to_hex(), trace_hex);
    EXPECT_EQ(ctx->span_id.to_hex(), span_hex);
    EXPECT_EQ(ctx->sampling_decision(), GetParam().decision);
    EXPECT_EQ(ctx->debug, GetParam().debug);
    EXPECT_TRUE(ctx->is_remote);
}

INSTANTIATE_TEST_SUITE_P(
    b3multi, b3multi_sampling,
    ::testing::Values(
        sampled_case{"absent_defers", {}, std::nullopt, false},
        sampled_case{"one_accepts", {{"X-B3-Sampled", "1"}}, true, false},
        sampled_case{"zero_denies", {{"X-B3-Sampled", "0"}}, false, false},
        sampled_case{"true_accepts", {{"X-B3-Sampled", "true"}}, true, false},
        sampled_case{"false_denies", {{"X-B3-Sampled", "false"}}, false, false},
        sampled_case{"flags_1_is_debug_and_accept", {{"X-B3-Flags", "1"}}, true, true},
        sampled_case{
            "debug_overrides_deny", {{"X-B3-Sampled", "0"}, {"X-B3-Flags", "1"}}, true, true},
        sampled_case{"other_flags_values_are_ignored", {{"X-B3-Flags", "0"}}, std::nullopt, false}),
    [](const auto& info) { return std::string(info.param.name); });

struct invalid_case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> headers;
};

class b3multi_rejected : public ::testing::TestWithParam<invalid_case> {};

TEST_P(b3multi_rejected, gives_no_context) {
    map_carrier headers;
    for (const auto& [name, value] : GetParam().headers) headers.add(name, value);
    EXPECT_FALSE(propagator.extract(headers));
}

const std::string trace_text(trace_hex);
const std::string span_text(span_hex);

INSTANTIATE_TEST_SUITE_P(
    b3multi, b3multi_rejected,
    ::testing::Values(
        invalid_case{"no_headers", {}},
        invalid_case{"trace_id_without_span_id",
                     {{"X-B3-TraceId", trace_text}, {"X-B3-Sampled", "1"}}},
        invalid_case{"span_id_without_trace_id", {{"X-B3-SpanId", span_text}}},
        invalid_case{"trace_id_of_20_digits",
                     {{"X-B3-TraceId", "48485a3953bb61240000"}, {"X-B3-SpanId", span_text}}},
        invalid_case{
            "uppercase_trace_id",
            {{"X-B3-TraceId", "463AC35C9F6413AD48485A3953BB6124"}, {"X-B3-SpanId", span_text}}},
        invalid_case{"non_hex_span_id",
                     {{"X-B3-TraceId", trace_text}, {"X-B3-SpanId", "a2fb4a1d1a96d31x"}}},
        invalid_case{"all_zero_trace_id",
                     {{"X-B3-TraceId", std::string(16, '0')}, {"X-B3-SpanId", span_text}}},
        invalid_case{"all_zero_span_id",
                     {{"X-B3-TraceId", trace_text}, {"X-B3-SpanId", std::string(16, '0')}}},
        invalid_case{"bad_parent",
                     {{"X-B3-TraceId", trace_text},
                      {"X-B3-SpanId", span_text},
                      {"X-B3-ParentSpanId", "xyz"}}},
        invalid_case{"zero_parent",
                     {{"X-B3-TraceId", trace_text},
                      {"X-B3-SpanId", span_text},
                      {"X-B3-ParentSpanId", std::string(16, '0')}}},
        invalid_case{
            "unknown_sampled_value",
            {{"X-B3-TraceId", trace_text}, {"X-B3-SpanId", span_text}, {"X-B3-Sampled", "yes"}}},
        invalid_case{"two_trace_id_lines",
                     {{"X-B3-TraceId", trace_text},
                      {"X-B3-TraceId", trace_text},
                      {"X-B3-SpanId", span_text}}},
        invalid_case{"only_ignored_flags", {{"X-B3-Flags", "0"}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(b3multi, parent_span_id_is_read) {
    auto headers = ids();
    headers.add("X-B3-ParentSpanId", std::string(parent_hex));
    const auto ctx = propagator.extract(headers);
    ASSERT_TRUE(ctx && ctx->parent_span_id);
    EXPECT_EQ(ctx->parent_span_id->to_hex(), parent_hex);
}

TEST(b3multi, sampled_without_ids_is_a_sampling_only_context) {
    const auto ctx = propagator.extract(map_carrier{{"X-B3-Sampled", "0"}});
    ASSERT_TRUE(ctx);
    EXPECT_FALSE(ctx->is_valid());
    EXPECT_EQ(ctx->sampling_decision(), false);
}

TEST(b3multi, sixty_four_bit_trace_id_is_sent_back_as_64_bit) {
    const auto ctx = propagator.extract(ids("48485a3953bb6124"));
    ASSERT_TRUE(ctx);
    EXPECT_TRUE(ctx->trace_id_64bit);
    EXPECT_EQ(ctx->trace_id.low(), 0x48485a3953bb6124ULL);
    map_carrier headers;
    propagator.inject(*ctx, headers);
    EXPECT_EQ(headers.get("x-b3-traceid"), "48485a3953bb6124");
}

TEST(b3multi, inject_writes_sampled_and_parent) {
    auto ctx = test::remote_context(trace_hex, span_hex, false);
    ctx.parent_span_id = span_id::from_hex(parent_hex);
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("x-b3-traceid"), trace_hex);
    EXPECT_EQ(headers.get("x-b3-spanid"), span_hex);
    EXPECT_EQ(headers.get("x-b3-parentspanid"), parent_hex);
    EXPECT_EQ(headers.get("x-b3-sampled"), "0");
    EXPECT_FALSE(headers.get("x-b3-flags"));
}

TEST(b3multi, debug_is_written_as_flags_without_sampled) {
    auto ctx = test::remote_context(trace_hex, span_hex, true);
    ctx.debug = true;
    map_carrier headers{{"X-B3-Sampled", "1"}};
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("x-b3-flags"), "1");
    EXPECT_FALSE(headers.get("x-b3-sampled"));
}

TEST(b3multi, inject_removes_stale_optional_headers) {
    map_carrier headers{
        {"X-B3-ParentSpanId", "1111111111111111"}, {"X-B3-Sampled", "1"}, {"X-B3-Flags", "1"}};
    propagator.inject(test::remote_context(trace_hex, span_hex, std::nullopt), headers);
    EXPECT_FALSE(headers.get("x-b3-parentspanid"));
    EXPECT_FALSE(headers.get("x-b3-sampled"));
    EXPECT_FALSE(headers.get("x-b3-flags"));
    EXPECT_EQ(headers.size(), 2u);
}

struct round_trip_case {
    const char* name;
    span_context ctx;
};

span_context with(span_context ctx, auto change) {
    change(ctx);
    return ctx;
}

class b3multi_round_trip : public ::testing::TestWithParam<round_trip_case> {};

TEST_P(b3multi_round_trip, extract_of_inject_is_identity) {
    map_carrier headers;
    propagator.inject(GetParam().ctx, headers);
    EXPECT_EQ(propagator.extract(headers), GetParam().ctx);
}

const span_context base = test::remote_context(trace_hex, span_hex, true);

INSTANTIATE_TEST_SUITE_P(
    b3multi, b3multi_round_trip,
    ::testing::Values(
        round_trip_case{"sampled", base},
        round_trip_case{"not_sampled", with(base, [](auto& c) { c.set_sampling_decision(false); })},
        round_trip_case{"deferred",
                        with(base, [](auto& c) { c.set_sampling_decision(std::nullopt); })},
        round_trip_case{"debug", with(base, [](auto& c) { c.debug = true; })},
        round_trip_case{"with_parent",
                        with(base, [](auto& c) { c.parent_span_id = span_id::from_uint64(7); })},
        round_trip_case{"sixty_four_bit", with(base,
                                               [](auto& c) {
                                                   c.trace_id = trace_id::from_uint64(
                                                       0, 0x48485a3953bb6124ULL);
                                                   c.trace_id_64bit = true;
                                               })}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(b3multi, fields_are_the_five_x_b3_headers) {
    const auto fields = propagator.fields();
    EXPECT_EQ(std::vector<std::string_view>(fields.begin(), fields.end()),
              (std::vector<std::string_view>{"x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
                                             "x-b3-sampled", "x-b3-flags"}));
    EXPECT_EQ(propagator.name(), "b3multi");
}

}  // namespace
}  // namespace tracegate::tracing
