#include "proxy/collector_client.hpp"

#include "tests/support/collector_sink.hpp"
#include "tests/support/test_certificate.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tracing/gzip.hpp"
#include "tracing/resource.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace tracegate::proxy {
namespace {

using namespace std::chrono_literals;
using test::collector_sink;
using test::collector_sink_options;
using test::sink_reply;
using clock_type = std::chrono::steady_clock;

/// Generous: only a broken client takes this long against a loopback sink.
constexpr auto wait_limit = 10s;

tracing::outgoing_request post(std::string url, std::string body = R"({"resourceSpans":[]})") {
    tracing::outgoing_request r;
    r.url = std::move(url);
    r.headers = {{"Content-Type", "application/json"}};
    r.body = std::move(body);
    r.timeout = 5s;
    return r;
}

std::unique_ptr<tracing::http_transport> client(std::optional<std::string> ca_file = std::nullopt) {
    return make_collector_client({.ca_file = std::move(ca_file)});
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// --- plain HTTP -------------------------------------------------------------------------

TEST(collector_client, posts_body_and_headers) {
    collector_sink sink;
    auto c = client();
    auto request = post(sink.url("/v1/traces"), "span bytes");
    request.headers.push_back({"Authorization", "Bearer s3cret"});
    const auto response = c->send(request);
    ASSERT_EQ(response.status, 200) << response.error;
    EXPECT_EQ(response.body, "{}");
    EXPECT_TRUE(response.error.empty());

    ASSERT_TRUE(sink.wait_for_requests(1, wait_limit));
    const auto r = sink.requests().at(0);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/traces");
    EXPECT_EQ(r.body, "span bytes");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("authorization"), "Bearer s3cret");
    EXPECT_EQ(r.header("host"), "127.0.0.1:" + std::to_string(sink.port()));
    EXPECT_EQ(r.header("content-length"), "10");
    EXPECT_EQ(r.header("user-agent"), "tracegate/" + std::string(tracing::tracegate_version()));
}

TEST(collector_client, target_is_path_and_query_or_slash) {
    collector_sink sink;
    auto c = client();
    ASSERT_EQ(c->send(post(sink.url("/api/v2/spans?tenant=a%20b"))).status, 200);
    ASSERT_EQ(c->send(post(sink.url(""))).status, 200);
    ASSERT_EQ(c->send(post(sink.url("#fragment"))).status, 200);
    const auto r = sink.requests();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].target, "/api/v2/spans?tenant=a%20b");
    EXPECT_EQ(r[1].target, "/");
    EXPECT_EQ(r[2].target, "/");
}

TEST(collector_client, transport_sets_framing_and_identity_headers_itself) {
    collector_sink sink;
    auto request = post(sink.url(), "12345");
    request.headers.push_back({"Content-Length", "99"});
    request.headers.push_back({"Host", "evil.example"});
    request.headers.push_back({"User-Agent", "other"});
    ASSERT_EQ(client()->send(request).status, 200);
    const auto r = sink.requests().at(0);
    EXPECT_EQ(test::count_header(r.headers, "content-length"), 1u);
    EXPECT_EQ(r.header("content-length"), "5");
    EXPECT_EQ(r.header("host"), "127.0.0.1:" + std::to_string(sink.port()));
    EXPECT_TRUE(r.header("user-agent")->starts_with("tracegate/"));
}

TEST(collector_client, header_with_line_break_is_refused) {
    collector_sink sink;
    auto request = post(sink.url());
    request.headers.push_back({"X-Bad", "a\r\nInjected: yes"});
    const auto response = client()->send(request);
    EXPECT_EQ(response.status, 0);
    EXPECT_TRUE(contains(response.error, "X-Bad")) << response.error;
    EXPECT_EQ(sink.request_count(), 0u);
}

