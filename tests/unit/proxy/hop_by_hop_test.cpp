#include "proxy/hop_by_hop.hpp"

#include <boost/beast/http/fields.hpp>
#include <gtest/gtest.h>

namespace tracegate::proxy {
namespace {
namespace http = boost::beast::http;

TEST(hop_by_hop, removes_connection_and_every_header_it_names) {
    http::fields f;
    f.set(http::field::connection, "keep-alive, X-Custom");
    f.insert(http::field::connection, "x-other");
    f.set("x-custom", "1");
    f.set("x-other", "2");
    f.set("x-kept", "3");
    f.set(http::field::keep_alive, "timeout=5");
    f.set(http::field::proxy_connection, "keep-alive");
    f.set(http::field::te, "trailers");
    f.set(http::field::trailer, "x-checksum");
    f.set(http::field::transfer_encoding, "chunked");
    f.set(http::field::upgrade, "websocket");
    remove_hop_by_hop(f, false);
    for (auto name : {"connection", "x-custom", "x-other", "keep-alive", "proxy-connection", "te",
                      "trailer", "transfer-encoding", "upgrade"})
        EXPECT_EQ(f.count(name), 0u) << name;
    EXPECT_EQ(f["x-kept"], "3");
}

TEST(hop_by_hop, keeps_upgrade_for_a_tunnel) {
    http::fields f;
    f.set(http::field::connection, "Upgrade");
    f.set(http::field::upgrade, "websocket");
    remove_hop_by_hop(f, true);
    EXPECT_EQ(f[http::field::upgrade], "websocket");
    EXPECT_EQ(f.count(http::field::connection), 0u);
}

TEST(hop_by_hop, connection_cannot_remove_host_or_content_length) {
    http::fields f;
    f.set(http::field::connection, "host, content-length");
    f.set(http::field::host, "example.com");
    f.set(http::field::content_length, "5");
    remove_hop_by_hop(f, false);
    EXPECT_EQ(f[http::field::host], "example.com");
    EXPECT_EQ(f[http::field::content_length], "5");
}

TEST(hop_by_hop, transfer_encoding_must_be_chunked_alone) {
    auto check = [](std::initializer_list<const char*> lines) {
        http::fields f;
        for (auto l : lines) f.insert(http::field::transfer_encoding, l);
        return check_request_transfer_encoding(f);
    };
    EXPECT_EQ(check({}), transfer_coding::none);
    EXPECT_EQ(check({"chunked"}), transfer_coding::chunked);
    EXPECT_EQ(check({"Chunked"}), transfer_coding::chunked);
    EXPECT_EQ(check({"gzip, chunked"}), transfer_coding::invalid);
    EXPECT_EQ(check({"gzip", "chunked"}), transfer_coding::invalid);
    EXPECT_EQ(check({"gzip"}), transfer_coding::invalid);
    EXPECT_EQ(check({"chunked, gzip"}), transfer_coding::invalid);
    EXPECT_EQ(check({"chunked", "chunked"}), transfer_coding::invalid);
    EXPECT_EQ(check({"br, chunked"}), transfer_coding::invalid);
    EXPECT_EQ(check({""}), transfer_coding::invalid);
}

TEST(hop_by_hop, forwarded_for_is_appended_to_every_earlier_hop) {
    http::fields f;
    f.insert("x-forwarded-for", "10.0.0.1");
    f.insert("X-Forwarded-For", "10.0.0.2, 10.0.0.3");
    f.set(http::field::host, "shop.example.com");
    f.set("x-forwarded-proto", "https");
    set_forwarded_headers(f, "127.0.0.1", "http");
    EXPECT_EQ(f.count("x-forwarded-for"), 1u);
    EXPECT_EQ(f["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1");
    EXPECT_EQ(f["x-forwarded-proto"], "http");
    EXPECT_EQ(f["x-forwarded-host"], "shop.example.com");
}

TEST(hop_by_hop, forwarded_for_starts_with_the_client_when_absent) {
    http::fields f;
    set_forwarded_headers(f, "::1", "http");
    EXPECT_EQ(f["x-forwarded-for"], "::1");
    EXPECT_EQ(f.count("x-forwarded-host"), 0u);
}

TEST(hop_by_hop, a_huge_forwarded_for_keeps_the_nearest_hops) {
    http::fields f;
    std::string chain;
    for (int i = 0; i < 3000; ++i) chain += (i ? ", 10.0.0." : "10.0.0.") + std::to_string(i % 250);
    f.insert("x-forwarded-for", chain);
    set_forwarded_headers(f, "192.0.2.1", "http");
    const std::string_view value = f["x-forwarded-for"];
    EXPECT_LE(value.size(), 8192u + 16u);
    EXPECT_TRUE(value.ends_with(", 10.0.0.249, 192.0.2.1")) << value.substr(value.size() - 40);
    EXPECT_TRUE(value.starts_with("10.0.0.")) << "cut at a hop boundary";
}

}  // namespace
}  // namespace tracegate::proxy

namespace tracegate::proxy {
namespace {

TEST(hop_by_hop, a_response_with_both_framings_or_no_status_is_refused) {
    http::fields both;
    both.insert(http::field::transfer_encoding, "gzip");
    both.insert(http::field::content_length, "5");
    EXPECT_FALSE(response_framing_acceptable(200, both));
    http::fields length;
    length.insert(http::field::content_length, "5");
    EXPECT_TRUE(response_framing_acceptable(200, length));
    EXPECT_FALSE(response_framing_acceptable(99, length));
    EXPECT_TRUE(response_framing_acceptable(100, length));
}

TEST(hop_by_hop, only_allowed_upgrades_are_kept_and_a_101_must_name_one_asked_for) {
    http::fields request;
    request.insert(http::field::upgrade, "h2c, WebSocket/13, foo");
    EXPECT_TRUE(keep_allowed_upgrades(request, {"websocket"}));
    EXPECT_EQ(request[http::field::upgrade], "WebSocket/13");
    http::fields response;
    response.insert(http::field::upgrade, "websocket");
    EXPECT_TRUE(upgrade_answered(request, response));
    response.set(http::field::upgrade, "h2c");
    EXPECT_FALSE(upgrade_answered(request, response));
    http::fields none;
    none.insert(http::field::upgrade, "h2c");
    EXPECT_FALSE(keep_allowed_upgrades(none, {"websocket"}));
    EXPECT_EQ(none.count(http::field::upgrade), 0u);
}

}  // namespace
}  // namespace tracegate::proxy
