// The `match:` part of routes: criteria, normalization, and their errors.
#include "config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

namespace tracegate::config {
namespace {

using test::has_error;
using test::has_only_error;

// Lines 1-3 are fixed; the route's match starts on line 4, e.g. "match: {path: /x}".
load_result load_match(std::string_view match) {
    return test::load(std::string(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
routes:
  - upstream: app
    name: r
    )") + std::string(match) + "\n");
}

TEST(route_match, invalid_path_regex_reports_the_regex_error) {
    const load_result r = load_match(R"(match: {path_regex: "^/u/([0-9]+$"})");
    ASSERT_TRUE(has_only_error(r, 6, 25, "path_regex: invalid regular expression \"^/u/([0-9]+$\": "));
    // The message carries std::regex's own reason after the pattern.
    EXPECT_GT(r.errors[0].message.size(),
              std::string_view("path_regex: invalid regular expression \"^/u/([0-9]+$\": ").size());
}

TEST(route_match, valid_path_regex_is_kept_verbatim) {
    const load_result r = load_match(R"(match: {path_regex: "^/u/[0-9]+$"})");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->routes[0].match.path_regex, "^/u/[0-9]+$");
}

TEST(route_match, more_than_one_path_criterion_is_an_error) {
    const load_result r = load_match(R"(match:
      path: /a
      path_prefix: /b
      path_regex: ^/c$)");
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_error(r, 8, 20, "path_prefix: conflicts with \"path\"; a match takes only one of path, path_prefix, path_regex"));
    EXPECT_TRUE(has_error(r, 9, 19, "path_regex: conflicts with \"path\""));
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
}

TEST(route_match, path_must_start_with_slash) {
    const load_result r = load_match("match: {path: users}");
    EXPECT_TRUE(has_only_error(r, 6, 19, "path: \"users\" must start with \"/\""));
}

TEST(route_match, path_prefix_must_start_with_slash) {
    const load_result r = load_match("match: {path_prefix: api/v1}");
    EXPECT_TRUE(has_only_error(r, 6, 26, "path_prefix: \"api/v1\" must start with \"/\""));
}

TEST(route_match, methods_are_uppercased_host_and_header_names_lowercased) {
    const load_result r = load_match(R"(match:
      host: API.Example.COM
      path: /exact
      methods: [get, Post, DELETE]
      headers: {X-Tenant: Blue, accept: text/html})");
    ASSERT_TRUE(r) << test::all_errors(r);
    const route_match& m = r.value->routes[0].match;
    EXPECT_EQ(m.host, "api.example.com");
    EXPECT_EQ(m.path, "/exact");
    EXPECT_EQ(m.methods, (std::vector<std::string>{"GET", "POST", "DELETE"}));
    // Header values are compared exactly, so their case is kept.
    EXPECT_EQ(m.headers, (std::map<std::string, std::string>{{"accept", "text/html"},
                                                             {"x-tenant", "Blue"}}));
}

TEST(route_match, wildcard_host_is_kept_lowercased) {
    const load_result r = load_match(R"(match: {host: "*.Example.com"})");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->routes[0].match.host, "*.example.com");
}

TEST(route_match, wildcard_elsewhere_than_leading_label_is_an_error) {
    const load_result r = load_match(R"(match: {host: "api.*.com"})");
    EXPECT_TRUE(has_only_error(r, 6, 19, "host: \"api.*.com\" a wildcard is only allowed as a leading"));
}

TEST(route_match, invalid_method_is_an_error) {
    const load_result r = load_match(R"(match: {methods: [GET, "PO ST"]})");
    EXPECT_TRUE(has_only_error(r, 6, 28, "method: \"PO ST\" is not a valid HTTP method"));
}

TEST(route_match, methods_must_be_a_list) {
    const load_result r = load_match(R"(match: {methods: {GET: 1}})");
    EXPECT_TRUE(has_only_error(r, 6, 22, "methods: expected a list, got a map"));
}

TEST(route_match, headers_must_be_a_map) {
    const load_result r = load_match(R"(match: {headers: [x-tenant]})");
    EXPECT_TRUE(has_only_error(r, 6, 22, "headers: expected a map of header name to value, got a list"));
}

TEST(route_match, header_listed_twice_in_different_case_is_an_error) {
    const load_result r = load_match(R"(match: {headers: {X-A: "1", x-a: "2"}})");
    EXPECT_TRUE(has_only_error(r, 6, 33, "headers: header \"x-a\" is listed twice"));
}

TEST(route_match, empty_match_matches_everything) {
    const load_result r = load_match("match:");
    ASSERT_TRUE(r) << test::all_errors(r);
    const route_match& m = r.value->routes[0].match;
    EXPECT_EQ(m.host, std::nullopt);
    EXPECT_EQ(m.path, std::nullopt);
    EXPECT_TRUE(m.methods.empty());
}

TEST(route_match, env_substitution_applies_to_match_values) {
    const load_result r = test::load(R"(
listeners: [{name: l, address: 127.0.0.1:0}]
upstreams: [{name: app}]
routes:
  - {name: r, upstream: app, match: {host: "${DOMAIN}", headers: {x-tenant: "${TENANT:-blue}"}}}
)",
                                     {{"DOMAIN", "Shop.Example"}});
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(r.value->routes[0].match.host, "shop.example");
    EXPECT_EQ(r.value->routes[0].match.headers.at("x-tenant"), "blue");
}

}  // namespace
}  // namespace tracegate::config