TEST(collector_client, keeps_the_connection_alive) {
    collector_sink sink;
    auto c = client();
    ASSERT_EQ(c->send(post(sink.url())).status, 200);
    ASSERT_EQ(c->send(post(sink.url())).status, 200);
    EXPECT_EQ(sink.connections_accepted(), 1u);
    const auto r = sink.requests();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].connection_id, r[1].connection_id);
}

TEST(collector_client, another_origin_gets_its_own_connection) {
    collector_sink a, b;
    auto c = client();
    ASSERT_EQ(c->send(post(a.url())).status, 200);
    ASSERT_EQ(c->send(post(b.url())).status, 200);
    ASSERT_EQ(c->send(post(a.url())).status, 200);
    EXPECT_EQ(a.request_count(), 2u);
    EXPECT_EQ(b.request_count(), 1u);
}

TEST(collector_client, reconnects_after_the_sink_closed_the_idle_connection) {
    collector_sink sink;
    auto c = client();
    ASSERT_EQ(c->send(post(sink.url())).status, 200);
    sink.stop();
    sink.start();
    const auto response = c->send(post(sink.url()));
    EXPECT_EQ(response.status, 200) << response.error;
    EXPECT_EQ(sink.connections_accepted(), 2u);
}

TEST(collector_client, retries_once_when_a_reused_connection_is_dropped_unanswered) {
    collector_sink sink;
    auto c = client();
    ASSERT_EQ(c->send(post(sink.url())).status, 200);
    sink.push_reply({.drop = true});  // the race of a server closing an idle connection
    const auto response = c->send(post(sink.url(), "second"));
    EXPECT_EQ(response.status, 200) << response.error;
    const auto r = sink.requests();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[1].body, "second");
    EXPECT_EQ(r[2].body, "second");
    EXPECT_EQ(r[0].connection_id, r[1].connection_id);
    EXPECT_NE(r[1].connection_id, r[2].connection_id);
}

TEST(collector_client, fresh_connection_dropped_unanswered_is_not_retried) {
    collector_sink sink;
    sink.push_reply({.drop = true});
    const auto response = client()->send(post(sink.url()));
    EXPECT_EQ(response.status, 0);
    EXPECT_TRUE(contains(response.error, "closed by 127.0.0.1:" + std::to_string(sink.port())))
        << response.error;
    EXPECT_EQ(sink.request_count(), 1u);
}

TEST(collector_client, connection_close_answer_loses_no_request) {
    collector_sink sink;
    sink.push_reply({.close = true});
    auto c = client();
    const auto first = c->send(post(sink.url()));
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(first.header("connection"), "close");
    ASSERT_EQ(c->send(post(sink.url())).status, 200);
    EXPECT_EQ(sink.connections_accepted(), 2u);
    EXPECT_EQ(sink.request_count(), 2u);  // no request was lost on the closed connection
}

TEST(collector_client, connection_refused_names_the_address) {
    collector_sink sink;
    const auto url = sink.url();
    sink.stop();
    const auto response = client()->send(post(url));
    EXPECT_EQ(response.status, 0);
    EXPECT_EQ(response.error, "connection refused (127.0.0.1:" + std::to_string(sink.port()) + ")");
}

TEST(collector_client, silent_collector_times_out_within_the_deadline) {
    collector_sink sink;
    sink.set_never_answer(true);
    auto request = post(sink.url());
    request.timeout = 300ms;
    const auto start = clock_type::now();
    const auto response = client()->send(request);
    const auto elapsed = clock_type::now() - start;
    EXPECT_EQ(response.status, 0);
    EXPECT_TRUE(contains(response.error, "timed out after 300ms")) << response.error;
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 300ms + 2s);
    EXPECT_EQ(sink.request_count(), 1u);
}

