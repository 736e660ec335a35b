// Which requests the admin server answers: its defence against DNS rebinding and
// cross-origin posts from pages open in a browser on the same machine.
#include "proxy/admin_server.hpp"

#include <gtest/gtest.h>

namespace tracegate::proxy {
namespace {

bool allowed(std::string_view host, std::string_view origin = {}, bool safe = true,
             const std::vector<std::string>& hosts = {}) {
    return admin_request_refusal(host, origin, safe, hosts).empty();
}

TEST(admin_server, ip_addresses_and_localhost_are_answered_whatever_the_port) {
    EXPECT_TRUE(allowed("127.0.0.1:9901"));
    EXPECT_TRUE(allowed("10.1.2.3"));
    EXPECT_TRUE(allowed("[::1]:9901"));
    EXPECT_TRUE(allowed("localhost:9901"));
    EXPECT_TRUE(allowed("LocalHost"));
    EXPECT_TRUE(allowed("viewer.localhost:9901"));
    EXPECT_TRUE(allowed(""));  // HTTP/1.0 without Host
}

TEST(admin_server, a_name_that_could_be_rebound_is_refused_unless_listed) {
    EXPECT_FALSE(allowed("attacker.example:9901"));
    EXPECT_FALSE(allowed("127.0.0.1.attacker.example"));
    EXPECT_FALSE(allowed("localhost.attacker.example"));
    EXPECT_TRUE(allowed("tracegate.internal:9901", {}, true, {"tracegate.internal"}));
    EXPECT_TRUE(allowed("TraceGate.Internal.", {}, true, {"tracegate.internal"}));
}

TEST(admin_server, a_post_from_another_origin_is_refused) {
    EXPECT_TRUE(allowed("127.0.0.1:9901", "", false));  // an exporter: no Origin
    EXPECT_TRUE(allowed("127.0.0.1:9901", "http://127.0.0.1:9901", false));
    EXPECT_FALSE(allowed("127.0.0.1:9901", "http://attacker.example", false));
    EXPECT_FALSE(allowed("127.0.0.1:9901", "http://127.0.0.1:8080", false));
    EXPECT_FALSE(allowed("127.0.0.1:9901", "null", false));
    EXPECT_TRUE(allowed("127.0.0.1:9901", "http://attacker.example", true))
        << "a GET's answer is the browser's to withhold; the Host check covers rebinding";
}

}  // namespace
}  // namespace tracegate::proxy
