// The example configs in deploy/examples/ load, and their tracing blocks mean what
// their comments say.
#include "config/loader.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace tracegate::config {
namespace {

namespace fs = std::filesystem;

// tests/unit/config/ -> the repository root.
fs::path examples_dir() {
    return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "deploy" /
           "examples";
}

load_result load_example(const std::string& name) {
    return load_file((examples_dir() / name).string(), test::fake_env());
}

TEST(examples, every_example_loads_with_an_empty_environment) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(examples_dir())) {
        if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
    ASSERT_GE(files.size(), 3u) << examples_dir();
    for (const fs::path& file : files) {
        const load_result r = load_file(file.string(), test::fake_env());
        EXPECT_TRUE(r) << file << test::all_errors(r);
    }
}

TEST(examples, ingress_tracing_block) {
    const load_result r = load_example("ingress.yaml");
    ASSERT_TRUE(r) << test::all_errors(r);
    const settings& s = *r.value;
    ASSERT_EQ(s.listeners.size(), 3u);
    EXPECT_FALSE(s.listeners[0].trust_incoming_trace);
    EXPECT_FALSE(s.listeners[1].trust_incoming_trace);
    EXPECT_TRUE(s.listeners[2].trust_incoming_trace);
    const auto route = [&](std::string_view name) {
        return *std::find_if(s.routes.begin(), s.routes.end(),
                             [&](const route_config& rc) { return rc.name == name; });
    };
    EXPECT_EQ(route("api-health").span_name, "Health.Check");
    EXPECT_EQ(route("user-by-id").span_name, "{method} {path}");
    EXPECT_EQ(route("user-by-id").tags,
              (std::vector<tag_config>{{"user.id", tag_config::source::header, "x-user-id"}}));
    EXPECT_EQ(route("fallback").span_name, "{method} {route}");

    const tracing_config& t = s.tracing;
    EXPECT_EQ(t.inject, (std::vector<std::string>{"tracecontext", "baggage"}));
    EXPECT_EQ(t.sampling.ratio, 0.1);
    EXPECT_EQ(t.sampling.force_header, "x-tracegate-force-sample");
    EXPECT_EQ(t.sampling.max_per_second, 100.0);
    EXPECT_EQ(t.sampling.keep_slower_than, duration{2000});
    ASSERT_EQ(t.tags.size(), 3u);
    EXPECT_EQ(t.tags[2].value, "unknown");  // HOSTNAME unset in the test environment
    EXPECT_EQ(t.file, std::nullopt);
}

TEST(examples, sidecar_tracing_block) {
    const load_result r = load_example("sidecar.yaml");
    ASSERT_TRUE(r) << test::all_errors(r);
    const tracing_config& t = r.value->tracing;
    EXPECT_TRUE(r.value->listeners.at(0).trust_incoming_trace);
    EXPECT_EQ(t.inject, std::vector<std::string>{"tracecontext"});
    EXPECT_EQ(t.sampling.keep_slower_than, duration{1000});
    EXPECT_EQ(t.tags, (std::vector<tag_config>{{"pod", tag_config::source::env, "local"}}));
}

}  // namespace
}  // namespace tracegate::config
