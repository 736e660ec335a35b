// The admin listener of a real tracegate: health and readiness, Prometheus metrics, the
// effective config, the trace API over the embedded store, the OTLP/HTTP receiver, the
// viewer page, and the access log joining requests to traces.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"
#include "tracing/gzip.hpp"
#include "tracing/otlp_encoder.hpp"
#include "tracing/resource.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <thread>

namespace tracegate::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// The value of the sample `name{labels}` in a Prometheus text page; nullopt when absent.
std::optional<double> sample(const std::string& page, const std::string& series) {
    std::istringstream in(page);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with('#') || !line.starts_with(series)) continue;
        const auto rest = std::string_view(line).substr(series.size());
        if (!rest.starts_with(' ')) continue;
        return std::stod(std::string(rest.substr(1)));
    }
    return std::nullopt;
}

/// The trace id of a `traceresponse` header (00-TRACE-SPAN-FLAGS).
std::string trace_of(const http_response& r) {
    const auto header = r.header("traceresponse");
    return header && header->size() == 55 ? header->substr(3, 32) : std::string();
}

class admin : public ::testing::Test {
protected:
    void start(std::string_view extra = "") {
        const std::string yaml = fill(R"(service_name: storefront
workers: 2
listeners:
  - {name: main, address: 127.0.0.1:0}
upstreams:
  - {name: app, endpoints: [${app}]}
  - {name: dead, endpoints: [${dead}], connect_timeout: 1s}
routes:
  - {name: broken, match: {path_prefix: /broken}, upstream: dead}
  - {name: api, match: {path_prefix: /}, upstream: app}
limits: {drain_timeout: 10s}
tracing:
  export: {flush_interval: 20ms}
${extra}
)",
                                      {{"app", up_.address()}, {"dead", dead_.address()}, {"extra", std::string(extra)}});
        proxy_ = start_proxy(yaml);
        ASSERT_TRUE(proxy_);
        admin_port_ = proxy_->admin_port();
        ASSERT_NE(admin_port_, 0) << proxy_->log();
    }

    http_response admin_get(std::string_view target) {
        http_client client(admin_port_);
        return client.get(target);
    }

    json::value admin_json(std::string_view target) {
        const auto r = admin_get(target);
        EXPECT_EQ(r.status, 200u) << target << ": " << r.describe();
        EXPECT_EQ(r.header("content-type"), "application/json");
        return json::parse(r.body);
    }

    /// Polls /api/traces/{id} until the trace holds `spans` spans (export is batched).
    json::value wait_trace(const std::string& id, std::size_t spans) {
        const auto deadline = clock_type::now() + 10s;
        for (;;) {
            const auto r = admin_get("/api/traces/" + id);
            if (r.status == 200) {
                auto v = json::parse(r.body);
                if (v.at("spans").as_array().size() >= spans || clock_type::now() > deadline) return v;
            } else if (clock_type::now() > deadline) {
                ADD_FAILURE() << "trace " << id << " never arrived: " << r.describe();
                return json::object{{"spans", json::array()}};
            }
            std::this_thread::sleep_for(20ms);
        }
    }

    upstream_server up_;
    refused_port dead_;
    std::unique_ptr<tracegate_process> proxy_;
    std::uint16_t admin_port_ = 0;
};

