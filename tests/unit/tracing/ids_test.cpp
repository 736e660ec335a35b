#include "tracing/ids.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

TEST(trace_id, default_is_all_zero_and_invalid) {
    const trace_id id;
    EXPECT_FALSE(id.is_valid());
    EXPECT_EQ(id.to_hex(), std::string(32, '0'));
}

TEST(trace_id, hex_round_trips_lowercase) {
    const auto id = trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
    ASSERT_TRUE(id);
    EXPECT_TRUE(id->is_valid());
    EXPECT_EQ(id->to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(id->high(), 0x4bf92f3577b34da6ULL);
    EXPECT_EQ(id->low(), 0xa3ce929d0e0e4736ULL);
    EXPECT_EQ(id->bytes()[0], 0x4b);
    EXPECT_EQ(id->bytes()[15], 0x36);
}

TEST(trace_id, from_uint64_puts_high_half_first) {
    const auto id = trace_id::from_uint64(0x0102030405060708ULL, 0x090a0b0c0d0e0f10ULL);
    EXPECT_EQ(id.to_hex(), "0102030405060708090a0b0c0d0e0f10");
    EXPECT_EQ(trace_id::from_uint64(0, 1).to_hex(), "00000000000000000000000000000001");
    EXPECT_TRUE(trace_id::from_uint64(0, 1).is_valid());
    EXPECT_TRUE(trace_id::from_uint64(1, 0).is_valid());
}

TEST(trace_id, zero_hex_parses_but_is_invalid) {
    const auto id = trace_id::from_hex(std::string(32, '0'));
    ASSERT_TRUE(id);
    EXPECT_FALSE(id->is_valid());
}

struct bad_hex_case {
    const char* name;
    const char* text;
};

class trace_id_rejects : public ::testing::TestWithParam<bad_hex_case> {};

TEST_P(trace_id_rejects, malformed_hex) {
    EXPECT_FALSE(trace_id::from_hex(GetParam().text));
}

INSTANTIATE_TEST_SUITE_P(
    ids, trace_id_rejects,
    ::testing::Values(bad_hex_case{"empty", ""},
                      bad_hex_case{"one_digit_short", "4bf92f3577b34da6a3ce929d0e0e473"},
                      bad_hex_case{"one_digit_long", "4bf92f3577b34da6a3ce929d0e0e47360"},
                      bad_hex_case{"uppercase", "4BF92F3577B34DA6A3CE929D0E0E4736"},
                      bad_hex_case{"non_hex_letter", "4bf92f3577b34da6a3ce929d0e0e473g"},
                      bad_hex_case{"space_inside", "4bf92f3577b34da6 3ce929d0e0e4736"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(span_id, hex_and_number_agree) {
    const auto id = span_id::from_hex("00f067aa0ba902b7");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->to_uint64(), 0x00f067aa0ba902b7ULL);
    EXPECT_EQ(span_id::from_uint64(0x00f067aa0ba902b7ULL), *id);
    EXPECT_EQ(id->to_hex(), "00f067aa0ba902b7");
}

TEST(span_id, zero_is_invalid_and_others_valid) {
    EXPECT_FALSE(span_id{}.is_valid());
    EXPECT_FALSE(span_id::from_hex("0000000000000000")->is_valid());
    EXPECT_TRUE(span_id::from_uint64(1).is_valid());
}

TEST(span_id, rejects_wrong_length_uppercase_and_non_hex) {
    EXPECT_FALSE(span_id::from_hex("00f067aa0ba902b"));
    EXPECT_FALSE(span_id::from_hex("00f067aa0ba902b70"));
    EXPECT_FALSE(span_id::from_hex("00F067AA0BA902B7"));
    EXPECT_FALSE(span_id::from_hex("00f067aa0ba902bz"));
}

TEST(span_id, write_hex_fills_exactly_sixteen_characters) {
    std::string buffer(18, '#');
    span_id::from_uint64(0xabcdef0123456789ULL).write_hex(buffer.data() + 1);
    EXPECT_EQ(buffer, "#abcdef0123456789#");
}

}  // namespace
}  // namespace tracegate::tracing
