#include "tracing/resource.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <climits>
#include <regex>
#include <string>
#include <vector>

namespace tracegate::tracing {
namespace {

std::vector<std::string> keys_of(const resource& res) {
    std::vector<std::string> keys;
    for (const auto& a : res.attributes) keys.push_back(a.key);
    return keys;
}

TEST(resource, version_is_the_project_version) {
    EXPECT_TRUE(std::regex_match(std::string(tracegate_version()), std::regex(R"(\d+\.\d+\.\d+.*)")))
        << tracegate_version();
}

TEST(resource, process_resource_has_the_sdk_and_process_attributes_in_order) {
    const auto res = make_process_resource("checkout");
    EXPECT_EQ(keys_of(res), (std::vector<std::string>{"service.name", "service.instance.id", "host.name",
                                                       "process.pid", "telemetry.sdk.name",
                                                       "telemetry.sdk.language", "telemetry.sdk.version"}));
    EXPECT_EQ(res.get("service.name"), "checkout");
    EXPECT_EQ(res.service_name(), "checkout");
    EXPECT_EQ(res.get("telemetry.sdk.name"), "tracegate");
    EXPECT_EQ(res.get("telemetry.sdk.language"), "cpp");
    EXPECT_EQ(res.get("telemetry.sdk.version"), tracegate_version());

    char host[HOST_NAME_MAX + 1] = {};
    ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
    EXPECT_EQ(res.get("host.name"), host);

    const auto& pid = res.attributes.at(3);
    ASSERT_TRUE(std::holds_alternative<std::int64_t>(pid.value));
    EXPECT_EQ(std::get<std::int64_t>(pid.value), ::getpid());
    EXPECT_EQ(res.get("process.pid"), "");  // not a string
}

TEST(resource, instance_id_is_a_uuid_v4_made_once_per_process) {
    const std::string first(make_process_resource("a").get("service.instance.id"));
    const std::string second(make_process_resource("b").get("service.instance.id"));
    EXPECT_TRUE(std::regex_match(first, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << first;
    EXPECT_EQ(first, second);
}

TEST(resource, extra_attributes_follow_and_cannot_override_our_keys) {
    const auto res = make_process_resource("checkout", {{"deployment.environment", "prod"},
                                                         {"service.name", "spoofed"},
                                                         {"host.name", "spoofed"},
                                                         {"telemetry.sdk.name", "spoofed"},
                                                         {"team", "a"},
                                                         {"team", "b"}});
    EXPECT_EQ(res.attributes.size(), 9u);
    EXPECT_EQ(res.attributes[7].key, "deployment.environment");
    EXPECT_EQ(res.get("deployment.environment"), "prod");
    EXPECT_EQ(res.attributes[8].key, "team");
    EXPECT_EQ(res.get("team"), "b");  // the later value of a repeated key
    EXPECT_EQ(res.service_name(), "checkout");
    EXPECT_EQ(res.get("telemetry.sdk.name"), "tracegate");
    EXPECT_NE(res.get("host.name"), "spoofed");
}

TEST(resource, service_name_defaults_to_tracegate) {
    EXPECT_EQ(resource{}.service_name(), "tracegate");
    EXPECT_EQ(resource{}.get("anything"), "");
    resource res;
    res.attributes = {{"service.name", std::int64_t{1}}};
    EXPECT_EQ(res.service_name(), "tracegate");
}

}  // namespace
}  // namespace tracegate::tracing