TEST_F(admin, healthz_and_ready_answer_and_ready_turns_503_while_draining) {
    start();
    EXPECT_EQ(admin_get("/healthz").status, 200u);
    const auto ready = admin_get("/ready");
    EXPECT_EQ(ready.status, 200u) << ready.describe();

    // A slow request keeps the drain going while /ready is asked.
    std::thread slow([port = proxy_->port()] {
        http_client client(port, 20s);
        EXPECT_EQ(client.get("/delay/1500").status, 200u);
    });
    ASSERT_TRUE(up_.wait_for_requests(1, 5s));
    proxy_->signal(SIGTERM);
    const auto deadline = clock_type::now() + 5s;
    unsigned status = 0;
    while (clock_type::now() < deadline) {
        status = admin_get("/ready").status;
        if (status == 503) break;
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(status, 503u) << "/ready while draining";
    EXPECT_EQ(admin_get("/healthz").status, 200u) << "the process still runs";
    slow.join();
    EXPECT_EQ(proxy_->wait_exit(15s), 0);
}

TEST_F(admin, metrics_count_requests_errors_connections_spans_and_reloads) {
    start();
    {
        http_client client(proxy_->port());
        for (int i = 0; i < 7; ++i) ASSERT_EQ(client.get("/items/" + std::to_string(i)).status, 200u);
        ASSERT_EQ(client.post("/items", "twelve bytes").status, 200u);
        ASSERT_EQ(client.get("/status/404").status, 404u);
    }
    {
        http_client client(proxy_->port());
        EXPECT_EQ(client.get("/broken").status, 502u);
    }
    // One good reload, one rejected.
    proxy_->signal(SIGHUP);
    ASSERT_TRUE(proxy_->wait_for_log("config reloaded", 10s));
    const std::string good = [&] {
        std::ifstream in(proxy_->config_path());
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    proxy_->rewrite_config("listeners: [oops");
    proxy_->signal(SIGHUP);
    ASSERT_TRUE(proxy_->wait_for_log("config reload rejected", 10s));
    proxy_->rewrite_config(good);

    const auto page = admin_get("/metrics");
    ASSERT_EQ(page.status, 200u);
    EXPECT_EQ(page.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const std::string& m = page.body;
    EXPECT_EQ(sample(m, R"(tracegate_requests_total{route="api",method="GET",status_class="2xx"})"), 7) << m;
    EXPECT_EQ(sample(m, R"(tracegate_requests_total{route="api",method="POST",status_class="2xx"})"), 1);
    EXPECT_EQ(sample(m, R"(tracegate_requests_total{route="api",method="GET",status_class="4xx"})"), 1);
    EXPECT_EQ(sample(m, R"(tracegate_requests_total{route="broken",method="GET",status_class="5xx"})"), 1);
    EXPECT_EQ(sample(m, R"(tracegate_upstream_errors_total{kind="connect_refused"})"), 1);
    EXPECT_EQ(sample(m, R"(tracegate_request_duration_seconds_count{route="api"})"), 9);
    EXPECT_EQ(sample(m, R"(tracegate_request_duration_seconds_bucket{route="api",le="+Inf"})"), 9);
    EXPECT_EQ(sample(m, "tracegate_request_bytes_total"), 12);
    EXPECT_EQ(sample(m, "tracegate_connections_total"), 2);
    EXPECT_EQ(sample(m, "tracegate_spans_started_total"), 10);
    EXPECT_EQ(sample(m, "tracegate_spans_sampled_total"), 10);
    EXPECT_EQ(sample(m, R"(tracegate_config_reloads_total{result="ok"})"), 1);
    EXPECT_EQ(sample(m, R"(tracegate_config_reloads_total{result="failed"})"), 1);
    for (const char* where : {"session", "worker", "admin", "exporter", "reload"})
        EXPECT_EQ(sample(m, std::string(R"(tracegate_internal_errors_total{where=")") + where + "\"}"), 0)
            << where;
    EXPECT_TRUE(sample(m, "process_start_time_seconds").has_value());
    EXPECT_NE(m.find("tracegate_build_info{"), std::string::npos);
    // Server and client spans reach the store through the pipeline.
    const auto deadline = clock_type::now() + 10s;
    std::optional<double> exported;
    while (clock_type::now() < deadline) {
        exported = sample(admin_get("/metrics").body, R"(tracegate_spans_exported_total{exporter="memory store"})");
        if (exported && *exported >= 20) break;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(exported, 20) << "9 server + 9 client spans of the api route, 1 + 1 of broken";
}

TEST_F(admin, a_host_name_that_could_be_rebound_or_a_foreign_origin_is_refused) {
    start("admin: {hosts: [tracegate.internal]}");
    http_client client(admin_port_);
    const auto rebound = client.get("/api/traces", {{"Host", "attacker.example:9901"}});
    EXPECT_EQ(rebound.status, 403u) << rebound.describe();
    EXPECT_EQ(rebound.body.find("trace_id"), std::string::npos);
    for (const char* host : {"127.0.0.1:9901", "localhost:9901", "tracegate.internal:9901"}) {
        http_client ok(admin_port_);
        EXPECT_EQ(ok.get("/config", {{"Host", host}}).status, 200u) << host;
    }
    const std::string host = "127.0.0.1:" + std::to_string(admin_port_);
    http_client poster(admin_port_);
    const auto foreign = poster.post("/v1/traces", "{}",
                                     {{"Host", host}, {"Origin", "http://attacker.example"},
                                      {"Content-Type", "application/json"}});
    EXPECT_EQ(foreign.status, 403u) << foreign.describe();
    http_client own(admin_port_);
    const auto same = own.post("/v1/traces", "{}",
                               {{"Host", host}, {"Origin", "http://" + host}, {"Content-Type", "application/json"}});
    EXPECT_EQ(same.status, 200u) << same.describe();
}

TEST_F(admin, config_shows_the_effective_settings_with_secrets_redacted) {
    start(R"(  exporters:
    - {type: memory}
    - {type: otlp, endpoint: 'http://127.0.0.1:1/v1/traces', headers: {authorization: 'Bearer hunter2'}})");
    const auto yaml = admin_get("/config");
    ASSERT_EQ(yaml.status, 200u);
    EXPECT_NE(yaml.body.find("storefront"), std::string::npos) << yaml.body;
    EXPECT_EQ(yaml.body.find("hunter2"), std::string::npos) << yaml.body;
    EXPECT_NE(yaml.body.find("<redacted>"), std::string::npos);
    const auto j = admin_json("/config?format=json");
    EXPECT_EQ(j.at("service_name"), "storefront");
    EXPECT_EQ(j.at("tracing").at("exporters").at(1).at("headers").at("authorization"), "<redacted>");
    EXPECT_EQ(j.at("routes").at(0).at("name"), "broken");
}

TEST_F(admin, api_lists_and_returns_the_traces_tracegate_recorded) {
    start();
    http_client client(proxy_->port());
    const auto ok = client.get("/orders/1");
    const auto slow = client.get("/delay/120");
    http_client other(proxy_->port());
    const auto failed = other.get("/broken/x");
    ASSERT_EQ(ok.status, 200u);
    ASSERT_EQ(failed.status, 502u);
    const std::string ok_id = trace_of(ok), slow_id = trace_of(slow), failed_id = trace_of(failed);
    ASSERT_FALSE(ok_id.empty());

    const auto trace = wait_trace(ok_id, 2);
    const auto& spans = trace.at("spans").as_array();
    ASSERT_EQ(spans.size(), 2u) << trace;
    EXPECT_EQ(spans[0].at("kind"), "SERVER");
    EXPECT_EQ(spans[0].at("service"), "storefront");
    EXPECT_EQ(spans[0].at("parentSpanId"), "");
    EXPECT_EQ(spans[0].at("attributes").at("http.route"), "api");
    EXPECT_EQ(spans[0].at("attributes").at("http.response.status_code"), 200);
    EXPECT_EQ(spans[1].at("kind"), "CLIENT");
    EXPECT_EQ(spans[1].at("parentSpanId"), spans[0].at("spanId"));
    wait_trace(slow_id, 2);
    wait_trace(failed_id, 2);

    const auto all = admin_json("/api/traces");
    EXPECT_EQ(all.at("traces").as_array().size(), 3u) << all;
    EXPECT_EQ(all.at("services"), json::array({"storefront"}));
    EXPECT_EQ(all.at("routes"), json::array({"api", "broken"}));
    const auto errors = admin_json("/api/traces?error=true");
    ASSERT_EQ(errors.at("traces").as_array().size(), 1u) << errors;
    EXPECT_EQ(errors.at("traces").at(0).at("traceId").as_string(), failed_id);
    EXPECT_EQ(errors.at("traces").at(0).at("error"), true);
    const auto long_ones = admin_json("/api/traces?min_duration=100ms");
    ASSERT_EQ(long_ones.at("traces").as_array().size(), 1u) << long_ones;
    EXPECT_EQ(long_ones.at("traces").at(0).at("traceId").as_string(), slow_id);
    const auto by_route = admin_json("/api/traces?route=broken");
    ASSERT_EQ(by_route.at("traces").as_array().size(), 1u) << by_route << "\n" << all;
    EXPECT_EQ(admin_json("/api/traces?service=nobody").at("traces").as_array().size(), 0u);
    EXPECT_EQ(admin_json("/api/traces?limit=1").at("traces").as_array().size(), 1u);

    const auto bad = admin_get("/api/traces?min_duration=soon");
    EXPECT_EQ(bad.status, 400u);
    EXPECT_NE(bad.body.find("min_duration"), std::string::npos) << bad.body;
    EXPECT_EQ(admin_get("/api/traces?limit=0").status, 400u);
    EXPECT_EQ(admin_get("/api/traces/0123456789abcdef0123456789abcdef").status, 404u);
    EXPECT_EQ(admin_get("/api/traces/xyz").status, 400u);
    EXPECT_EQ(admin_get("/nothing-here").status, 404u);
}

tracing::span_data foreign_span(std::uint8_t n, std::optional<tracing::span_id> parent = {}) {
    tracing::span_data s;
    s.trace_id = *tracing::trace_id::from_hex("5b8efff798038103d269b633813fc60c");
    std::string hex = "eee19b7ec3c1b1" + std::string(1, "0123456789abcdef"[n >> 4]) + "0123456789abcdef"[n & 15];
    s.span_id = *tracing::span_id::from_hex(hex);
    s.parent_span_id = parent;
    s.name = "job " + std::to_string(n);
    s.kind = tracing::span_kind::internal;
    s.start_time_unix_nano = 1'700'000'000'000'000'000ull + n * 1000;
    s.end_time_unix_nano = s.start_time_unix_nano + 5'000'000;
    s.attributes.push_back({"job.id", std::int64_t{n}});
    return s;
}

TEST_F(admin, otlp_receiver_takes_protobuf_and_gzip_json_and_rejects_bad_payloads_clearly) {
    start("admin: {address: 127.0.0.1:0, max_receive_bytes: 65536}");
    const auto root = foreign_span(1);
    const std::vector<tracing::span_data> first{root};
    const std::vector<tracing::span_data> second{foreign_span(2, root.span_id)};
    std::string protobuf, js, packed;
    tracing::encode_otlp_protobuf(first, tracing::make_process_resource("billing-worker"), protobuf);
    tracing::encode_otlp_json(second, tracing::make_process_resource("ledger"), js);
    tracing::gzip_compress(js, packed);

    http_client client(admin_port_);
    const auto a = client.post("/v1/traces", protobuf, {{"content-type", "application/x-protobuf"}});
    EXPECT_EQ(a.status, 200u) << a.describe();
    EXPECT_EQ(a.header("content-type"), "application/x-protobuf");
    const auto b = client.post("/v1/traces", packed, {{"content-type", "application/json"}, {"content-encoding", "gzip"}});
    EXPECT_EQ(b.status, 200u) << b.describe();

    const auto trace = wait_trace("5b8efff798038103d269b633813fc60c", 2);
    const auto& spans = trace.at("spans").as_array();
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_EQ(spans[0].at("service"), "billing-worker");
    EXPECT_EQ(spans[0].at("kind"), "INTERNAL");
    EXPECT_EQ(spans[0].at("attributes").at("job.id"), 1);
    EXPECT_EQ(spans[1].at("service"), "ledger");
    EXPECT_EQ(spans[1].at("parentSpanId"), spans[0].at("spanId"));
    EXPECT_EQ(admin_json("/api/traces?service=ledger").at("traces").as_array().size(), 1u);

    const auto truncated = client.post("/v1/traces", protobuf.substr(0, protobuf.size() - 3),
                                       {{"content-type", "application/x-protobuf"}});
    EXPECT_EQ(truncated.status, 400u);
    EXPECT_NE(truncated.body.find("malformed OTLP protobuf"), std::string::npos) << truncated.body;
    http_client c2(admin_port_);
    const auto not_json = c2.post("/v1/traces", "{\"resourceSpans\": [", {{"content-type", "application/json"}});
    EXPECT_EQ(not_json.status, 400u) << not_json.describe();
    http_client c3(admin_port_);
    const auto wrong_type = c3.post("/v1/traces", "x", {{"content-type", "text/plain"}});
    EXPECT_EQ(wrong_type.status, 415u);
    http_client c4(admin_port_);
    const auto bad_gzip = c4.post("/v1/traces", "not gzip", {{"content-type", "application/json"}, {"content-encoding", "gzip"}});
    EXPECT_EQ(bad_gzip.status, 400u);
    http_client c5(admin_port_);
    const auto huge = c5.post("/v1/traces", std::string(70000, 'x'), {{"content-type", "application/json"}});
    EXPECT_EQ(huge.status, 413u) << huge.describe();
    std::string bomb;
    tracing::gzip_compress(std::string(1 << 20, ' '), bomb);  // 1 KiB that inflates to 1 MiB
    http_client c6(admin_port_);
    const auto inflated = c6.post("/v1/traces", bomb, {{"content-type", "application/json"}, {"content-encoding", "gzip"}});
    EXPECT_EQ(inflated.status, 413u) << inflated.describe();
    // Still serving, nothing lost.
    EXPECT_EQ(admin_get("/healthz").status, 200u);
    EXPECT_EQ(wait_trace("5b8efff798038103d269b633813fc60c", 2).at("spans").as_array().size(), 2u);
}

TEST_F(admin, viewer_page_is_one_self_contained_document) {
    start();
    const auto page = admin_get("/traces");
    ASSERT_EQ(page.status, 200u);
    EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(page.body.find("<html"), std::string::npos);
    // Nothing is fetched from elsewhere: no external script, style, image or font.
    static const std::regex external(R"((src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//)",
                                     std::regex::icase);
    EXPECT_FALSE(std::regex_search(page.body, external));
}

TEST_F(admin, access_log_lines_carry_the_trace_id_of_each_request) {
    temp_dir dir;
    const std::string path = dir.path() + "/access.jsonl";
    start("access_log: {path: '" + path + "', format: json}");
    http_client client(proxy_->port());
    const auto r = client.get("/catalog?page=2", {{"x-request-id", "req-42"}});
    ASSERT_EQ(r.status, 200u);
    const auto deadline = clock_type::now() + 5s;
    std::string text;
    while (clock_type::now() < deadline) {
        std::ifstream in(path);
        text.assign(std::istreambuf_iterator<char>(in), {});
        if (!text.empty() && text.back() == '\n') break;
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_FALSE(text.empty());
    const auto line = json::parse(text.substr(0, text.find('\n'))).as_object();
    EXPECT_EQ(line.at("trace_id").as_string(), trace_of(r));
    EXPECT_EQ(line.at("span_id").as_string(), r.header("traceresponse")->substr(36, 16));
    EXPECT_EQ(line.at("request_id"), "req-42");
    EXPECT_EQ(line.at("method"), "GET");
    EXPECT_EQ(line.at("path"), "/catalog?page=2");
    EXPECT_EQ(line.at("status"), 200);
    EXPECT_EQ(line.at("route"), "api");
    EXPECT_EQ(line.at("upstream").as_string(), up_.address());
    EXPECT_EQ(line.at("client_address"), "127.0.0.1");
    EXPECT_EQ(line.at("bytes_out").to_number<std::size_t>(), r.body.size());
    EXPECT_TRUE(line.at("duration_ms").is_double());
    EXPECT_TRUE(line.at("error").is_null());
}

TEST_F(admin, access_log_text_lines_go_to_stdout_with_the_failure_reason) {
    start("access_log: {format: text}");
    http_client client(proxy_->port());
    const auto r = client.get("/broken/now");
    ASSERT_EQ(r.status, 502u);
    const std::string pattern = "\"GET /broken/now HTTP/1.1\" 502 .* route=broken upstream=" + dead_.address() +
                                " trace_id=" + trace_of(r) + " .*error=connect_refused";
    EXPECT_TRUE(proxy_->wait_for_log(pattern, 5s)) << proxy_->log();
}

TEST(admin_listener, a_port_in_use_is_a_startup_error_and_enabled_false_binds_nothing) {
    upstream_server up;
    refused_port taken;  // bound, not listening: binding it again fails
    const std::string base = single_upstream_config(up.address());
    tracegate_process clash(base + "admin: {address: '" + taken.address() + "'}\n");
    EXPECT_EQ(clash.wait_exit(15s), 1);
    EXPECT_TRUE(clash.log_contains("admin: cannot listen on " + taken.address())) << clash.log();

    tracegate_process off(base + "admin: {enabled: false}\n");
    ASSERT_TRUE(off.wait_ready(ready_timeout));
    EXPECT_EQ(off.admin_port(300ms), 0);
    EXPECT_FALSE(off.log_contains("admin listening"));
}

}  // namespace
}  // namespace tracegate::test
