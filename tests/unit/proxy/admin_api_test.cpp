// The admin API's answers are JSON documents a browser or jq can always read, whatever
// bytes a query or a received span carried.
#include "proxy/admin_api.hpp"

#include <gtest/gtest.h>

namespace tracegate::proxy {
namespace {

TEST(admin_api, bytes_that_are_not_utf8_are_replaced_in_the_json) {
    tracing::trace_store store;
    const auto reply = api_traces(store, "s%cevir=1");  // %ce: half of a two-byte sequence
    EXPECT_EQ(reply.status, 400u);
    EXPECT_EQ(reply.body.find('\xCE'), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find("\xEF\xBF\xBD"), std::string::npos) << "U+FFFD in its place: " << reply.body;
    const auto kept = api_traces(store, "s%C3%A9rvice=1");  // "é", well-formed: kept as it is
    EXPECT_NE(kept.body.find("s\xC3\xA9rvice"), std::string::npos) << kept.body;
}

}  // namespace
}  // namespace tracegate::proxy
