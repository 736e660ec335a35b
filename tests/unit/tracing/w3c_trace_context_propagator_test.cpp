#include "tracing/w3c_trace_context_propagator.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

using test::map_carrier;

constexpr std::string_view trace_hex = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view span_hex = "00f067aa0ba902b7";
const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

const w3c_trace_context_propagator propagator;

std::optional<span_context> extract_traceparent(const std::string& value) {
    return propagator.extract(map_carrier{{"traceparent", value}});
}

struct valid_case {
    const char* name;
    std::string traceparent;
    std::uint8_t flags;
};

class traceparent_accepted : public ::testing::TestWithParam<valid_case> {};

TEST_P(traceparent_accepted, with_ids_and_flags) {
    const auto ctx = extract_traceparent(GetParam().traceparent);
    ASSERT_TRUE(ctx) << GetParam().traceparent;
    EXPECT_EQ(ctx->trace_id.to_hex(), trace_hex);
    EXPECT_EQ(ctx->span_id.to_hex(), span_hex);
    EXPECT_EQ(int{ctx->trace_flags}, int{GetParam().flags});
    EXPECT_EQ(ctx->sampling_decision(), (GetParam().flags & sampled_flag) != 0);
    EXPECT_TRUE(ctx->is_remote);
    EXPECT_FALSE(ctx->trace_id_64bit);
    EXPECT_FALSE(ctx->parent_span_id);
}

const std::string ids = "-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-";

INSTANTIATE_TEST_SUITE_P(
    tracecontext, traceparent_accepted,
    ::testing::Values(
        valid_case{"sampled", "00" + ids + "01", 0x01},
        valid_case{"not_sampled", "00" + ids + "00", 0x00},
        valid_case{"level_2_random_flag_is_kept", "00" + ids + "03", 0x03},
        valid_case{"unknown_flags_of_version_00_are_kept", "00" + ids + "09", 0x09},
        valid_case{"surrounding_ows_is_ignored", " \t00" + ids + "01\t ", 0x01},
        valid_case{"higher_version_of_exactly_55_characters", "cc" + ids + "01", 0x01},
        valid_case{"higher_version_with_more_fields",
                   "cc" + ids + "01-what-the-future-will-be-like", 0x01},
        valid_case{"higher_version_keeps_only_known_flags", "01" + ids + "ff-x", 0x03},
        valid_case{"version_fe_is_still_a_version", "fe" + ids + "00", 0x00}),
    [](const auto& info) { return std::string(info.param.name); });

struct invalid_case {
    const char* name;
    std::string traceparent;
};

class traceparent_rejected : public ::testing::TestWithParam<invalid_case> {};

TEST_P(traceparent_rejected, starts_a_new_trace) {
    EXPECT_FALSE(extract_traceparent(GetParam().traceparent)) << GetParam().traceparent;
}

