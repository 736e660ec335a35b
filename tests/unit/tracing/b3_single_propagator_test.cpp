#include "tracing/b3_single_propagator.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

using test::map_carrier;

constexpr std::string_view trace_hex = "80f198ee56343ba864fe8b2a57d3eff7";
constexpr std::string_view span_hex = "e457b5a2e4d86bd1";
constexpr std::string_view parent_hex = "05e3ac9a4f6e3b90";

const b3_single_propagator propagator;

std::optional<span_context> extract_b3(const std::string& value) {
    return propagator.extract(map_carrier{{"b3", value}});
}

struct valid_case {
    const char* name;
    std::string b3;
    std::optional<bool> decision;
    bool debug;
    bool has_parent;
};

class b3_accepted : public ::testing::TestWithParam<valid_case> {};

TEST_P(b3_accepted, with_ids_and_sampling_state) {
    const auto& c = GetParam();
    const auto ctx = extract_b3(c.b3);
    ASSERT_TRUE(ctx) << c.b3;
    EXPECT_TRUE(ctx->is_valid());
    EXPECT_EQ(ctx->trace_id.to_hex(), trace_hex);
    EXPECT_FALSE(ctx->trace_id_64bit);
    EXPECT_EQ(ctx->span_id.to_hex(), span_hex);
    EXPECT_EQ(ctx->sampling_decision(), c.decision);
    EXPECT_EQ(ctx->debug, c.debug);
    EXPECT_EQ(ctx->parent_span_id.has_value(), c.has_parent);
    if (c.has_parent) {
        EXPECT_EQ(ctx->parent_span_id->to_hex(), parent_hex);
    }
    EXPECT_TRUE(ctx->is_remote);
}

const std::string ids = std::string(trace_hex) + "-" + std::string(span_hex);
const std::string parent = "-" + std::string(parent_hex);

INSTANTIATE_TEST_SUITE_P(
    b3, b3_accepted,
    ::testing::Values(valid_case{"ids_only_defers_sampling", ids, std::nullopt, false, false},
                      valid_case{"accept", ids + "-1", true, false, false},
                      valid_case{"deny", ids + "-0", false, false, false},
                      valid_case{"debug_implies_accept", ids + "-d", true, true, false},
                      valid_case{"accept_with_parent", ids + "-1" + parent, true, false, true},
                      valid_case{"debug_with_parent", ids + "-d" + parent, true, true, true},
                      valid_case{"surrounding_ows_is_ignored", " " + ids + "-1 ", true, false,
                                 false}),
    [](const auto& info) { return std::string(info.param.name); });

struct invalid_case {
    const char* name;
    std::string b3;
};

class b3_rejected : public ::testing::TestWithParam<invalid_case> {};

TEST_P(b3_rejected, gives_no_context) {
    EXPECT_FALSE(extract_b3(GetParam().b3)) << GetParam().b3;
}

INSTANTIATE_TEST_SUITE_P(
    b3, b3_rejected,
    ::testing::Values(
        invalid_case{"empty", ""}, invalid_case{"unknown_sampling_only_value", "2"},
        invalid_case{"true_is_not_a_single_header_sampling_state", ids + "-true"},
        invalid_case{"trace_id_only", std::string(trace_hex)},
        invalid_case{"trace_id_of_24_digits", "64fe8b2a57d3eff7e457b5a2-" + std::string(span_hex)},
        invalid_case{"trace_id_of_15_digits", "4fe8b2a57d3eff7-" + std::string(span_hex)},
        invalid_case{"uppercase_trace_id",
                     "80F198EE56343BA864FE8B2A57D3EFF7-" + std::string(span_hex)},
        invalid_case{"uppercase_span_id", std::string(trace_hex) + "-E457B5A2E4D86BD1"},
        invalid_case{"non_hex_span_id", std::string(trace_hex) + "-e457b5a2e4d86bdz"},
        invalid_case{"span_id_of_15_digits", std::string(trace_hex) + "-457b5a2e4d86bd1"},
        invalid_case{"all_zero_trace_id", std::string(32, '0') + "-" + std::string(span_hex)},
        invalid_case{"all_zero_span_id", std::string(trace_hex) + "-" + std::string(16, '0')},
        invalid_case{"empty_span_id", std::string(trace_hex) + "-"},
        invalid_case{"parent_without_sampling_state", ids + parent},
        invalid_case{"all_zero_parent", ids + "-1-" + std::string(16, '0')},
        invalid_case{"short_parent", ids + "-1-5e3ac9a4f6e3b90"},
        invalid_case{"empty_sampling_state", ids + "-"},
        invalid_case{"five_fields", ids + "-1" + parent + "-1"}),
    [](const auto& info) { return std::string(info.param.name); });

