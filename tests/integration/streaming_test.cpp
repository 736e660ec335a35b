// Bodies are streamed, never buffered whole: a gigabyte each way passes intact while the
// proxy's peak resident memory stays flat; framing is translated for HTTP/1.0 clients.
#include "tests/support/http_client.hpp"
#include "tests/support/payload.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {
namespace {

constexpr std::uint64_t one_gib = 1024ull * 1024 * 1024;
/// Peak RSS may grow by less than this during a 1 GiB transfer (buffers, pools, heap
/// fragmentation); holding the body would grow it by 1 GiB.
constexpr std::uint64_t max_growth_kib = 64 * 1024;
/// Deadline for each 64 KiB piece of a big transfer (not for the whole transfer).
constexpr std::chrono::milliseconds piece_timeout{30000};

class streaming : public ::testing::Test {
protected:
    void SetUp() override {
        // No exchange deadline: a gigabyte on a busy shared machine can take longer than the
        // default route timeout (30 s), and these tests are about memory, not time.
        proxy_ = start_proxy(single_upstream_config(
            up_.address(), "routes:\n  - {name: all, match: {path_prefix: /}, upstream: app, timeout: 0}\n"));
        ASSERT_TRUE(proxy_);
        // Warm up (first connection, pools, allocator arenas) before the baseline.
        http_client warm(port(), io_timeout);
        ASSERT_EQ(warm.get("/warm-up").status, 200u);
        ASSERT_EQ(warm.upload("/sink", 4 * pattern_chunk, framing::chunked).status, 200u);
        const auto peak = proxy_->peak_rss_kib();
        ASSERT_TRUE(peak);
        baseline_kib_ = *peak;
    }

    std::uint16_t port() const { return proxy_->port("main"); }

    void expect_flat_memory() {
        const auto peak = proxy_->peak_rss_kib();
        ASSERT_TRUE(peak);
        RecordProperty("peak_rss_baseline_kib", std::to_string(baseline_kib_));
        RecordProperty("peak_rss_after_kib", std::to_string(*peak));
        EXPECT_LT(*peak - baseline_kib_, max_growth_kib)
            << "peak RSS went from " << baseline_kib_ << " KiB to " << *peak << " KiB";
    }

    upstream_server up_{"app"};
    std::unique_ptr<tracegate_process> proxy_;
    std::uint64_t baseline_kib_ = 0;
};

TEST_F(streaming, one_gib_upload_with_content_length_arrives_intact_in_flat_memory) {
    const auto expected = pattern_digest(one_gib);
    http_client client(port(), piece_timeout);
    const auto r = client.upload("/sink", one_gib, framing::content_length);
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, expected.to_string() + "\n");
    expect_flat_memory();
}

TEST_F(streaming, one_gib_chunked_upload_arrives_intact_in_flat_memory) {
    const auto expected = pattern_digest(one_gib);
    http_client client(port(), piece_timeout);
    const auto r = client.upload("/sink", one_gib, framing::chunked);
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, expected.to_string() + "\n");
    expect_flat_memory();
}

TEST_F(streaming, one_gib_download_with_content_length_arrives_intact_in_flat_memory) {
    const auto expected = pattern_digest(one_gib);
    http_client client(port(), piece_timeout);
    const auto d = client.download("/bytes/" + std::to_string(one_gib));
    ASSERT_FALSE(d.error) << d.describe();
    EXPECT_EQ(d.status, 200u);
    EXPECT_EQ(d.header("content-length"), std::to_string(one_gib));
    EXPECT_EQ(d.digest, expected) << d.describe();
    EXPECT_TRUE(d.matches_pattern);
    expect_flat_memory();
}

TEST_F(streaming, one_gib_chunked_download_arrives_intact_in_flat_memory) {
    const auto expected = pattern_digest(one_gib);
    http_client client(port(), piece_timeout);
    const auto d = client.download("/bytes/" + std::to_string(one_gib) + "?chunked=1");
    ASSERT_FALSE(d.error) << d.describe();
    EXPECT_EQ(d.status, 200u);
    EXPECT_EQ(d.digest, expected) << d.describe();
    EXPECT_TRUE(d.matches_pattern);
    expect_flat_memory();
}

TEST_F(streaming, connection_is_reusable_after_a_streamed_upload_and_download) {
    http_client client(port(), io_timeout);
    constexpr std::uint64_t n = 5 * 1024 * 1024 + 3;
    ASSERT_EQ(client.upload("/sink", n, framing::chunked).body, pattern_digest(n).to_string() + "\n");
    const auto d = client.download("/bytes/" + std::to_string(n) + "?chunked=1");
    ASSERT_FALSE(d.error) << d.describe();
    EXPECT_EQ(d.digest, pattern_digest(n));
    EXPECT_EQ(client.get("/still-here").body, "ok /still-here\n");
}

TEST_F(streaming, http10_client_gets_an_unchunked_response) {
    constexpr std::uint64_t n = 300000;
    raw_client raw(port());
    // The upstream answers this chunked (to the proxy's HTTP/1.1 request); HTTP/1.0 has
    // no chunked coding, so the proxy must send Content-Length or close-delimit the body.
    ASSERT_TRUE(raw.send("GET /bytes/" + std::to_string(n) + "?chunked=1 HTTP/1.0\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << "an HTTP/1.0 exchange without keep-alive must end with a close";
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 1u);
    const auto& r = responses[0];
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_FALSE(r.has_header("Transfer-Encoding")) << "Transfer-Encoding: " << *r.header("Transfer-Encoding");
    EXPECT_TRUE(r.complete);
    ASSERT_EQ(r.body.size(), n);
    body_digest got;
    got.update(r.body.data(), r.body.size());
    EXPECT_EQ(got, pattern_digest(n));
}

TEST_F(streaming, http10_client_gets_a_content_length_response_unchanged) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET /plain HTTP/1.0\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout));
    const auto responses = raw.responses();
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].body, "ok /plain\n");
    EXPECT_FALSE(responses[0].has_header("Transfer-Encoding"));
}

}  // namespace
}  // namespace tracegate::test
