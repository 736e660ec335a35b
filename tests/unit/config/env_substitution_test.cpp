#include "config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace tracegate::config {
namespace {

using test::fake_env;

std::optional<std::string> substitute(std::string_view text, std::string& problem) {
    return substitute_env(text, fake_env({{"HOST", "10.0.0.7"}, {"EMPTY", ""}}), problem);
}

std::string substituted(std::string_view text) {
    std::string problem;
    const auto out = substitute(text, problem);
    EXPECT_TRUE(out) << text << ": " << problem;
    return out.value_or("<failed>");
}

TEST(substitute_env, set_variable_is_replaced) {
    EXPECT_EQ(substituted("${HOST}"), "10.0.0.7");
    EXPECT_EQ(substituted("${HOST}:8080"), "10.0.0.7:8080");
    EXPECT_EQ(substituted("a${HOST}b${HOST}c"), "a10.0.0.7b10.0.0.7c");
}

TEST(substitute_env, default_applies_when_unset) {
    EXPECT_EQ(substituted("${PORT:-9000}"), "9000");
    EXPECT_EQ(substituted("${PORT:-}"), "");
    EXPECT_EQ(substituted("${PORT:-a:b-c}"), "a:b-c");
}

TEST(substitute_env, default_applies_when_empty_like_the_shell) {
    EXPECT_EQ(substituted("${EMPTY:-fallback}"), "fallback");
    EXPECT_EQ(substituted("${EMPTY}"), "");
}

TEST(substitute_env, set_variable_wins_over_default) {
    EXPECT_EQ(substituted("${HOST:-127.0.0.1}"), "10.0.0.7");
}

TEST(substitute_env, unset_variable_without_default_is_an_error) {
    std::string problem;
    EXPECT_FALSE(substitute("x-${MISSING}-y", problem));
    EXPECT_NE(problem.find("\"MISSING\" is not set"), std::string::npos) << problem;
}

TEST(substitute_env, double_dollar_is_a_literal_dollar) {
    EXPECT_EQ(substituted("$$"), "$");
    EXPECT_EQ(substituted("$${HOST}"), "${HOST}");
    EXPECT_EQ(substituted("cost: $$5"), "cost: $5");
}

TEST(substitute_env, lone_dollar_stays_so_regexes_need_no_escaping) {
    EXPECT_EQ(substituted("^/u/[0-9]+$"), "^/u/[0-9]+$");
    EXPECT_EQ(substituted("$HOST"), "$HOST");
}

TEST(substitute_env, text_without_references_is_unchanged) {
    EXPECT_EQ(substituted(""), "");
    EXPECT_EQ(substituted("plain {text}"), "plain {text}");
}

TEST(substitute_env, broken_references_are_errors) {
    std::string problem;
    EXPECT_FALSE(substitute("${HOST", problem));
    EXPECT_NE(problem.find("unterminated"), std::string::npos) << problem;
    EXPECT_FALSE(substitute("${}", problem));
    EXPECT_NE(problem.find("invalid variable reference"), std::string::npos) << problem;
    EXPECT_FALSE(substitute("${1ABC}", problem));
    EXPECT_FALSE(substitute("${A B}", problem));
    EXPECT_FALSE(substitute("${HOST:9000}", problem));
}

TEST(process_env, reads_the_real_environment) {
    ::setenv("TRACEGATE_CONFIG_TEST_VAR", "value-1", 1);
    EXPECT_EQ(process_env("TRACEGATE_CONFIG_TEST_VAR"), "value-1");
    ::unsetenv("TRACEGATE_CONFIG_TEST_VAR");
    EXPECT_EQ(process_env("TRACEGATE_CONFIG_TEST_VAR"), std::nullopt);
}

}  // namespace
}  // namespace tracegate::config
