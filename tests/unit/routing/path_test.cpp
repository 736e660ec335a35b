#include "routing/path.hpp"

#include <gtest/gtest.h>

namespace tracegate::routing {
namespace {

TEST(path, dot_segments_are_detected_only_as_whole_segments) {
    EXPECT_TRUE(has_dot_segments("/a/../b"));
    EXPECT_TRUE(has_dot_segments("/a/./b"));
    EXPECT_TRUE(has_dot_segments("/a/.."));
    EXPECT_TRUE(has_dot_segments("/."));
    EXPECT_FALSE(has_dot_segments("/a/..b/c"));
    EXPECT_FALSE(has_dot_segments("/.well-known/x"));
    EXPECT_FALSE(has_dot_segments("/a/b.c"));
    EXPECT_FALSE(has_dot_segments("/"));
}

TEST(path, normalization_removes_dot_segments_like_rfc_3986) {
    EXPECT_EQ(normalize_path("/public/../admin"), "/admin");
    EXPECT_EQ(normalize_path("/a/b/c/./../../g"), "/a/g");
    EXPECT_EQ(normalize_path("/a/./b"), "/a/b");
    EXPECT_EQ(normalize_path("/a/b/.."), "/a/");
    EXPECT_EQ(normalize_path("/a/b/."), "/a/b/");
    EXPECT_EQ(normalize_path("/../../etc/passwd"), "/etc/passwd");
    EXPECT_EQ(normalize_path("/.."), "/");
    EXPECT_EQ(normalize_path("/a//b"), "/a//b");
    EXPECT_EQ(normalize_path("/users/42"), "/users/42");
}

}  // namespace
}  // namespace tracegate::routing
