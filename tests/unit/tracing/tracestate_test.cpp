#include "tracing/tracestate.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tracegate::tracing {
namespace {

// "key=xxxx" with `value_size` x's.
std::string member(const std::string& key, std::size_t value_size) {
    return key + "=" + std::string(value_size, 'x');
}

// "k0=v,k1=v,...": `count` members named k0, k1, ...
std::string members(std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) out += (i ? ",k" : "k") + std::to_string(i) + "=v";
    return out;
}

struct valid_case {
    const char* name;
    std::string header;
    std::string canonical;
};

class tracestate_accepts : public ::testing::TestWithParam<valid_case> {};

TEST_P(tracestate_accepts, and_canonicalizes) {
    const auto parsed = parse_tracestate(GetParam().header);
    ASSERT_TRUE(parsed) << GetParam().header;
    EXPECT_EQ(*parsed, GetParam().canonical);
}

INSTANTIATE_TEST_SUITE_P(
    tracestate, tracestate_accepts,
    ::testing::Values(
        valid_case{"one_member", "foo=1", "foo=1"},
        valid_case{"two_members_keep_order", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
                   "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
        valid_case{"ows_around_members_is_dropped", " foo=1 \t , \t bar=2, \t baz=3\t",
                   "foo=1,bar=2,baz=3"},
        valid_case{"empty_members_are_skipped", ",foo=1,,bar=2,", "foo=1,bar=2"},
        valid_case{"whitespace_only_members_are_skipped", "foo=1, \t ,bar=2", "foo=1,bar=2"},
        valid_case{"empty_header_is_an_empty_list", "", ""},
        valid_case{"only_commas_is_an_empty_list", " , ,", ""},
        valid_case{"multi_tenant_key", "fw529a3039@dt=1", "fw529a3039@dt=1"},
        valid_case{"multi_tenant_key_starting_with_digit", "1tenant@vendor=x", "1tenant@vendor=x"},
        valid_case{"simple_key_starting_with_digit", "1abc=x", "1abc=x"},
        valid_case{"key_with_every_special_character", "a_-*/@z=1", "a_-*/@z=1"},
        valid_case{"key_of_256_characters", member(std::string(256, 'k'), 1),
                   member(std::string(256, 'k'), 1)},
        valid_case{"value_of_256_characters", member("k", 256), member("k", 256)},
        valid_case{"value_with_inner_and_leading_space", "foo= a b", "foo= a b"},
        valid_case{"value_with_every_allowed_punctuation", "foo=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~",
                   "foo=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~"},
        valid_case{"exactly_32_members", members(32), members(32)}),
    [](const auto& info) { return std::string(info.param.name); });

struct invalid_case {
    const char* name;
    std::string header;
};

class tracestate_is_dropped_whole : public ::testing::TestWithParam<invalid_case> {};

TEST_P(tracestate_is_dropped_whole, when) {
    EXPECT_FALSE(parse_tracestate(GetParam().header)) << GetParam().header;
}

INSTANTIATE_TEST_SUITE_P(
    tracestate, tracestate_is_dropped_whole,
    ::testing::Values(invalid_case{"more_than_32_members", members(33)},
                      invalid_case{"duplicate_key", "foo=1,bar=2,foo=3"},
                      invalid_case{"uppercase_key", "Foo=1"},
                      invalid_case{"key_starting_with_underscore", "_foo=1"},
                      invalid_case{"key_starting_with_at_sign", "@foo=1"},
                      invalid_case{"key_with_dot", "foo.bar=1"},
                      invalid_case{"key_with_inner_space", "foo bar=1"},
                      invalid_case{"space_before_equals", "foo =1"},
                      invalid_case{"key_of_257_characters", member(std::string(257, 'k'), 1)},
                      invalid_case{"empty_key", "=1"}, invalid_case{"member_without_equals", "foo"},
                      invalid_case{"empty_value", "foo="},
                      invalid_case{"value_of_257_characters", member("k", 257)},
                      invalid_case{"value_with_equals", "foo=bar=baz"},
                      invalid_case{"value_with_tab_inside", "foo=a\tb"},
                      invalid_case{"value_with_control_character", "foo=a\x01"},
                      invalid_case{"value_with_delete_character", "foo=a\x7f"},
                      invalid_case{"value_with_non_ascii_byte", "foo=caf\xc3\xa9"},
                      invalid_case{"one_bad_member_among_good_ones", "foo=1,BAR=2,baz=3"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(tracestate, value_must_not_end_in_a_space) {
    EXPECT_FALSE(is_valid_tracestate_value("bar "));
    EXPECT_TRUE(is_valid_tracestate_value(" bar"));
}

TEST(tracestate, key_grammar_boundaries) {
    EXPECT_TRUE(is_valid_tracestate_key("a"));
    EXPECT_TRUE(is_valid_tracestate_key("0"));
    EXPECT_FALSE(is_valid_tracestate_key(""));
    EXPECT_FALSE(is_valid_tracestate_key("-a"));
    EXPECT_FALSE(is_valid_tracestate_key("a=b"));
}

TEST(tracestate, over_512_characters_drops_members_from_the_end) {
    // 32 members of 20 characters: 32 * 20 + 31 commas = 671 > 512. 24 members are
    // 24 * 20 + 23 = 503 characters; a 25th would make 524.
    std::string header;
    std::string expected;
    for (int i = 0; i < 32; ++i) {
        const std::string m = member("k" + std::string(i < 10 ? "0" : "") + std::to_string(i), 16);
        ASSERT_EQ(m.size(), 20u);
        header += (i ? "," : "") + m;
        if (i < 24) expected += (i ? "," : "") + m;
    }
    const auto parsed = parse_tracestate(header);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->size(), 503u);
    EXPECT_EQ(*parsed, expected);
}

TEST(tracestate, exactly_512_characters_is_kept_whole) {
    // 3 + 202 + 202 + 102 + 3 commas = 512
    const std::string header =
        "a=1," + member("b", 200) + "," + member("c", 200) + "," + member("d", 100);
    ASSERT_EQ(header.size(), 512u);
    EXPECT_EQ(parse_tracestate(header), header);
}

TEST(tracestate, members_over_128_characters_are_removed_first_from_the_end) {
    // 516 characters; removing the last long member (c, 202) is enough: the short e=1 at
    // the end and the long b before it stay.
    const std::string header =
        "a=1," + member("b", 200) + "," + member("c", 200) + "," + member("d", 100) + ",e=1";
    const std::string expected = "a=1," + member("b", 200) + "," + member("d", 100) + ",e=1";
    EXPECT_EQ(parse_tracestate(header), expected);
}

TEST(tracestate, truncation_limit_is_a_parameter) {
    EXPECT_EQ(parse_tracestate("foo=1,bar=2,baz=3", 11), "foo=1,bar=2");
    EXPECT_EQ(parse_tracestate("foo=1,bar=2,baz=3", 4), "");
}

TEST(tracestate, truncate_keeps_a_list_that_fits_and_cuts_one_that_does_not) {
    EXPECT_EQ(truncate_tracestate("foo=1,bar=2"), "foo=1,bar=2");
    const std::string long_member = member("ours", 200);
    EXPECT_EQ(truncate_tracestate("foo=1," + long_member + ",bar=2", 20), "foo=1,bar=2");
}

}  // namespace
}  // namespace tracegate::tracing
