#include "tracing/jaeger_propagator.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

using test::map_carrier;

const jaeger_propagator propagator;

std::optional<span_context> extract_uber(const std::string& value) {
    return propagator.extract(map_carrier{{"uber-trace-id", value}});
}

struct valid_case {
    const char* name;
    std::string value;
    std::string trace_hex;  // 32 digits
    bool trace_64bit;
    std::uint64_t span;
    std::optional<std::uint64_t> parent;
    bool sampled;
    bool debug;
};

class jaeger_accepted : public ::testing::TestWithParam<valid_case> {};

TEST_P(jaeger_accepted, with_ids_and_flags) {
    const auto& c = GetParam();
    const auto ctx = extract_uber(c.value);
    ASSERT_TRUE(ctx) << c.value;
    EXPECT_EQ(ctx->trace_id.to_hex(), c.trace_hex);
    EXPECT_EQ(ctx->trace_id_64bit, c.trace_64bit);
    EXPECT_EQ(ctx->span_id.to_uint64(), c.span);
    EXPECT_EQ(ctx->parent_span_id.has_value(), c.parent.has_value());
    if (c.parent) {
        EXPECT_EQ(ctx->parent_span_id->to_uint64(), *c.parent);
    }
    EXPECT_EQ(ctx->sampling_decision(), c.sampled);
    EXPECT_EQ(ctx->debug, c.debug);
    EXPECT_TRUE(ctx->is_remote);
}

const std::string full_trace = "4bf92f3577b34da6a3ce929d0e0e4736";

INSTANTIATE_TEST_SUITE_P(
    jaeger, jaeger_accepted,
    ::testing::Values(
        valid_case{"full_width_sampled", full_trace + ":00f067aa0ba902b7:0:1", full_trace, false,
                   0x00f067aa0ba902b7, std::nullopt, true, false},
        valid_case{"not_sampled", full_trace + ":00f067aa0ba902b7:0:0", full_trace, false,
                   0x00f067aa0ba902b7, std::nullopt, false, false},
        valid_case{"two_digit_flags", full_trace + ":00f067aa0ba902b7:0:01", full_trace, false,
                   0x00f067aa0ba902b7, std::nullopt, true, false},
        valid_case{"debug_implies_sampled", full_trace + ":1:0:2", full_trace, false, 1,
                   std::nullopt, true, true},
        valid_case{"firehose_bit_is_ignored", full_trace + ":1:0:9", full_trace, false, 1,
                   std::nullopt, true, false},
        valid_case{"parent_is_kept", full_trace + ":2:3:1", full_trace, false, 2, 3, true, false},
        valid_case{"leading_zeros_omitted_64_bit", "abc:def:0:1",
                   "00000000000000000000000000000abc", true, 0xdef, std::nullopt, true, false},
        valid_case{"sixteen_digits_is_64_bit", "a3ce929d0e0e4736:1:0:1",
                   "0000000000000000a3ce929d0e0e4736", true, 1, std::nullopt, true, false},
        valid_case{"seventeen_digits_is_128_bit", "1a3ce929d0e0e4736:1:0:1",
                   "0000000000000001a3ce929d0e0e4736", false, 1, std::nullopt, true, false},
        valid_case{"uppercase_hex_from_jaeger_clients", "ABC:DEF:0:1",
                   "00000000000000000000000000000abc", true, 0xdef, std::nullopt, true, false},
        valid_case{"url_encoded_separators", full_trace + "%3A00f067aa0ba902b7%3a0%3A1", full_trace,
                   false, 0x00f067aa0ba902b7, std::nullopt, true, false}),
    [](const auto& info) { return std::string(info.param.name); });

struct invalid_case {
    const char* name;
    std::string value;
};

class jaeger_rejected : public ::testing::TestWithParam<invalid_case> {};

TEST_P(jaeger_rejected, gives_no_context) {
    EXPECT_FALSE(extract_uber(GetParam().value)) << GetParam().value;
}

INSTANTIATE_TEST_SUITE_P(
    jaeger, jaeger_rejected,
    ::testing::Values(invalid_case{"empty", ""}, invalid_case{"three_fields", full_trace + ":1:0"},
                      invalid_case{"five_fields", full_trace + ":1:0:1:1"},
                      invalid_case{"zero_trace_id", "0:1:0:1"},
                      invalid_case{"zero_span_id", full_trace + ":0:0:1"},
                      invalid_case{"empty_trace_id", ":1:0:1"},
                      invalid_case{"empty_span_id", full_trace + "::0:1"},
                      invalid_case{"empty_parent", full_trace + ":1::1"},
                      invalid_case{"empty_flags", full_trace + ":1:0:"},
                      invalid_case{"trace_id_of_33_digits", "0" + full_trace + ":1:0:1"},
                      invalid_case{"span_id_of_17_digits", full_trace + ":100f067aa0ba902b7:0:1"},
                      invalid_case{"non_hex_trace_id", "xyz:1:0:1"},
                      invalid_case{"three_digit_flags", full_trace + ":1:0:001"},
                      invalid_case{"non_hex_flags", full_trace + ":1:0:g"},
                      invalid_case{"other_percent_escape", full_trace + "%3A1%3A0%2C1"},
                      invalid_case{"two_lines", full_trace + ":1:0:1," + full_trace + ":1:0:1"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(jaeger, inject_pads_ids_and_writes_parent_and_flags) {
    span_context ctx = test::remote_context(full_trace, "00f067aa0ba902b7", true);
    ctx.parent_span_id = span_id::from_uint64(0xabc);
    ctx.debug = true;
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("uber-trace-id"), full_trace + ":00f067aa0ba902b7:0000000000000abc:3");
}

TEST(jaeger, root_is_written_with_parent_0_and_64_bit_trace_as_16_digits) {
    span_context ctx;
    ctx.trace_id = trace_id::from_uint64(0, 0xabc);
    ctx.trace_id_64bit = true;
    ctx.span_id = span_id::from_uint64(1);
    ctx.set_sampling_decision(false);
    EXPECT_EQ(jaeger_propagator::format(ctx), "0000000000000abc:0000000000000001:0:0");
}

TEST(jaeger, invalid_context_is_not_injected) {
    map_carrier headers;
    propagator.inject(span_context{}, headers);
    EXPECT_EQ(headers.size(), 0u);
}

class jaeger_round_trip : public ::testing::TestWithParam<std::string> {};

TEST_P(jaeger_round_trip, extract_of_inject_is_identity) {
    const auto ctx = extract_uber(GetParam());
    ASSERT_TRUE(ctx);
    map_carrier headers;
    propagator.inject(*ctx, headers);
    EXPECT_EQ(propagator.extract(headers), ctx);
}

INSTANTIATE_TEST_SUITE_P(jaeger, jaeger_round_trip,
                         ::testing::Values(full_trace + ":00f067aa0ba902b7:0:1",
                                           full_trace + ":00f067aa0ba902b7:5:0", "abc:def:1:3",
                                           "a3ce929d0e0e4736:1:0:1"));

TEST(jaeger, baggage_headers_are_not_fields) {
    ASSERT_EQ(propagator.fields().size(), 1u);
    EXPECT_EQ(propagator.fields()[0], "uber-trace-id");
    EXPECT_EQ(propagator.name(), "jaeger");
}

}  // namespace
}  // namespace tracegate::tracing
