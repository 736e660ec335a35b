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

resolved_path::verdict verdict_of(std::string_view path) { return resolve_dot_segments(path).outcome; }

TEST(path, encoded_dots_are_decoded_then_removed_like_literal_ones) {
    using v = resolved_path::verdict;
    EXPECT_EQ(resolve_dot_segments("/public/%2e%2e/secret").path, "/secret");
    EXPECT_EQ(resolve_dot_segments("/public/%2E%2E/secret").path, "/secret");
    EXPECT_EQ(resolve_dot_segments("/public/.%2e/secret").path, "/secret");
    EXPECT_EQ(resolve_dot_segments("/a/%2e/b").path, "/a/b");
    EXPECT_EQ(resolve_dot_segments("/public/../secret").path, "/secret");
    EXPECT_EQ(verdict_of("/public/%2e%2e/secret"), v::rewritten);
}

TEST(path, paths_without_dot_segments_are_left_as_written) {
    using v = resolved_path::verdict;
    EXPECT_EQ(verdict_of("/files/a%2Etxt"), v::unchanged);
    EXPECT_EQ(verdict_of("/a/..b/c%2F"), v::unchanged);
    EXPECT_EQ(verdict_of("/a/b;c=d/e"), v::unchanged);
    EXPECT_EQ(verdict_of("/.well-known/x"), v::unchanged);
    EXPECT_EQ(verdict_of("/"), v::unchanged);
    EXPECT_EQ(verdict_of("/%2e%2ex/y"), v::unchanged);
}

TEST(path, dot_segments_only_a_lenient_upstream_sees_are_refused) {
    using v = resolved_path::verdict;
    EXPECT_EQ(verdict_of("/public/%2e%2e%2fsecret"), v::refused);
    EXPECT_EQ(verdict_of("/public/%2E%2E%2Fsecret"), v::refused);
    EXPECT_EQ(verdict_of("/public/..%2Fsecret"), v::refused);
    EXPECT_EQ(verdict_of("/public/..%5csecret"), v::refused);
    EXPECT_EQ(verdict_of("/public/..\\secret"), v::refused);
    EXPECT_EQ(verdict_of("/public\\..\\secret"), v::refused);
    EXPECT_EQ(verdict_of("/public/..;/secret"), v::refused);
    EXPECT_EQ(verdict_of("/public/.;x/secret"), v::refused);
    EXPECT_EQ(verdict_of("/public/%2e%2e;/secret"), v::refused);
    // ";" encoded: decoded once, it still cuts the segment's name to "." or "..".
    EXPECT_EQ(verdict_of("/public/..%3B/secret"), v::refused);
    EXPECT_EQ(verdict_of("/-%rc/.%3B.%r"), v::refused);
    EXPECT_EQ(verdict_of("/public/.%3bx"), v::refused);
    EXPECT_EQ(verdict_of("/public/a%3B/b"), v::unchanged);
}

}  // namespace
}  // namespace tracegate::routing
