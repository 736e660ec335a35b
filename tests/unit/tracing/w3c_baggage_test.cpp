#include "tracing/w3c_baggage.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

using test::map_carrier;

std::string members(std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) out += (i ? ",k" : "k") + std::to_string(i) + "=v";
    return out;
}

struct baggage_case {
    const char* name;
    std::string value;
};

class baggage_accepted : public ::testing::TestWithParam<baggage_case> {};

TEST_P(baggage_accepted, is_passed_on) {
    EXPECT_TRUE(is_acceptable_baggage(GetParam().value)) << GetParam().value;
}

INSTANTIATE_TEST_SUITE_P(
    baggage, baggage_accepted,
    ::testing::Values(baggage_case{"one_member", "userId=alice"},
                      baggage_case{"spec_example",
                                   "key1=value1;property1;property2, key2 = value2, key3=value3; "
                                   "propertyKey=propertyValue"},
                      baggage_case{"percent_encoded_value",
                                   "serverNode=DF%2028,isProduction=false"},
                      baggage_case{"empty_value", "key="},
                      baggage_case{"empty_members_from_combined_lines", "a=1,,b=2, ,"},
                      baggage_case{"exactly_180_members", members(180)},
                      baggage_case{"exactly_8192_bytes", "k=" + std::string(8190, 'v')}),
    [](const auto& info) { return std::string(info.param.name); });

class baggage_rejected : public ::testing::TestWithParam<baggage_case> {};

TEST_P(baggage_rejected, is_dropped) {
    EXPECT_FALSE(is_acceptable_baggage(GetParam().value)) << GetParam().value;
}

INSTANTIATE_TEST_SUITE_P(
    baggage, baggage_rejected,
    ::testing::Values(baggage_case{"more_than_180_members", members(181)},
                      baggage_case{"more_than_8192_bytes", "k=" + std::string(8191, 'v')},
                      baggage_case{"member_without_equals", "userId"},
                      baggage_case{"empty_key", "=alice"},
                      baggage_case{"key_with_space", "user id=alice"},
                      baggage_case{"key_with_separator", "user(id)=alice"},
                      baggage_case{"value_with_space", "userId=alice smith"},
                      baggage_case{"value_with_double_quote", "userId=\"alice\""},
                      baggage_case{"value_with_backslash", "userId=a\\b"},
                      baggage_case{"non_ascii_value", "userId=caf\xc3\xa9"},
                      baggage_case{"empty_property", "userId=alice;"},
                      baggage_case{"bad_property_key", "userId=alice;(x)"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(baggage, limits_are_configurable) {
    EXPECT_FALSE(is_acceptable_baggage("a=1,b=2", baggage_limits{.max_bytes = 6}));
    EXPECT_FALSE(is_acceptable_baggage("a=1,b=2", baggage_limits{.max_members = 1}));
    EXPECT_TRUE(is_acceptable_baggage("a=1,b=2", baggage_limits{.max_bytes = 7, .max_members = 2}));
}

TEST(baggage, good_header_is_left_byte_for_byte) {
    const std::string value = "key1=value1;property1, key2 = value2";
    map_carrier headers{{"baggage", value}};
    EXPECT_TRUE(limit_baggage(headers));
    EXPECT_EQ(headers.get("baggage"), value);
}

TEST(baggage, oversized_header_is_removed) {
    map_carrier headers{{"Baggage", members(181)}};
    EXPECT_FALSE(limit_baggage(headers));
    EXPECT_FALSE(headers.get("baggage"));
}

TEST(baggage, absent_header_stays_absent) {
    map_carrier headers{{"traceparent", "x"}};
    EXPECT_FALSE(limit_baggage(headers));
    EXPECT_EQ(headers.size(), 1u);
}

}  // namespace
}  // namespace tracegate::tracing