INSTANTIATE_TEST_SUITE_P(
    tracecontext, traceparent_rejected,
    ::testing::Values(invalid_case{"empty", ""}, invalid_case{"version_ff", "ff" + ids + "01"},
                      invalid_case{"uppercase_version", "0A" + ids + "01"},
                      invalid_case{"non_hex_version", "0." + ids + "01"},
                      invalid_case{"one_digit_version", "0" + ids + "01"},
                      invalid_case{"version_00_with_extra_field", "00" + ids + "01-00"},
                      invalid_case{"version_00_with_trailing_character", "00" + ids + "01."},
                      invalid_case{"higher_version_followed_by_non_dash", "cc" + ids + "01.what"},
                      invalid_case{"higher_version_shorter_than_55", "cc" + ids + "1"},
                      invalid_case{"uppercase_hex_trace_id",
                                   "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"},
                      invalid_case{"uppercase_hex_parent_id",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"},
                      invalid_case{"uppercase_hex_flags", "00" + ids + "0A"},
                      invalid_case{"non_hex_trace_id",
                                   "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"},
                      invalid_case{"non_hex_parent_id",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01"},
                      invalid_case{"non_hex_flags", "00" + ids + "0x"},
                      invalid_case{"trace_id_one_short",
                                   "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"},
                      invalid_case{"trace_id_one_long",
                                   "00-4bf92f3577b34da6a3ce929d0e0e47360-00f067aa0ba902b7-01"},
                      invalid_case{"parent_id_one_short",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01"},
                      invalid_case{"parent_id_one_long",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b70-01"},
                      invalid_case{"one_digit_flags", "00" + ids + "1"},
                      invalid_case{"three_digit_flags", "00" + ids + "001"},
                      invalid_case{"all_zero_trace_id",
                                   "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
                      invalid_case{"all_zero_parent_id",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"},
                      invalid_case{"underscore_separator",
                                   "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                      invalid_case{"missing_separator_before_flags",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7001"},
                      invalid_case{"higher_version_with_zero_trace_id",
                                   "cc-00000000000000000000000000000000-00f067aa0ba902b7-01"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(tracecontext, uppercase_hex_traceparent_is_rejected) {
    EXPECT_FALSE(extract_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"));
}

TEST(tracecontext, header_name_is_case_insensitive) {
    EXPECT_TRUE(propagator.extract(map_carrier{{"TraceParent", traceparent}}));
}

TEST(tracecontext, two_traceparent_lines_are_rejected) {
    map_carrier headers{{"traceparent", traceparent}};
    headers.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    EXPECT_FALSE(propagator.extract(headers));
}

TEST(tracecontext, no_traceparent_is_no_context_even_with_tracestate) {
    EXPECT_FALSE(propagator.extract(map_carrier{{"tracestate", "foo=1"}}));
}

TEST(tracecontext, tracestate_is_kept_canonical) {
    const auto ctx = propagator.extract(map_carrier{
        {"traceparent", traceparent}, {"tracestate", "rojo=00f067aa0ba902b7 , congo=t61"}});
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->tracestate, "rojo=00f067aa0ba902b7,congo=t61");
}

TEST(tracecontext, tracestate_lines_are_combined) {
    map_carrier headers{{"traceparent", traceparent}, {"tracestate", "foo=1"}};
    headers.add("tracestate", "bar=2");
    const auto ctx = propagator.extract(headers);
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->tracestate, "foo=1,bar=2");
}

TEST(tracecontext, duplicate_key_across_tracestate_lines_drops_tracestate_not_traceparent) {
    map_carrier headers{{"traceparent", traceparent}, {"tracestate", "foo=1"}};
    headers.add("tracestate", "foo=2");
    const auto ctx = propagator.extract(headers);
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->trace_id.to_hex(), trace_hex);
    EXPECT_EQ(ctx->tracestate, "");
}

TEST(tracecontext, invalid_tracestate_is_dropped_and_traceparent_kept) {
    const auto ctx = propagator.extract(
        map_carrier{{"traceparent", traceparent}, {"tracestate", "Foo=1,bar=2"}});
    ASSERT_TRUE(ctx);
    EXPECT_TRUE(ctx->sampled());
    EXPECT_EQ(ctx->tracestate, "");
}

TEST(tracecontext, inject_writes_version_00_and_tracestate) {
    auto ctx = test::remote_context(trace_hex, span_hex);
    ctx.tracestate = "foo=1";
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("traceparent"), traceparent);
    EXPECT_EQ(headers.get("tracestate"), "foo=1");
}

TEST(tracecontext, inject_writes_random_and_not_sampled_flags) {
    auto ctx = test::remote_context(trace_hex, span_hex, false);
    ctx.trace_flags |= random_flag;
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("traceparent"), "00" + ids + "02");
}

TEST(tracecontext, inject_replaces_old_headers_and_removes_stale_tracestate) {
    map_carrier headers{{"traceparent", "00" + ids + "00"}, {"tracestate", "old=1"}};
    headers.add("traceparent", "garbage");
    propagator.inject(test::remote_context(trace_hex, span_hex), headers);
    EXPECT_EQ(headers.count("traceparent"), 1u);
    EXPECT_EQ(headers.get("traceparent"), traceparent);
    EXPECT_FALSE(headers.get("tracestate"));
}

TEST(tracecontext, inject_of_an_invalid_context_writes_nothing) {
    map_carrier headers;
    propagator.inject(span_context{}, headers);
    EXPECT_EQ(headers.size(), 0u);
}

TEST(tracecontext, inject_truncates_an_oversized_tracestate) {
    // The tracer may add its own member to a full list: 6 + 1 + 253 + 1 + 253 = 514 > 512.
    auto ctx = test::remote_context(trace_hex, span_hex);
    ctx.tracestate = "ours=1,k1=" + std::string(250, 'a') + ",k2=" + std::string(250, 'b');
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("tracestate"), "ours=1,k1=" + std::string(250, 'a'));
}

TEST(tracecontext, round_trip_keeps_every_field) {
    auto ctx = test::remote_context(trace_hex, span_hex);
    ctx.trace_flags |= random_flag | 0x08;
    ctx.tracestate = "congo=t61rcWkgMzE,fw529a3039@dt=1";
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(propagator.extract(headers), ctx);
}

TEST(tracecontext, fields_are_traceparent_and_tracestate) {
    const auto fields = propagator.fields();
    ASSERT_EQ(fields.size(), 2u);
    EXPECT_EQ(fields[0], "traceparent");
    EXPECT_EQ(fields[1], "tracestate");
    EXPECT_EQ(propagator.name(), "tracecontext");
}

}  // namespace
}  // namespace tracegate::tracing
