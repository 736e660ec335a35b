// A backend that is down, hangs, or refuses never slows or breaks proxying: requests keep
// their latency, memory stays bounded, drops are counted, export recovers when the
// collector returns, retries honour Retry-After, and SIGTERM sends what is queued.
#include "tests/support/collector_sink.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"
#include "tests/support/protobuf_wire.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <regex>

namespace tracegate::test {
namespace {

namespace pb = tracing::test::pb;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Span ids in an OTLP protobuf request body.
std::vector<std::string> span_ids(std::string_view body) {
    std::vector<std::string> ids;
    for (const auto& rs : pb::message::parse(body).repeated(1))
        for (const auto& ss : rs.repeated(2))
            for (const auto& s : ss.repeated(2)) ids.emplace_back(s.bytes(2));
    return ids;
}

std::size_t spans_received(const collector_sink& sink) {
    std::size_t n = 0;
    for (const auto& r : sink.requests()) n += span_ids(r.decoded_body).size();
    return n;
}

/// The 99th percentile of `samples`.
clock_type::duration p99(std::vector<clock_type::duration> samples) {
    std::sort(samples.begin(), samples.end());
    return samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
}

struct totals {
    std::uint64_t exported = 0, dropped_backlog = 0, dropped_shutdown = 0, dropped_failed = 0, queue_full = 0;
};

/// The counters tracegate logs at exit.
totals exit_totals(const std::string& log) {
    totals t;
    std::smatch m;
    if (std::regex_search(log, m, std::regex(R"((\d+) dropped \(queue full\))"))) t.queue_full = std::stoull(m[1]);
    if (std::regex_search(log, m, std::regex(
                                      R"(exporter otlp \S+: (\d+) exported, \d+ rejected, (\d+) dropped \(export failed\), (\d+) dropped \(backlog full\), (\d+) dropped \(shutdown\))"))) {
        t.exported = std::stoull(m[1]);
        t.dropped_failed = std::stoull(m[2]);
        t.dropped_backlog = std::stoull(m[3]);
        t.dropped_shutdown = std::stoull(m[4]);
    }
    return t;
}

class export_outage : public ::testing::Test {
protected:
    void start(std::string_view export_block, std::string_view exporter_extra = "") {
        const std::string yaml = fill(R"(service_name: outage
workers: 2
listeners:
  - {name: main, address: 127.0.0.1:0}
upstreams:
  - {name: app, endpoints: [${endpoint}]}
limits: {drain_timeout: 2s}
tracing:
  max_tag_value_bytes: 4096
  tags: [{name: pad, header: x-pad}]
  export: ${export}
  exporters:
    - {type: otlp, endpoint: '${sink}'${extra}}
)",
                                      {{"endpoint", up_.address()},
                                       {"export", std::string(export_block)},
                                       {"sink", sink_.url("/v1/traces")},
                                       {"extra", std::string(exporter_extra)}});
        proxy_ = start_proxy(yaml);
        ASSERT_TRUE(proxy_);
    }

    /// Latencies of `n` keep-alive GETs, each answered 200.
    std::vector<clock_type::duration> timed_requests(std::size_t n, const header_list& headers = {}) {
        std::vector<clock_type::duration> out;
        out.reserve(n);
        http_client client(proxy_->port());
        for (std::size_t i = 0; i < n; ++i) {
            const auto before = clock_type::now();
            const auto r = client.get("/work/" + std::to_string(i), headers);
            out.push_back(clock_type::now() - before);
            if (r.status != 200) {
                ADD_FAILURE() << "request " << i << ": " << r.describe();
                break;
            }
        }
        return out;
    }

    /// Sends SIGTERM and waits for a clean exit; the time it took.
    clock_type::duration terminate() {
        const auto before = clock_type::now();
        proxy_->signal(SIGTERM);
        const auto code = proxy_->wait_exit(20s);
        EXPECT_EQ(code, 0);
        return clock_type::now() - before;
    }

