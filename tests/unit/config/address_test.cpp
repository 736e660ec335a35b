#include "config/loader.hpp"

#include <gtest/gtest.h>

namespace tracegate::config {
namespace {

TEST(parse_address, ipv4_and_port) {
    const auto a = parse_address("127.0.0.1:9000");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 9000);
}

TEST(parse_address, bracketed_ipv6_loses_its_brackets) {
    const auto a = parse_address("[::1]:8080");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "::1");
    EXPECT_EQ(a->port, 8080);
    const auto full = parse_address("[2001:db8::42]:443");
    ASSERT_TRUE(full);
    EXPECT_EQ(full->host, "2001:db8::42");
}

TEST(parse_address, dns_name) {
    const auto a = parse_address("users.svc.cluster.local:80");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "users.svc.cluster.local");
    EXPECT_EQ(a->port, 80);
    EXPECT_TRUE(parse_address("localhost:1"));
}

TEST(parse_address, port_zero_parses_for_the_loader_to_judge) {
    const auto a = parse_address("0.0.0.0:0");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 0);
}

TEST(parse_address, highest_port_is_65535) {
    const auto a = parse_address("10.0.0.1:65535");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 65535);
    EXPECT_FALSE(parse_address("10.0.0.1:65536"));
    EXPECT_FALSE(parse_address("10.0.0.1:99999999999999999999"));
}

TEST(parse_address, missing_port_is_rejected) {
    EXPECT_FALSE(parse_address("127.0.0.1"));
    EXPECT_FALSE(parse_address("127.0.0.1:"));
    EXPECT_FALSE(parse_address("[::1]"));
    EXPECT_FALSE(parse_address("[::1]:"));
    EXPECT_FALSE(parse_address("example.com"));
}

TEST(parse_address, non_numeric_port_is_rejected) {
    EXPECT_FALSE(parse_address("127.0.0.1:http"));
    EXPECT_FALSE(parse_address("127.0.0.1:-1"));
    EXPECT_FALSE(parse_address("127.0.0.1:+80"));
    EXPECT_FALSE(parse_address("127.0.0.1: 80"));
}

TEST(parse_address, malformed_hosts_are_rejected) {
    EXPECT_FALSE(parse_address(""));
    EXPECT_FALSE(parse_address(":80"));
    EXPECT_FALSE(parse_address("::1:80"));          // IPv6 needs brackets
    EXPECT_FALSE(parse_address("[::1:80"));         // unclosed bracket
    EXPECT_FALSE(parse_address("[not-v6]:80"));
    EXPECT_FALSE(parse_address("[127.0.0.1]:80"));  // brackets are for IPv6 only
    EXPECT_FALSE(parse_address("300.1.1.1:80"));
    EXPECT_FALSE(parse_address("bad host:80"));
    EXPECT_FALSE(parse_address("a..b:80"));
}

TEST(address, to_string_brackets_ipv6_only) {
    EXPECT_EQ((address{"::1", 8080}.to_string()), "[::1]:8080");
    EXPECT_EQ((address{"127.0.0.1", 9000}.to_string()), "127.0.0.1:9000");
    EXPECT_EQ((address{"example.com", 443}.to_string()), "example.com:443");
}

TEST(address, to_string_round_trips_through_parse) {
    for (const char* text : {"[fe80::1]:1", "10.1.2.3:65535", "app.internal:8443"}) {
        const auto a = parse_address(text);
        ASSERT_TRUE(a) << text;
        EXPECT_EQ(a->to_string(), text);
    }
}

}  // namespace
}  // namespace tracegate::config
