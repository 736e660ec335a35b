// Micro-benchmarks of the span encoders: one batch of 512 typical server spans (the
// attributes and events proxy/request_trace.cpp records) per iteration, in each format.
// The output string is reused across iterations, as the exporter reuses its buffer.
// Reported: ns_per_span (time per span; the console prints it in ns, JSON output in
// seconds), items_per_second (spans), bytes_per_span (output size).

#include "tracing/cloudtrace_encoder.hpp"
#include "tracing/jsonl_encoder.hpp"
#include "tracing/otlp_encoder.hpp"
#include "tracing/zipkin_encoder.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tracegate::tracing {
namespace {

constexpr std::size_t batch_size = 512;

/// A server span as the proxy makes it for a proxied GET with a W3C parent: 20 attributes
/// (request_trace.cpp's plus two configured tags), three events, status unset.
span_data typical_span(std::uint64_t n) {
    const std::uint64_t start = 1'700'000'000'000'000'000 + n * 1'000'000;
    span_data s;
    s.trace_id = trace_id::from_uint64(0x4bf92f3577b34da6 + n, 0xa3ce929d0e0e4736);
    s.span_id = span_id::from_uint64(0x00f067aa0ba902b7 + n);
    s.parent_span_id = span_id::from_uint64(0x53995c3f42cd8ad8);
    s.parent_is_remote = true;
    s.trace_flags = sampled_flag | random_flag;
    s.tracestate = "congo=t61rcWkgMzE";
    s.name = "GET users";
    s.kind = span_kind::server;
    s.start_time_unix_nano = start;
    s.end_time_unix_nano = start + 1'834'512;
    s.attributes = {
        {"http.request.method", std::string("GET")},
        {"url.path", std::string("/api/v1/users/12345/orders")},
        {"url.query", std::string("page=2&limit=50")},
        {"url.scheme", std::string("http")},
        {"server.address", std::string("api.example.com")},
        {"server.port", std::int64_t{8080}},
        {"client.address", std::string("203.0.113.42")},
        {"network.peer.address", std::string("203.0.113.42")},
        {"network.peer.port", std::int64_t{52144}},
        {"network.protocol.version", std::string("1.1")},
        {"user_agent.original", std::string("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")},
        {"http.request.header.x-request-id", std::string("0af7651916cd43dd8448eb211c80319c")},
        {"http.route", std::string("users")},
        {"tracegate.route", std::string("users")},
        {"tracegate.upstream", std::string("users-v2")},
        {"deployment.tier", std::string("gold")},
        {"tracegate.endpoint", std::string("10.0.3.17:9000")},
        {"http.response.status_code", std::int64_t{200}},
        {"http.request.body.size", std::int64_t{0}},
        {"http.response.body.size", std::int64_t{18'342}},
    };
    s.events = {{"upstream attempt failed: connect", start + 300'000},
                {"first upstream byte", start + 1'200'000},
                {"response complete", start + 1'830'000}};
    return s;
}

const std::vector<span_data>& batch() {
    static const std::vector<span_data> spans = [] {
        std::vector<span_data> out;
        for (std::size_t i = 0; i < batch_size; ++i) out.push_back(typical_span(i));
        return out;
    }();
    return spans;
}

const resource& process_resource() {
    static const resource res = make_process_resource("checkout", {{"deployment.environment", "prod"}});
    return res;
}

template <typename Encode>
void run(benchmark::State& state, Encode encode) {
    const auto& spans = batch();
    std::string out;
    for (auto _ : state) {
        encode(spans, out);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * spans.size()));
    // 1 / (spans per second) = seconds per span; the console shows it as e.g. "350ns".
    state.counters["ns_per_span"] = benchmark::Counter(
        static_cast<double>(spans.size()),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.counters["bytes_per_span"] = static_cast<double>(out.size()) / static_cast<double>(spans.size());
}

void otlp_protobuf(benchmark::State& state) {
    run(state, [](const auto& spans, std::string& out) { encode_otlp_protobuf(spans, process_resource(), out); });
}
BENCHMARK(otlp_protobuf);

void otlp_json(benchmark::State& state) {
    run(state, [](const auto& spans, std::string& out) { encode_otlp_json(spans, process_resource(), out); });
}
BENCHMARK(otlp_json);

void zipkin_v2(benchmark::State& state) {
    run(state, [](const auto& spans, std::string& out) { encode_zipkin_v2(spans, process_resource(), out); });
}
BENCHMARK(zipkin_v2);

void cloudtrace_v2(benchmark::State& state) {
    run(state, [](const auto& spans, std::string& out) {
        encode_cloudtrace_v2(spans, process_resource(), "my-project", out);
    });
}
BENCHMARK(cloudtrace_v2);

void jsonl(benchmark::State& state) {
    run(state, [](const auto& spans, std::string& out) {
        out.clear();  // encode_jsonl appends
        encode_jsonl(spans, process_resource(), out);
    });
}
BENCHMARK(jsonl);

}  // namespace
}  // namespace tracegate::tracing
