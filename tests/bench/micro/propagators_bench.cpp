// Micro-benchmarks of the propagation formats: extract from and inject into a small
// vector-backed header carrier, per format, plus W3C baggage validation and the composite
// extractor over every format. Reported time is per call.

#include "tracing/composite_propagator.hpp"
#include "tracing/w3c_baggage.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

namespace tracegate::tracing {
namespace {

/// Header lines in a vector, names compared case-insensitively. set() reuses an existing
/// line's storage, so steady-state injection does not allocate in the carrier.
class vector_carrier final : public carrier {
public:
    vector_carrier() { lines_.reserve(16); }
    vector_carrier(std::initializer_list<std::pair<std::string, std::string>> lines) : lines_(lines) {}

    std::optional<std::string_view> get(std::string_view name) const override {
        for (const auto& [line_name, value] : lines_)
            if (equals(line_name, name)) return std::string_view(value);
        return std::nullopt;
    }

    void set(std::string_view name, std::string_view value) override {
        for (auto& [line_name, line_value] : lines_) {
            if (equals(line_name, name)) {
                line_value.assign(value);
                return;
            }
        }
        lines_.emplace_back(std::string(name), std::string(value));
    }

    void remove(std::string_view name) override {
        std::erase_if(lines_, [&](const auto& line) { return equals(line.first, name); });
    }

private:
    static bool equals(std::string_view a, std::string_view b) noexcept {
        // ASCII case folding, as Beast's fields compare names: no locale lookup per byte.
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c; };
        return a.size() == b.size() &&
               std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
    }

    std::vector<std::pair<std::string, std::string>> lines_;
};

/// Typical request headers carrying `format`, among a few ordinary ones.
vector_carrier request_headers(propagation_format format) {
    vector_carrier headers{{"Host", "api.example.com"},
                           {"User-Agent", "curl/8.4.0"},
                           {"Accept", "*/*"}};
    switch (format) {
        case propagation_format::tracecontext:
            headers.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
            headers.set("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
            break;
        case propagation_format::b3:
            headers.set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
            break;
        case propagation_format::b3multi:
            headers.set("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7");
            headers.set("X-B3-SpanId", "e457b5a2e4d86bd1");
            headers.set("X-B3-ParentSpanId", "05e3ac9a4f6e3b90");
            headers.set("X-B3-Sampled", "1");
            break;
        case propagation_format::jaeger:
            headers.set("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1");
            break;
        case propagation_format::cloudtrace:
            headers.set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1");
            break;
        case propagation_format::xray:
            headers.set("X-Amzn-Trace-Id",
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
            break;
    }
    return headers;
}

/// What the proxy injects upstream: a sampled context with a tracestate.
span_context outgoing_context() {
    span_context ctx;
    ctx.trace_id = trace_id::from_uint64(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736);
    ctx.span_id = span_id::from_uint64(0x00f067aa0ba902b7);
    ctx.trace_flags = sampled_flag | random_flag;
    ctx.tracestate = "congo=t61rcWkgMzE";
    return ctx;
}

void extract(benchmark::State& state, propagation_format format) {
    const propagator& p = propagator_for(format);
    const vector_carrier headers = request_headers(format);
    if (auto ctx = p.extract(headers); !ctx || !ctx->is_valid()) {
        state.SkipWithError("the sample header does not extract");
        return;
    }
    for (auto _ : state) {
        auto ctx = p.extract(headers);
        benchmark::DoNotOptimize(ctx);
    }
    state.SetItemsProcessed(state.iterations());
}

void inject(benchmark::State& state, propagation_format format) {
    const propagator& p = propagator_for(format);
    const span_context ctx = outgoing_context();
    vector_carrier headers = request_headers(format);
    p.inject(ctx, headers);  // the lines exist from here on: steady state
    for (auto _ : state) {
        p.inject(ctx, headers);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(extract, tracecontext, propagation_format::tracecontext);
BENCHMARK_CAPTURE(inject, tracecontext, propagation_format::tracecontext);
BENCHMARK_CAPTURE(extract, b3, propagation_format::b3);
BENCHMARK_CAPTURE(inject, b3, propagation_format::b3);
BENCHMARK_CAPTURE(extract, b3multi, propagation_format::b3multi);
BENCHMARK_CAPTURE(inject, b3multi, propagation_format::b3multi);
BENCHMARK_CAPTURE(extract, jaeger, propagation_format::jaeger);
BENCHMARK_CAPTURE(inject, jaeger, propagation_format::jaeger);
BENCHMARK_CAPTURE(extract, cloudtrace, propagation_format::cloudtrace);
BENCHMARK_CAPTURE(inject, cloudtrace, propagation_format::cloudtrace);
BENCHMARK_CAPTURE(extract, xray, propagation_format::xray);
BENCHMARK_CAPTURE(inject, xray, propagation_format::xray);

/// Issue 7's target: a bare traceparent (no tracestate) read from a request and a new one
/// written for the upstream, as the proxy does on every request.
void extract_inject_traceparent(benchmark::State& state) {
    const propagator& p = propagator_for(propagation_format::tracecontext);
    vector_carrier in{{"Host", "api.example.com"}, {"User-Agent", "curl/8.4.0"}, {"Accept", "*/*"}};
    in.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    vector_carrier out = in;
    span_context next = outgoing_context();
    next.tracestate.clear();
    p.inject(next, out);
    for (auto _ : state) {
        auto ctx = p.extract(in);
        benchmark::DoNotOptimize(ctx);
        next.trace_id = ctx->trace_id;
        p.inject(next, out);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(extract_inject_traceparent);

/// W3C baggage has no context to extract: the proxy only checks the header before passing
/// it on (limit_baggage), which is what this measures.
void baggage_validate(benchmark::State& state) {
    vector_carrier headers{{"baggage", "userId=alice,serverNode=DF%2028,isProduction=false;ttl=60,tenant=acme"}};
    if (!limit_baggage(headers)) {
        state.SkipWithError("the sample baggage is rejected");
        return;
    }
    for (auto _ : state) benchmark::DoNotOptimize(limit_baggage(headers));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(baggage_validate);

/// The composite of every format, tracecontext first, on a request carrying only X-Ray:
/// the worst case, every earlier format is looked for first.
void composite_extract_last_format(benchmark::State& state) {
    auto composite = composite_propagator::create({"tracecontext", "b3", "b3multi", "jaeger", "cloudtrace", "xray"});
    if (!composite) {
        state.SkipWithError("composite rejected");
        return;
    }
    const vector_carrier headers = request_headers(propagation_format::xray);
    for (auto _ : state) {
        auto found = composite.value->extract(headers);
        benchmark::DoNotOptimize(found);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(composite_extract_last_format);

}  // namespace
}  // namespace tracegate::tracing
