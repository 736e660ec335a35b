// Bad input from clients is answered by the proxy itself and never reaches the upstream
// (RFC 9112 §2.2, §5.2, §6.1, §6.3: request smuggling vectors are rejected, not guessed).
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view limits = R"(limits:
  max_header_bytes: 4096
  header_timeout: 500ms
  max_body_bytes: 1000
)";

class malformed_input : public ::testing::Test {
protected:
    void SetUp() override {
        proxy_ = start_proxy(single_upstream_config(up_.address(), limits));
        ASSERT_TRUE(proxy_);
    }

    std::uint16_t port() const { return proxy_->port("main"); }

    /// The one response in `raw` (after it was read).
    static http_response only_response(const raw_client& raw) {
        const auto responses = raw.responses();
        EXPECT_EQ(responses.size(), 1u) << raw.received();
        return responses.empty() ? http_response{} : responses[0];
    }

    upstream_server up_{"app"};
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(malformed_input, header_over_max_header_bytes_gets_431) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(6000, 'b') + "\r\n\r\n"));
    ASSERT_TRUE(raw.read_response(io_timeout)) << raw.received();
    const auto r = only_response(raw);
    EXPECT_EQ(r.status, 431u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "header_too_large");
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(malformed_input, header_just_under_max_header_bytes_is_forwarded) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET /fits HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(3000, 'b') +
                         "\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout));
    EXPECT_EQ(only_response(raw).status, 200u) << raw.received();
}

TEST_F(malformed_input, slowly_sent_header_gets_408_at_header_timeout_and_a_close) {
    raw_client raw(port());
    const auto start = std::chrono::steady_clock::now();
    // A byte every 100 ms: each read makes progress, so only a deadline for the whole
    // header (not an idle timeout per read) stops this client.
    const bool finished = raw.send_slowly("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " +
                                              std::string(60, 's') + "\r\n\r\n",
                                          1, 100ms, 15s);
    EXPECT_FALSE(finished) << "the whole 6 s header was accepted";
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const auto r = only_response(raw);
    EXPECT_EQ(r.status, 408u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "header_timeout");
    EXPECT_LT(elapsed, 3s);
    EXPECT_GE(elapsed, 400ms);
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(malformed_input, half_a_header_then_silence_gets_408_and_a_close) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\nHost: a\r\nX-Part"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    const auto r = only_response(raw);
    EXPECT_EQ(r.status, 408u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "header_timeout");
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(malformed_input, content_length_over_max_body_bytes_gets_413_before_the_body) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n"));
    ASSERT_TRUE(raw.read_response(io_timeout)) << raw.received();
    const auto r = only_response(raw);
    EXPECT_EQ(r.status, 413u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "body_too_large");
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(malformed_input, body_within_max_body_bytes_is_forwarded) {
    http_client client(port(), io_timeout);
    const auto r = client.post("/sink", std::string(1000, 'x'));
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_TRUE(r.body.starts_with("bytes=1000 ")) << r.body;
}

TEST_F(malformed_input, unsupported_http_version_gets_505_without_reaching_the_upstream) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET / HTTP/2.0\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    const auto r = only_response(raw);
    EXPECT_EQ(r.status, 505u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "version_not_supported");
    EXPECT_EQ(up_.request_count(), 0u);
}

TEST_F(malformed_input, http10_request_without_host_is_forwarded_with_one) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET /old-client HTTP/1.0\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    EXPECT_EQ(only_response(raw).status, 200u) << raw.received();
    ASSERT_EQ(up_.request_count(), 1u);
    const auto host = find_header(up_.requests().at(0).headers, "host");
    EXPECT_TRUE(host && !host->empty()) << "HTTP/1.1 to the upstream requires a Host header";
}

TEST_F(malformed_input, absolute_form_target_is_forwarded_in_origin_form) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send("GET http://shop.example.com/cart?id=1 HTTP/1.1\r\nHost: ignored\r\n"
                         "Connection: close\r\n\r\n"));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << raw.received();
    EXPECT_EQ(only_response(raw).status, 200u) << raw.received();
    ASSERT_EQ(up_.request_count(), 1u);
    const auto request = up_.requests().at(0);
    EXPECT_EQ(request.target, "/cart?id=1");
    EXPECT_EQ(find_header(request.headers, "host"), "shop.example.com");
}

struct bad_request_case {
    const char* name;
    const char* bytes;
};

/// Names the case in test output and ctest names (instead of a byte dump).
void PrintTo(const bad_request_case& c, std::ostream* out) { *out << c.name; }

class bad_request : public malformed_input,
                    public ::testing::WithParamInterface<bad_request_case> {};

TEST_P(bad_request, is_answered_400_and_closed_without_reaching_the_upstream) {
    raw_client raw(port());
    ASSERT_TRUE(raw.send(GetParam().bytes));
    ASSERT_TRUE(raw.read_until_closed(io_timeout)) << "not closed; got: " << raw.received();
    const auto responses = raw.responses();
    ASSERT_FALSE(responses.empty()) << "closed without a response";
    EXPECT_EQ(responses[0].status, 400u) << responses[0].describe();
    EXPECT_EQ(responses[0].header("x-tracegate-error"), "bad_request");
    EXPECT_EQ(responses.size(), 1u) << raw.received();
    EXPECT_EQ(up_.request_count(), 0u) << "forwarded: " << up_.requests().at(0).target;
}

INSTANTIATE_TEST_SUITE_P(
    malformed_input, bad_request,
    ::testing::Values(
        bad_request_case{"garbage_request_line", "HELLO THERE\r\nHost: a\r\n\r\n"},
        bad_request_case{"request_line_without_version", "GET /\r\nHost: a\r\n\r\n"},
        bad_request_case{"header_line_without_colon",
                         "GET / HTTP/1.1\r\nHost: a\r\nThis is not a header\r\n\r\n"},
        bad_request_case{"space_before_header_colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n"},
        bad_request_case{"content_length_and_transfer_encoding",
                         "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        bad_request_case{"two_different_content_lengths",
                         "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                         "Content-Length: 6\r\n\r\nhello!"},
        bad_request_case{"unknown_transfer_coding",
                         "POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nhello"},
        bad_request_case{"chunked_not_last_coding",
                         "POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
                         "5\r\nhello\r\n0\r\n\r\n"},
        bad_request_case{"obs_fold_continuation_line",
                         "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n"},
        bad_request_case{"negative_content_length",
                         "POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"},
        bad_request_case{"gzip_then_chunked",
                         "POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                         "5\r\nhello\r\n0\r\n\r\n"},
        bad_request_case{"host_that_is_a_list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"},
        bad_request_case{"http11_without_host", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n"},
        bad_request_case{"two_host_headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
        bad_request_case{"bare_lf_line_ending", "GET / HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n"},
        bad_request_case{"target_neither_origin_nor_absolute_form",
                         "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n"}),
    [](const ::testing::TestParamInfo<bad_request_case>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace tracegate::test
