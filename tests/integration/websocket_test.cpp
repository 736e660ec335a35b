// WebSocket through the proxy: the upgrade is forwarded, then both directions are a
// byte-exact tunnel (RFC 6455 frames pass untouched).
#include "tests/support/payload.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/upstream_server.hpp"
#include "tests/support/websocket_client.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {
namespace {

class websocket : public ::testing::Test {
protected:
    void SetUp() override {
        proxy_ = start_proxy(single_upstream_config(up_.address()));
        ASSERT_TRUE(proxy_);
    }

    upstream_server up_{"app"};
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(websocket, upgrade_is_forwarded_and_text_and_binary_echo_byte_for_byte) {
    websocket_client ws(proxy_->port("main"));
    ASSERT_TRUE(ws.open()) << "handshake status " << ws.handshake_status() << ": " << ws.error().message();
    EXPECT_EQ(ws.handshake_status(), 101u);

    ASSERT_TRUE(up_.wait_for_requests(1, io_timeout));
    const auto upgrade = up_.requests().at(0);
    EXPECT_EQ(upgrade.header("Upgrade"), "websocket") << "the Upgrade header must survive hop-by-hop removal";

    ASSERT_TRUE(ws.send_text("hello, \xc3\xa9\xc3\xa0 world"));
    auto m = ws.receive();
    ASSERT_TRUE(m) << ws.error().message();
    EXPECT_TRUE(m->text);
    EXPECT_EQ(m->data, "hello, \xc3\xa9\xc3\xa0 world");

    std::string every_byte;
    for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
    ASSERT_TRUE(ws.send_binary(every_byte));
    m = ws.receive();
    ASSERT_TRUE(m) << ws.error().message();
    EXPECT_FALSE(m->text);
    EXPECT_EQ(m->data, every_byte);

    EXPECT_TRUE(ws.close()) << ws.error().message();
}

TEST_F(websocket, one_mib_binary_message_echoes_intact) {
    websocket_client ws(proxy_->port("main"));
    ASSERT_TRUE(ws.open()) << ws.error().message();
    std::string big;
    for (std::uint64_t offset = 0; big.size() < 1024 * 1024; offset += pattern_chunk)
        big.append(pattern_data(offset), pattern_chunk);
    ASSERT_TRUE(ws.send_binary(big));
    const auto m = ws.receive();
    ASSERT_TRUE(m) << ws.error().message();
    EXPECT_FALSE(m->text);
    ASSERT_EQ(m->data.size(), big.size());
    EXPECT_TRUE(m->data == big) << "the echoed megabyte differs";
    EXPECT_TRUE(ws.close());
}

TEST_F(websocket, many_messages_in_a_row_keep_their_order) {
    websocket_client ws(proxy_->port("main"));
    ASSERT_TRUE(ws.open()) << ws.error().message();
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(ws.send_text("message " + std::to_string(i)));
    for (int i = 0; i < 50; ++i) {
        const auto m = ws.receive();
        ASSERT_TRUE(m) << "message " << i << ": " << ws.error().message();
        EXPECT_EQ(m->data, "message " + std::to_string(i));
    }
    EXPECT_TRUE(ws.close());
}

}  // namespace
}  // namespace tracegate::test
