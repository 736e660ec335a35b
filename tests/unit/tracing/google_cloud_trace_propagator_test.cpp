#include "tracing/google_cloud_trace_propagator.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

using test::map_carrier;

const google_cloud_trace_propagator propagator;
const std::string trace_hex = "105445aa7843bc8bf206b12000100000";

std::optional<span_context> extract_cloud(const std::string& value) {
    return propagator.extract(map_carrier{{"X-Cloud-Trace-Context", value}});
}

struct valid_case {
    const char* name;
    std::string value;
    std::uint64_t span;
    std::optional<bool> decision;
};

class cloudtrace_accepted : public ::testing::TestWithParam<valid_case> {};

TEST_P(cloudtrace_accepted, with_decimal_span_id) {
    const auto ctx = extract_cloud(GetParam().value);
    ASSERT_TRUE(ctx) << GetParam().value;
    EXPECT_EQ(ctx->trace_id.to_hex(), trace_hex);
    EXPECT_EQ(ctx->span_id.to_uint64(), GetParam().span);
    EXPECT_EQ(ctx->sampling_decision(), GetParam().decision);
    EXPECT_TRUE(ctx->is_remote);
    EXPECT_FALSE(ctx->trace_id_64bit);
}

INSTANTIATE_TEST_SUITE_P(
    cloudtrace, cloudtrace_accepted,
    ::testing::Values(valid_case{"sampled", trace_hex + "/1;o=1", 1, true},
                      valid_case{"not_sampled", trace_hex + "/1;o=0", 1, false},
                      valid_case{"no_options_defers", trace_hex + "/123456789", 123456789,
                                 std::nullopt},
                      valid_case{"largest_span_id", trace_hex + "/18446744073709551615;o=1",
                                 18446744073709551615ULL, true},
                      valid_case{"leading_zeros_in_span_id", trace_hex + "/007;o=1", 7, true}),
    [](const auto& info) { return std::string(info.param.name); });

struct invalid_case {
    const char* name;
    std::string value;
};

class cloudtrace_rejected : public ::testing::TestWithParam<invalid_case> {};

TEST_P(cloudtrace_rejected, gives_no_context) {
    EXPECT_FALSE(extract_cloud(GetParam().value)) << GetParam().value;
}

INSTANTIATE_TEST_SUITE_P(
    cloudtrace, cloudtrace_rejected,
    ::testing::Values(
        invalid_case{"empty", ""}, invalid_case{"trace_id_only", trace_hex},
        invalid_case{"empty_span_id", trace_hex + "/;o=1"},
        invalid_case{"zero_span_id", trace_hex + "/0;o=1"},
        invalid_case{"span_id_overflows_64_bits", trace_hex + "/18446744073709551617;o=1"},
        invalid_case{"span_id_of_21_digits", trace_hex + "/000000000000000000001;o=1"},
        invalid_case{"hex_span_id", trace_hex + "/1a;o=1"},
        invalid_case{"negative_span_id", trace_hex + "/-1;o=1"},
        invalid_case{"short_trace_id", "105445aa7843bc8bf206b1200010000/1;o=1"},
        invalid_case{"uppercase_trace_id", "105445AA7843BC8BF206B12000100000/1;o=1"},
        invalid_case{"zero_trace_id", std::string(32, '0') + "/1;o=1"},
        invalid_case{"unknown_option_value", trace_hex + "/1;o=2"},
        invalid_case{"empty_option", trace_hex + "/1;o="},
        invalid_case{"other_option_key", trace_hex + "/1;x=1"},
        invalid_case{"trailing_garbage", trace_hex + "/1;o=1;"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(cloudtrace, inject_writes_span_id_in_decimal) {
    auto ctx = test::remote_context(trace_hex, "00f067aa0ba902b7", true);
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("x-cloud-trace-context"), trace_hex + "/67667974448284343;o=1");
}

TEST(cloudtrace, deferred_decision_is_written_without_options) {
    auto ctx = test::remote_context(trace_hex, "0000000000000001", std::nullopt);
    EXPECT_EQ(google_cloud_trace_propagator::format(ctx), trace_hex + "/1");
}

class cloudtrace_round_trip : public ::testing::TestWithParam<std::string> {};

TEST_P(cloudtrace_round_trip, extract_of_inject_is_identity) {
    const auto ctx = extract_cloud(GetParam());
    ASSERT_TRUE(ctx);
    map_carrier headers;
    propagator.inject(*ctx, headers);
    EXPECT_EQ(headers.get("x-cloud-trace-context"), GetParam());
    EXPECT_EQ(propagator.extract(headers), ctx);
}

INSTANTIATE_TEST_SUITE_P(cloudtrace, cloudtrace_round_trip,
                         ::testing::Values(trace_hex + "/1;o=1", trace_hex + "/42;o=0",
                                           trace_hex + "/18446744073709551615"));

TEST(cloudtrace, fields_are_the_one_header) {
    ASSERT_EQ(propagator.fields().size(), 1u);
    EXPECT_EQ(propagator.fields()[0], "x-cloud-trace-context");
    EXPECT_EQ(propagator.name(), "cloudtrace");
}

}  // namespace
}  // namespace tracegate::tracing
