#include "config/edit_distance.hpp"

#include <gtest/gtest.h>

#include <array>

namespace tracegate::config::detail {
namespace {

constexpr std::array<std::string_view, 5> keys{"name", "endpoints", "lb", "connect_timeout",
                                               "max_idle_connections"};

TEST(edit_distance, counts_single_edits) {
    EXPECT_EQ(edit_distance("name", "name"), 0u);
    EXPECT_EQ(edit_distance("nam", "name"), 1u);     // insertion
    EXPECT_EQ(edit_distance("namex", "name"), 1u);   // deletion
    EXPECT_EQ(edit_distance("nane", "name"), 1u);    // substitution
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(edit_distance, adjacent_transposition_costs_one) {
    EXPECT_EQ(edit_distance("endpionts", "endpoints"), 1u);
    EXPECT_EQ(edit_distance("anme", "name"), 1u);
}

TEST(nearest, suggests_the_closest_key) {
    EXPECT_EQ(nearest("endpionts", keys), "endpoints");
    EXPECT_EQ(nearest("conect_timeout", keys), "connect_timeout");
    EXPECT_EQ(nearest("max_idle_conections", keys), "max_idle_connections");
}

TEST(nearest, suggests_nothing_for_unrelated_words) {
    EXPECT_EQ(nearest("tls", keys), std::nullopt);
    EXPECT_EQ(nearest("weight", keys), std::nullopt);
    EXPECT_EQ(nearest("xy", keys), std::nullopt);  // two edits from "lb" is too far for 2 letters
}

TEST(nearest, short_keys_allow_one_edit) {
    EXPECT_EQ(nearest("lbb", keys), "lb");
}

}  // namespace
}  // namespace tracegate::config::detail
