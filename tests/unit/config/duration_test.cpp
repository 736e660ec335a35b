#include "config/loader.hpp"

#include <gtest/gtest.h>

namespace tracegate::config {
namespace {

using namespace std::chrono_literals;

TEST(parse_duration, milliseconds) {
    EXPECT_EQ(parse_duration("250ms"), duration{250});
    EXPECT_EQ(parse_duration("0ms"), duration{0});
}

TEST(parse_duration, seconds) {
    EXPECT_EQ(parse_duration("10s"), duration{10000});
}

TEST(parse_duration, minutes) {
    EXPECT_EQ(parse_duration("2m"), duration{120000});
}

TEST(parse_duration, hours) {
    EXPECT_EQ(parse_duration("1h"), duration{3600000});
    EXPECT_EQ(parse_duration("24h"), std::chrono::duration_cast<duration>(24h));
}

TEST(parse_duration, bare_zero_means_zero) {
    EXPECT_EQ(parse_duration("0"), duration{0});
}

TEST(parse_duration, number_without_unit_is_rejected) {
    EXPECT_FALSE(parse_duration("5"));
    EXPECT_FALSE(parse_duration("00"));
}

TEST(parse_duration, unknown_unit_is_rejected) {
    EXPECT_FALSE(parse_duration("5sec"));
    EXPECT_FALSE(parse_duration("5S"));
    EXPECT_FALSE(parse_duration("5us"));
    EXPECT_FALSE(parse_duration("5d"));
}

TEST(parse_duration, fractions_signs_and_spaces_are_rejected) {
    EXPECT_FALSE(parse_duration("1.5s"));
    EXPECT_FALSE(parse_duration("-1s"));
    EXPECT_FALSE(parse_duration("+1s"));
    EXPECT_FALSE(parse_duration("1 s"));
    EXPECT_FALSE(parse_duration(" 1s"));
    EXPECT_FALSE(parse_duration("1s "));
    EXPECT_FALSE(parse_duration("1s2ms"));
}

TEST(parse_duration, empty_and_words_are_rejected) {
    EXPECT_FALSE(parse_duration(""));
    EXPECT_FALSE(parse_duration("s"));
    EXPECT_FALSE(parse_duration("forever"));
}

TEST(parse_duration, overflow_is_rejected_not_wrapped) {
    EXPECT_FALSE(parse_duration("99999999999999999999ms"));
    EXPECT_FALSE(parse_duration("9223372036854775807h"));
    EXPECT_EQ(parse_duration("9223372036854775807ms"), duration{9223372036854775807});
}

}  // namespace
}  // namespace tracegate::config