TEST(collector_client, cancel_ends_a_send_in_progress_and_not_the_next) {
    collector_sink sink;
    sink.set_never_answer(true);
    auto c = client();
    c->cancel();  // nothing in progress: no effect on what follows
    auto request = post(sink.url());
    request.timeout = 10s;
    std::thread canceller([&] {
        ASSERT_TRUE(sink.wait_for_requests(1, wait_limit));
        c->cancel();
    });
    const auto start = clock_type::now();
    const auto response = c->send(request);
    const auto elapsed = clock_type::now() - start;
    canceller.join();
    EXPECT_EQ(response.status, 0);
    EXPECT_EQ(response.error, "cancelled");
    EXPECT_LT(elapsed, 5s) << "returned at cancel(), not at the 10 s deadline";

    sink.set_never_answer(false);
    const auto next = c->send(post(sink.url()));
    EXPECT_EQ(next.status, 200) << next.error;
}

TEST(collector_client, slow_answer_within_the_timeout_is_received) {
    collector_sink sink;
    sink.push_reply({.status = 202, .delay = 200ms});
    auto request = post(sink.url());
    request.timeout = 5s;
    EXPECT_EQ(client()->send(request).status, 202);
}

TEST(collector_client, response_headers_are_returned_lowercase) {
    collector_sink sink;
    sink.push_reply({.status = 429,
                     .headers = {{"Retry-After", "7"}, {"X-Collector-Thing", "Value"}},
                     .body = "slow down"});
    const auto response = client()->send(post(sink.url()));
    EXPECT_EQ(response.status, 429);
    EXPECT_EQ(response.body, "slow down");
    EXPECT_EQ(response.header("retry-after"), "7");
    EXPECT_EQ(response.header("x-collector-thing"), "Value");
    EXPECT_EQ(response.header("content-type"), "application/json");
    for (const auto& h : response.headers)
        for (char ch : h.name) EXPECT_FALSE(std::isupper(static_cast<unsigned char>(ch))) << h.name;
}

TEST(collector_client, response_body_is_limited_to_4_mib) {
    collector_sink sink;
    sink.push_reply({.body = std::string(4 << 20, 'a')});
    sink.push_reply({.body = std::string((4 << 20) + 1, 'a')});
    auto c = client();
    const auto at_limit = c->send(post(sink.url()));
    EXPECT_EQ(at_limit.status, 200) << at_limit.error;
    EXPECT_EQ(at_limit.body.size(), std::size_t{4} << 20);
    const auto over = c->send(post(sink.url()));
    EXPECT_EQ(over.status, 0);
    EXPECT_TRUE(contains(over.error, "response body over 4 MiB")) << over.error;
    // The connection the oversized answer came on is not reused.
    ASSERT_EQ(c->send(post(sink.url())).status, 200);
    EXPECT_EQ(sink.connections_accepted(), 2u);
}

TEST(collector_client, bad_urls_are_explained) {
    auto c = client();
    const auto ftp = c->send(post("ftp://x/"));
    EXPECT_EQ(ftp.status, 0);
    EXPECT_TRUE(contains(ftp.error, "unsupported scheme 'ftp'")) << ftp.error;
    EXPECT_TRUE(contains(ftp.error, "http and https only")) << ftp.error;
    const auto garbage = c->send(post("not a url"));
    EXPECT_EQ(garbage.status, 0);
    EXPECT_TRUE(contains(garbage.error, "invalid collector URL 'not a url'")) << garbage.error;
    const auto no_host = c->send(post("http:///v1/traces"));
    EXPECT_EQ(no_host.status, 0);
    EXPECT_TRUE(contains(no_host.error, "no usable host")) << no_host.error;
    const auto bad_port = c->send(post("http://127.0.0.1:99999/"));
    EXPECT_EQ(bad_port.status, 0);
    EXPECT_TRUE(contains(bad_port.error, "port")) << bad_port.error;
}

