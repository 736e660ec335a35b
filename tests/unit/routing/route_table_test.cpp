#include "routing/route_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>
#include <string>

namespace tracegate::routing {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

/// A request_view over plain strings and a header map with case-insensitive names.
class map_request final : public request_view {
public:
    map_request(std::string method, std::string host, std::string path,
                std::map<std::string, std::string> headers = {})
        : method_(std::move(method)), host_(std::move(host)), path_(std::move(path)) {
        for (auto& [name, value] : headers) {
            headers_[lower(name)] = std::move(value);
        }
    }

    std::string_view method() const override { return method_; }
    std::string_view host() const override { return host_; }
    std::string_view path() const override { return path_; }
    std::optional<std::string_view> header(std::string_view name) const override {
        const auto it = headers_.find(lower(name));
        if (it == headers_.end()) {
            return std::nullopt;
        }
        return std::string_view(it->second);
    }

private:
    std::string method_;
    std::string host_;
    std::string path_;
    std::map<std::string, std::string> headers_;
};

map_request get(std::string path, std::string host = "example.com") {
    return map_request("GET", std::move(host), std::move(path));
}

/// Builds a route_match one criterion at a time (designated initializers with gaps warn
/// under -Wextra).
class match {
public:
    match& host(std::string v) { m_.host = std::move(v); return *this; }
    match& path(std::string v) { m_.path = std::move(v); return *this; }
    match& path_prefix(std::string v) { m_.path_prefix = std::move(v); return *this; }
    match& path_regex(std::string v) { m_.path_regex = std::move(v); return *this; }
    match& methods(std::vector<std::string> v) { m_.methods = std::move(v); return *this; }
    match& header(std::string name, std::string value) {
        m_.headers[std::move(name)] = std::move(value);
        return *this;
    }
    operator config::route_match() const { return m_; }

private:
    config::route_match m_;
};

config::route_config make_route(std::string name, config::route_match match,
                                std::string upstream = "backend") {
    config::route_config rc;
    rc.name = std::move(name);
    rc.match = std::move(match);
    rc.upstream = std::move(upstream);
    return rc;
}

config::settings make_settings(std::vector<config::route_config> routes) {
    config::settings s;
    for (const char* name : {"backend", "other"}) {
        config::upstream_config u;
        u.name = name;
        s.upstreams.push_back(u);
    }
    s.routes = std::move(routes);
    return s;
}

/// A table with the single route `match`, for tests of one criterion.
route_table table_with(config::route_match match) {
    return route_table(make_settings({make_route("only", std::move(match))}));
}

bool matches(const route_table& table, const request_view& request) {
    return table.match(request) != nullptr;
}

// --- construction ---------------------------------------------------------------------

TEST(route_table, keeps_routes_in_config_order_with_upstream_indexes) {
    const route_table table(make_settings({
        make_route("a", match().path_prefix("/a"), "other"),
        make_route("b", match().path_prefix("/b"), "backend"),
    }));
    ASSERT_EQ(table.routes().size(), 2u);
    EXPECT_EQ(table.routes()[0].config.name, "a");
    EXPECT_EQ(table.routes()[0].upstream_index, 1u);
    EXPECT_EQ(table.routes()[1].config.name, "b");
    EXPECT_EQ(table.routes()[1].upstream_index, 0u);
}

TEST(route_table, compiles_path_regex_only_when_configured) {
    const route_table table(make_settings({
        make_route("re", match().path_regex("/x/[0-9]+")),
        make_route("plain", match().path("/x")),
    }));
    EXPECT_NE(table.routes()[0].path_regex, nullptr);
    EXPECT_EQ(table.routes()[1].path_regex, nullptr);
}

TEST(route_table, unknown_upstream_fails_loudly) {
    EXPECT_THROW(route_table(make_settings({make_route("r", match(), "missing")})),
                 std::invalid_argument);
}

TEST(route_table, invalid_regex_fails_loudly) {
    EXPECT_THROW(route_table(make_settings({make_route("r", match().path_regex("(unclosed"))})),
                 std::invalid_argument);
}

TEST(route_table, empty_table_matches_nothing) {
    const route_table table(make_settings({}));
    EXPECT_EQ(table.match(get("/")), nullptr);
}

// --- host -----------------------------------------------------------------------------

TEST(route_table, exact_host_matches_only_that_host) {
    const auto table = table_with(match().host("api.example.com"));
    EXPECT_TRUE(matches(table, get("/", "api.example.com")));
    EXPECT_FALSE(matches(table, get("/", "www.example.com")));
    EXPECT_FALSE(matches(table, get("/", "x.api.example.com")));
    EXPECT_FALSE(matches(table, get("/", "example.com")));
}

TEST(route_table, host_match_ignores_port_case_and_trailing_dot) {
    const auto table = table_with(match().host("api.example.com"));
    EXPECT_TRUE(matches(table, get("/", "API.Example.COM:8080")));
    EXPECT_TRUE(matches(table, get("/", "api.example.com.")));
    EXPECT_TRUE(matches(table, get("/", "api.example.com.:443")));
}

TEST(route_table, wildcard_host_matches_one_or_more_labels_before_the_suffix) {
    const auto table = table_with(match().host("*.example.com"));
    EXPECT_TRUE(matches(table, get("/", "a.example.com")));
    EXPECT_TRUE(matches(table, get("/", "a.b.example.com")));
    EXPECT_TRUE(matches(table, get("/", "A.Example.com:8443")));
}

TEST(route_table, wildcard_host_does_not_match_the_bare_suffix_or_a_longer_label) {
    const auto table = table_with(match().host("*.example.com"));
    EXPECT_FALSE(matches(table, get("/", "example.com")));
    EXPECT_FALSE(matches(table, get("/", "xexample.com")));
    EXPECT_FALSE(matches(table, get("/", ".example.com")));
    EXPECT_FALSE(matches(table, get("/", "a.example.org")));
}

TEST(route_table, ipv6_host_with_port_matches_bracketed_pattern) {
    const auto table = table_with(match().host("[::1]"));
    EXPECT_TRUE(matches(table, get("/", "[::1]:8080")));
    EXPECT_TRUE(matches(table, get("/", "[::1]")));
    EXPECT_FALSE(matches(table, get("/", "[::2]:8080")));
}

// --- path -----------------------------------------------------------------------------

TEST(route_table, exact_path_matches_only_the_same_path) {
    const auto table = table_with(match().path("/health"));
    EXPECT_TRUE(matches(table, get("/health")));
    EXPECT_FALSE(matches(table, get("/health/")));
    EXPECT_FALSE(matches(table, get("/healthz")));
    EXPECT_FALSE(matches(table, get("/Health")));
    EXPECT_FALSE(matches(table, get("/")));
}

TEST(route_table, path_prefix_is_a_plain_string_prefix) {
    const auto table = table_with(match().path_prefix("/api"));
    EXPECT_TRUE(matches(table, get("/api")));
    EXPECT_TRUE(matches(table, get("/api/users")));
    // Like Envoy's `prefix`: not segment-aware.
    EXPECT_TRUE(matches(table, get("/apis")));
    EXPECT_FALSE(matches(table, get("/ap")));
    EXPECT_FALSE(matches(table, get("/v1/api")));
}

TEST(route_table, path_regex_must_match_the_whole_path) {
    const auto table = table_with(match().path_regex("/users/[0-9]+"));
    EXPECT_TRUE(matches(table, get("/users/42")));
    EXPECT_FALSE(matches(table, get("/users/42/orders")));  // would match partially
    EXPECT_FALSE(matches(table, get("/v1/users/42")));
    EXPECT_FALSE(matches(table, get("/users/abc")));
}

TEST(route_table, path_regex_on_a_very_long_path_answers_without_exhausting_the_stack) {
    // std::regex recursed once per character: a 35,000-character path overflowed a
    // worker's stack. The regex engine must be linear in time and bounded in stack.
    const auto table = table_with(match().path_regex("^/users/[0-9]+$"));
    EXPECT_FALSE(matches(table, get("/" + std::string(1'000'000, 'a'))));
    EXPECT_TRUE(matches(table, get("/users/" + std::string(1'000'000, '7'))));
    const auto nested = table_with(match().path_regex("(/(a|aa)*)+b"));
    EXPECT_FALSE(matches(nested, get("/" + std::string(100'000, 'a'))));  // no backtracking blow-up
}

// --- method ---------------------------------------------------------------------------

TEST(route_table, empty_method_list_matches_any_method) {
    const auto table = table_with(match().path_prefix("/"));
    EXPECT_TRUE(matches(table, map_request("GET", "h", "/")));
    EXPECT_TRUE(matches(table, map_request("DELETE", "h", "/")));
    EXPECT_TRUE(matches(table, map_request("PATCH", "h", "/")));
}

TEST(route_table, method_list_matches_only_listed_methods_case_sensitively) {
    const auto table = table_with(match().methods({"GET", "HEAD"}));
    EXPECT_TRUE(matches(table, map_request("GET", "h", "/")));
    EXPECT_TRUE(matches(table, map_request("HEAD", "h", "/")));
    EXPECT_FALSE(matches(table, map_request("POST", "h", "/")));
    EXPECT_FALSE(matches(table, map_request("get", "h", "/")));  // methods are case-sensitive
}

// --- headers --------------------------------------------------------------------------

TEST(route_table, header_criterion_requires_presence_and_exact_value) {
    const auto table = table_with(match().header("x-tenant", "blue"));
    EXPECT_TRUE(matches(table, map_request("GET", "h", "/", {{"x-tenant", "blue"}})));
    EXPECT_TRUE(matches(table, map_request("GET", "h", "/", {{"X-Tenant", "blue"}})));
    EXPECT_FALSE(matches(table, map_request("GET", "h", "/")));
    EXPECT_FALSE(matches(table, map_request("GET", "h", "/", {{"x-tenant", "green"}})));
    EXPECT_FALSE(matches(table, map_request("GET", "h", "/", {{"x-tenant", "Blue"}})));
    EXPECT_FALSE(matches(table, map_request("GET", "h", "/", {{"x-tenant", "blue2"}})));
}

TEST(route_table, every_configured_header_must_match) {
    const auto table = table_with(match().header("x-a", "1").header("x-b", "2"));
    EXPECT_TRUE(matches(table, map_request("GET", "h", "/", {{"x-a", "1"}, {"x-b", "2"}})));
    EXPECT_FALSE(matches(table, map_request("GET", "h", "/", {{"x-a", "1"}})));
    EXPECT_FALSE(matches(table, map_request("GET", "h", "/", {{"x-b", "2"}})));
}

// --- combinations and precedence ------------------------------------------------------

TEST(route_table, route_without_criteria_matches_everything) {
    const auto table = table_with(match());
    EXPECT_TRUE(matches(table, map_request("OPTIONS", "anything:1", "/any/path")));
}

TEST(route_table, every_present_criterion_must_hold) {
    const auto table = table_with(match()
                                      .host("api.example.com")
                                      .path_prefix("/v1/")
                                      .methods({"POST"})
                                      .header("x-tenant", "blue"));
    const std::map<std::string, std::string> blue{{"x-tenant", "blue"}};
    EXPECT_TRUE(matches(table, map_request("POST", "api.example.com", "/v1/x", blue)));
    EXPECT_FALSE(matches(table, map_request("POST", "web.example.com", "/v1/x", blue)));
    EXPECT_FALSE(matches(table, map_request("POST", "api.example.com", "/v2/x", blue)));
    EXPECT_FALSE(matches(table, map_request("GET", "api.example.com", "/v1/x", blue)));
    EXPECT_FALSE(matches(table, map_request("POST", "api.example.com", "/v1/x")));
}

TEST(route_table, exact_path_and_prefix_together_both_apply) {
    const auto table = table_with(match().path("/a/b").path_prefix("/a"));
    EXPECT_TRUE(matches(table, get("/a/b")));
    const auto contradictory = table_with(match().path("/a/b").path_prefix("/x"));
    EXPECT_FALSE(matches(contradictory, get("/a/b")));
}

TEST(route_table, first_matching_route_wins_even_if_a_later_one_is_more_specific) {
    const route_table table(make_settings({
        make_route("broad", match().path_prefix("/"), "backend"),
        make_route("specific", match().host("api.example.com").path("/users"), "other"),
    }));
    const route* r = table.match(get("/users", "api.example.com"));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->config.name, "broad");
    EXPECT_EQ(r->upstream_index, 0u);
}

TEST(route_table, later_route_is_used_when_earlier_ones_do_not_match) {
    const route_table table(make_settings({
        make_route("api", match().path_prefix("/api"), "backend"),
        make_route("rest", match().path_prefix("/"), "other"),
    }));
    const route* r = table.match(get("/index.html"));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->config.name, "rest");
    EXPECT_EQ(r->upstream_index, 1u);
    EXPECT_EQ(table.match(get("/api/x"))->config.name, "api");
}

TEST(route_table, no_matching_route_returns_nullptr) {
    const route_table table(make_settings({
        make_route("api", match().path_prefix("/api")),
        make_route("health", match().path("/health")),
    }));
    EXPECT_EQ(table.match(get("/other")), nullptr);
}

// --- normalize_host / host_matches ----------------------------------------------------

TEST(normalize_host, lowercases_and_strips_port) {
    EXPECT_EQ(normalize_host("Example.COM:8080"), "example.com");
    EXPECT_EQ(normalize_host("example.com"), "example.com");
    EXPECT_EQ(normalize_host("10.0.0.1:80"), "10.0.0.1");
}

TEST(normalize_host, keeps_ipv6_brackets_and_strips_port) {
    EXPECT_EQ(normalize_host("[::1]:8080"), "[::1]");
    EXPECT_EQ(normalize_host("[::1]"), "[::1]");
    EXPECT_EQ(normalize_host("[2001:DB8::1]:443"), "[2001:db8::1]");
}

TEST(normalize_host, removes_trailing_dot) {
    EXPECT_EQ(normalize_host("example.com."), "example.com");
    EXPECT_EQ(normalize_host("Example.com.:8080"), "example.com");
}

TEST(normalize_host, empty_stays_empty) {
    EXPECT_EQ(normalize_host(""), "");
}

TEST(host_matches, exact_and_wildcard) {
    EXPECT_TRUE(host_matches("example.com", "example.com"));
    EXPECT_FALSE(host_matches("example.com", "a.example.com"));
    EXPECT_TRUE(host_matches("*.example.com", "a.example.com"));
    EXPECT_TRUE(host_matches("*.example.com", "a.b.example.com"));
    EXPECT_FALSE(host_matches("*.example.com", "example.com"));
    EXPECT_FALSE(host_matches("*.example.com", "xexample.com"));
    EXPECT_FALSE(host_matches("*.example.com", "a..example.com"));
}

}  // namespace
}  // namespace tracegate::routing