struct sampling_only_case {
    const char* name;
    const char* b3;
    bool sampled;
    bool debug;
};

class b3_sampling_only : public ::testing::TestWithParam<sampling_only_case> {};

TEST_P(b3_sampling_only, carries_a_decision_without_ids) {
    const auto ctx = extract_b3(GetParam().b3);
    ASSERT_TRUE(ctx);
    EXPECT_FALSE(ctx->is_valid());
    EXPECT_EQ(ctx->sampling_decision(), GetParam().sampled);
    EXPECT_EQ(ctx->debug, GetParam().debug);
}

INSTANTIATE_TEST_SUITE_P(b3, b3_sampling_only,
                         ::testing::Values(sampling_only_case{"deny_only", "0", false, false},
                                           sampling_only_case{"accept_only", "1", true, false},
                                           sampling_only_case{"debug_only", "d", true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(b3, sixty_four_bit_trace_id_is_the_low_half_and_sent_back_as_64_bit) {
    const auto ctx = extract_b3("64fe8b2a57d3eff7-" + std::string(span_hex) + "-1");
    ASSERT_TRUE(ctx);
    EXPECT_TRUE(ctx->trace_id_64bit);
    EXPECT_EQ(ctx->trace_id.to_hex(), "000000000000000064fe8b2a57d3eff7");
    map_carrier headers;
    propagator.inject(*ctx, headers);
    EXPECT_EQ(headers.get("b3"), "64fe8b2a57d3eff7-" + std::string(span_hex) + "-1");
}

TEST(b3, thirty_two_digit_trace_id_with_zero_high_half_stays_128_bit) {
    const auto ctx = extract_b3("000000000000000064fe8b2a57d3eff7-" + std::string(span_hex));
    ASSERT_TRUE(ctx);
    EXPECT_FALSE(ctx->trace_id_64bit);
    EXPECT_EQ(b3_single_propagator::format(*ctx),
              "000000000000000064fe8b2a57d3eff7-" + std::string(span_hex));
}

TEST(b3, inject_writes_sampling_state_and_parent) {
    auto ctx = test::remote_context(trace_hex, span_hex, true);
    ctx.parent_span_id = span_id::from_hex(parent_hex);
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("b3"), ids + "-1" + parent);
    ctx.debug = true;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("b3"), ids + "-d" + parent);
    EXPECT_EQ(headers.count("b3"), 1u);
}

TEST(b3, deferred_context_is_written_without_sampling_state_or_parent) {
    auto ctx = test::remote_context(trace_hex, span_hex, std::nullopt);
    ctx.parent_span_id = span_id::from_hex(parent_hex);
    EXPECT_EQ(b3_single_propagator::format(ctx), ids);
}

TEST(b3, deny_only_context_is_written_as_0) {
    span_context ctx;
    ctx.set_sampling_decision(false);
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("b3"), "0");
}

TEST(b3, nothing_to_say_removes_the_header) {
    span_context ctx;
    ctx.set_sampling_decision(std::nullopt);
    map_carrier headers{{"b3", "stale"}};
    propagator.inject(ctx, headers);
    EXPECT_FALSE(headers.get("b3"));
}

class b3_round_trip : public ::testing::TestWithParam<std::string> {};

TEST_P(b3_round_trip, extract_of_inject_is_identity) {
    const auto ctx = extract_b3(GetParam());
    ASSERT_TRUE(ctx);
    map_carrier headers;
    propagator.inject(*ctx, headers);
    EXPECT_EQ(headers.get("b3"), GetParam());
    EXPECT_EQ(propagator.extract(headers), ctx);
}

INSTANTIATE_TEST_SUITE_P(b3, b3_round_trip,
                         ::testing::Values(ids, ids + "-0", ids + "-1" + parent, ids + "-d",
                                           "64fe8b2a57d3eff7-" + std::string(span_hex) + "-1", "0",
                                           "1", "d"));

TEST(b3, fields_are_b3_only) {
    ASSERT_EQ(propagator.fields().size(), 1u);
    EXPECT_EQ(propagator.fields()[0], "b3");
    EXPECT_EQ(propagator.name(), "b3");
}

}  // namespace
}  // namespace tracegate::tracing