TEST(collector_client, unresolvable_host_is_named) {
    // RFC 6761 6.4: .invalid never resolves. Without DNS the lookup may also run into
    // the deadline; either way the error names the host.
    auto request = post("http://collector.invalid:4318/v1/traces");
    request.timeout = 2s;
    const auto response = client()->send(request);
    EXPECT_EQ(response.status, 0);
    EXPECT_TRUE(contains(response.error, "cannot resolve collector.invalid") ||
                contains(response.error, "timed out after 2s (resolving collector.invalid:4318)"))
        << response.error;
}

TEST(collector_client, resolves_host_names) {
    collector_sink sink;
    const auto response =
        client()->send(post("http://localhost:" + std::to_string(sink.port()) + "/v1/traces"));
    EXPECT_EQ(response.status, 200) << response.error;
    EXPECT_EQ(sink.requests().at(0).header("host"), "localhost:" + std::to_string(sink.port()));
}

// --- https ------------------------------------------------------------------------------

/// A sink serving https with a fresh self-signed certificate made for `names`.
struct tls_sink {
    explicit tls_sink(test::certificate_options names = {})
        : files(test::make_test_certificate(dir.path(), names)),
          sink(collector_sink_options{.tls = test::sink_tls{files.cert_file, files.key_file}}) {}
    std::string url(std::string_view host) const {
        return "https://" + std::string(host) + ":" + std::to_string(sink.port()) + "/v1/traces";
    }
    test::temp_dir dir;
    test::certificate_files files;
    collector_sink sink;
};

TEST(collector_client, https_with_a_ca_file) {
    tls_sink s;
    auto c = client(s.files.cert_file);
    for (auto host : {"127.0.0.1", "127.0.0.1", "localhost"}) {
        const auto response = c->send(post(s.url(host), "secret spans"));
        EXPECT_EQ(response.status, 200) << host << ": " << response.error;
    }
    const auto r = s.sink.requests();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].body, "secret spans");
    EXPECT_EQ(r[0].connection_id, r[1].connection_id) << "kept alive over TLS";
    EXPECT_EQ(r[2].header("host"), "localhost:" + std::to_string(s.sink.port()));
}

TEST(collector_client, https_against_the_system_store_rejects_a_self_signed_certificate) {
    tls_sink s;
    const auto response = client()->send(post(s.url("127.0.0.1")));
    EXPECT_EQ(response.status, 0);
    EXPECT_TRUE(contains(response.error,
                         "TLS handshake with 127.0.0.1:" + std::to_string(s.sink.port()) +
                             " failed: certificate verify failed"))
        << response.error;
    EXPECT_EQ(s.sink.request_count(), 0u);
}

TEST(collector_client, https_rejects_a_certificate_without_the_host_name) {
    tls_sink s({.dns_names = {"collector.test"}, .ip_addresses = {"127.0.0.2"}});
    auto c = client(s.files.cert_file);
    const auto by_name = c->send(post(s.url("localhost")));
    EXPECT_EQ(by_name.status, 0);
    EXPECT_TRUE(contains(by_name.error, "certificate verify failed: hostname mismatch"))
        << by_name.error;
    const auto by_ip = c->send(post(s.url("127.0.0.1")));
    EXPECT_EQ(by_ip.status, 0);
    EXPECT_TRUE(contains(by_ip.error, "certificate verify failed: IP address mismatch"))
        << by_ip.error;
    EXPECT_EQ(s.sink.request_count(), 0u);
}

TEST(collector_client, https_to_a_plain_http_server_fails_the_handshake) {
    collector_sink sink;
    auto request = post("https://127.0.0.1:" + std::to_string(sink.port()) + "/");
    const auto response = client()->send(request);
    EXPECT_EQ(response.status, 0);
    EXPECT_TRUE(contains(response.error, "TLS handshake with 127.0.0.1:")) << response.error;
}