    upstream_server up_;
    collector_sink sink_;
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(export_outage, a_hanging_or_dead_collector_does_not_slow_requests) {
    start("{flush_interval: 20ms, max_batch_spans: 16}", ", timeout: 2s");
    timed_requests(50);  // warm up connections on both sides
    const auto up = p99(timed_requests(400));

    sink_.set_never_answer(true);  // accepts, reads, never answers: each export waits out its timeout
    const auto hanging = p99(timed_requests(400));
    sink_.stop();  // connection refused
    const auto dead = p99(timed_requests(400));

    const auto bound = std::max(5 * up, up + 50ms);
    EXPECT_LT(hanging, bound) << "p99 with the collector up " << up.count() << "ns, hanging " << hanging.count();
    EXPECT_LT(dead, bound) << "p99 with the collector up " << up.count() << "ns, down " << dead.count();
}

TEST_F(export_outage, memory_stays_bounded_and_drops_are_counted_while_the_collector_hangs) {
    sink_.set_never_answer(true);
    start("{max_queue_spans: 256, max_batch_spans: 64, flush_interval: 10ms, shutdown_timeout: 1s}",
          ", timeout: 60s");
    const header_list pad{{"x-pad", std::string(4000, 'p')}};  // ~4 KB per server span
    timed_requests(1000, pad);
    const auto baseline = proxy_->rss_kib();
    timed_requests(6000, pad);  // 12000 spans, ~50 MB if they were all kept
    const auto after = proxy_->rss_kib();
    ASSERT_TRUE(baseline && after);
    EXPECT_LT(*after, *baseline + 16 * 1024) << "RSS grew from " << *baseline << " KiB to " << *after << " KiB";

    const auto took = terminate();
    EXPECT_LT(took, 2s + 1s + 3s) << "drain_timeout + shutdown_timeout + margin";
    const totals t = exit_totals(proxy_->log());
    EXPECT_EQ(t.exported, 0u);
    EXPECT_GT(t.queue_full + t.dropped_backlog, 10000u) << proxy_->log();
    EXPECT_GT(t.dropped_shutdown, 0u) << proxy_->log();
}

TEST_F(export_outage, export_recovers_when_the_collector_returns) {
    sink_.stop();
    start("{flush_interval: 20ms}");
    timed_requests(5);
    ASSERT_TRUE(proxy_->wait_for_log("connection refused.*retrying", 10s)) << proxy_->log();
    sink_.start();
    // Backoff starts at 0.5 s and doubles: the next attempt comes within a few seconds.
    const auto deadline = clock_type::now() + 15s;
    while (spans_received(sink_) < 10 && clock_type::now() < deadline) sink_.wait_for_requests(sink_.request_count() + 1, 500ms);
    EXPECT_EQ(spans_received(sink_), 10u);
    EXPECT_TRUE(proxy_->wait_for_log("recovered", 5s));
}

TEST_F(export_outage, service_unavailable_with_retry_after_is_retried_after_the_delay) {
    sink_reply busy;
    busy.status = 503;
    busy.headers = {{"Retry-After", "1"}};
    sink_.push_reply(busy);
    start("{flush_interval: 20ms}");
    timed_requests(1);
    ASSERT_TRUE(sink_.wait_for_requests(2, 10s));
    const auto requests = sink_.requests();
    EXPECT_EQ(requests[0].decoded_body, requests[1].decoded_body) << "the same batch, sent again";
    EXPECT_GE(requests[1].received - requests[0].received, 900ms);
    EXPECT_EQ(span_ids(requests[1].decoded_body).size(), 2u);
    EXPECT_FALSE(sink_.wait_for_requests(3, 500ms)) << "delivered once, not again";
    const totals t = (terminate(), exit_totals(proxy_->log()));
    EXPECT_EQ(t.exported, 2u);
}

TEST_F(export_outage, a_client_error_is_not_retried_and_is_logged_once) {
    sink_reply bad;
    bad.status = 400;
    bad.body = "malformed span";
    sink_.set_default_reply(bad);
    start("{flush_interval: 20ms}");
    for (int batch = 1; batch <= 3; ++batch) {
        timed_requests(1);
        ASSERT_TRUE(sink_.wait_for_requests(batch, 10s));
    }
    EXPECT_FALSE(sink_.wait_for_requests(4, 1s)) << "a 400 must not be retried";
    EXPECT_EQ(proxy_->log_count("HTTP 400 from the collector: malformed span"), 1u) << proxy_->log();
    const totals t = (terminate(), exit_totals(proxy_->log()));
    EXPECT_EQ(t.dropped_failed, 6u);
}

TEST_F(export_outage, a_partial_success_answer_is_logged) {
    sink_reply partial;
    partial.content_type = "application/json";
    partial.body = R"({"partialSuccess":{"rejectedSpans":"1","errorMessage":"span too large"}})";
    sink_.set_default_reply(partial);
    start("{flush_interval: 20ms}", ", encoding: json");
    timed_requests(1);
    EXPECT_TRUE(proxy_->wait_for_log("collector rejected 1 of 2 spans: span too large", 10s)) << proxy_->log();
}

TEST_F(export_outage, sigterm_sends_what_is_queued) {
    start("{flush_interval: 60s, max_batch_spans: 512, shutdown_timeout: 5s}");
    timed_requests(30);
    EXPECT_EQ(sink_.request_count(), 0u) << "nothing is due before the flush interval";
    const auto took = terminate();
    EXPECT_LT(took, 10s);
    EXPECT_EQ(spans_received(sink_), 60u);
    EXPECT_EQ(exit_totals(proxy_->log()).exported, 60u);
}

TEST_F(export_outage, sigterm_with_the_collector_down_exits_within_the_shutdown_timeout) {
    sink_.stop();
    start("{flush_interval: 20ms, shutdown_timeout: 1s}");
    timed_requests(10);
    ASSERT_TRUE(proxy_->wait_for_log("retrying", 10s));
    const auto took = terminate();
    EXPECT_LT(took, 1s + 3s);
    const totals t = exit_totals(proxy_->log());
    EXPECT_EQ(t.exported, 0u);
    EXPECT_EQ(t.dropped_shutdown + t.dropped_failed, 20u) << proxy_->log();
}

}  // namespace
}  // namespace tracegate::test
