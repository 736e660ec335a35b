// W3C Trace Context: traceparent and tracestate, as parsed values and through the carrier.
// Input: header lines (`traceparent: ...`, `tracestate: ...`; a bare line is a traceparent).
#include "tests/fuzz/propagation_checks.hpp"
#include "tracing/tracestate.hpp"
#include "tracing/w3c_trace_context_propagator.hpp"

#include <algorithm>
#include <cstdint>

using namespace tracegate;
using tracing::w3c_trace_context_propagator;

namespace {

void check_tracestate(std::string_view value) {
    for (const std::size_t max : {tracing::tracestate_propagated_size, std::size_t{64}}) {
        const auto canonical = tracing::parse_tracestate(value, max);
        if (!canonical) continue;
        TG_FUZZ_CHECK(canonical->size() <= max);
        // Canonical form is a fixed point, and every member in it is valid.
        const auto again = tracing::parse_tracestate(*canonical, max);
        TG_FUZZ_CHECK(again && *again == *canonical);
        std::string_view rest = *canonical;
        while (!rest.empty()) {
            const std::string_view member = rest.substr(0, rest.find(','));
            rest.remove_prefix(std::min(rest.size(), member.size() + 1));
            const std::size_t eq = member.find('=');
            TG_FUZZ_CHECK(eq != std::string_view::npos);
            TG_FUZZ_CHECK(tracing::is_valid_tracestate_key(member.substr(0, eq)));
            TG_FUZZ_CHECK(tracing::is_valid_tracestate_value(member.substr(eq + 1)));
        }
    }
    // Truncating a canonical list always fits and leaves whole members.
    if (const auto whole = tracing::parse_tracestate(value, SIZE_MAX)) {
        const std::string cut = tracing::truncate_tracestate(*whole, 100);
        TG_FUZZ_CHECK(cut.size() <= 100);
        if (!cut.empty()) {
            const auto again = tracing::parse_tracestate(cut, SIZE_MAX);
            TG_FUZZ_CHECK(again && *again == cut);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto lines = fuzz::header_lines(fuzz::as_text(data, size), "traceparent");
    for (const auto& line : lines) {
        if (const auto ctx = w3c_trace_context_propagator::parse_traceparent(line.value)) {
            TG_FUZZ_CHECK(ctx->is_valid());
            const std::string formatted = w3c_trace_context_propagator::format_traceparent(*ctx);
            TG_FUZZ_CHECK(formatted.size() == 55);
            const auto again = w3c_trace_context_propagator::parse_traceparent(formatted);
            TG_FUZZ_CHECK(again && *again == *ctx);
        }
        check_tracestate(line.value);
    }
    auto headers = fuzz::carrier_of(lines);
    static const w3c_trace_context_propagator propagator;
    fuzz::check_round_trip(propagator, headers, false);
    if (const auto ctx = propagator.extract(headers)) {
        TG_FUZZ_CHECK(ctx->tracestate.size() <= tracing::tracestate_propagated_size);
        // Injected over the headers it came from: the same context again.
        propagator.inject(*ctx, headers);
        const auto again = propagator.extract(headers);
        TG_FUZZ_CHECK(again && *again == *ctx);
    }
    fuzz::check_composite(std::move(headers));
    return 0;
}