TEST(collector_client, unreadable_ca_file_throws_naming_it) {
    test::temp_dir dir;
    const std::string missing = dir.path() + "/missing.pem";
    try {
        client(missing);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_TRUE(contains(e.what(), missing)) << e.what();
    }
    const auto not_pem = dir.write("not.pem", "this is no certificate\n");
    try {
        client(not_pem);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_TRUE(contains(e.what(), not_pem)) << e.what();
    }
}

// --- the collector sink itself, where the client tests do not already cover it -----------

TEST(collector_sink, answers_scripted_replies_in_order_then_the_default) {
    collector_sink sink;
    sink.set_default_reply({.status = 200, .body = R"({"partialSuccess":{}})"});
    sink.push_reply({.status = 503, .body = "a"});
    sink.push_reply({.status = 429, .body = "b"});
    auto c = client();
    const auto first = c->send(post(sink.url()));
    const auto second = c->send(post(sink.url()));
    const auto third = c->send(post(sink.url()));
    EXPECT_EQ(first.status, 503);
    EXPECT_EQ(first.body, "a");
    EXPECT_EQ(second.status, 429);
    EXPECT_EQ(second.body, "b");
    EXPECT_EQ(third.status, 200);
    EXPECT_EQ(third.body, R"({"partialSuccess":{}})");
}

TEST(collector_sink, delays_a_reply) {
    collector_sink sink;
    sink.push_reply({.delay = 300ms});
    const auto start = clock_type::now();
    ASSERT_EQ(client()->send(post(sink.url())).status, 200);
    EXPECT_GE(clock_type::now() - start, 300ms);
    const auto r = sink.requests().at(0);
    EXPECT_GE(r.received, start);
}

TEST(collector_sink, gunzips_gzip_bodies) {
    collector_sink sink;
    const std::string text(10000, 'x');
    auto request = post(sink.url());
    tracing::gzip_compress(text, request.body);
    request.headers.push_back({"Content-Encoding", "gzip"});
    ASSERT_EQ(client()->send(request).status, 200);
    auto bad = post(sink.url(), "not gzip");
    bad.headers.push_back({"Content-Encoding", "gzip"});
    ASSERT_EQ(client()->send(bad).status, 200);
    const auto plain = client()->send(post(sink.url(), "plain"));
    ASSERT_EQ(plain.status, 200);

    const auto r = sink.requests();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].body, request.body);
    EXPECT_EQ(r[0].decoded_body, text);
    EXPECT_FALSE(r[0].decode_failed);
    EXPECT_TRUE(r[1].decode_failed);
    EXPECT_EQ(r[2].decoded_body, "plain");
    EXPECT_FALSE(r[2].decode_failed);
}

TEST(collector_sink, wait_for_requests_gives_up_at_its_timeout) {
    collector_sink sink;
    EXPECT_FALSE(sink.wait_for_requests(1, 50ms));
    ASSERT_EQ(client()->send(post(sink.url())).status, 200);
    EXPECT_TRUE(sink.wait_for_requests(1, 0ms));
    sink.clear_requests();
    EXPECT_EQ(sink.request_count(), 0u);
}

TEST(collector_sink, stop_closes_held_connections_and_start_reuses_the_port) {
    collector_sink sink;
    const auto port = sink.port();
    sink.set_never_answer(true);
    auto request = post(sink.url());
    request.timeout = 5s;
    // stop() from another thread while the client waits for the answer that never comes.
    std::thread stopper([&] {
        ASSERT_TRUE(sink.wait_for_requests(1, wait_limit));
        sink.stop();
    });
    const auto start = clock_type::now();
    const auto response = client()->send(request);
    stopper.join();
    EXPECT_EQ(response.status, 0);
    EXPECT_LT(clock_type::now() - start, 4s) << "the held connection was closed by stop()";
    EXPECT_FALSE(sink.running());
    sink.set_never_answer(false);
    sink.start();
    EXPECT_EQ(sink.port(), port);
    EXPECT_EQ(client()->send(post(sink.url())).status, 200);
}

}  // namespace
}  // namespace tracegate::proxy
