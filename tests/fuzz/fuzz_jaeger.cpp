// Jaeger: `uber-trace-id` (also URL-encoded) and the `uberctx-*` baggage headers, which
// every format must leave untouched.
// Input: header lines (`uber-trace-id: ...`, `uberctx-k: v`; a bare line is an uber-trace-id).
#include "tests/fuzz/propagation_checks.hpp"
#include "tracing/jaeger_propagator.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace tracegate;

namespace {

bool is_uberctx(std::string_view name) {
    constexpr std::string_view prefix = "uberctx-";
    if (name.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(name[i])) != prefix[i]) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto lines = fuzz::header_lines(fuzz::as_text(data, size), "uber-trace-id");
    for (const auto& line : lines) fuzz::check_parsed<tracing::jaeger_propagator>(line.value, false);
    auto headers = fuzz::carrier_of(lines);
    static const tracing::jaeger_propagator jaeger;
    fuzz::check_round_trip(jaeger, headers, false);
    fuzz::check_composite(headers);

    // uberctx-* lines survive extraction, injection of every format and trace-field removal.
    std::vector<std::pair<std::string, std::string>> baggage;
    for (const auto& line : lines)
        if (is_uberctx(line.name))
            if (const auto value = headers.get(line.name)) baggage.emplace_back(line.name, *value);
    if (const auto ctx = jaeger.extract(headers)) {
        tracing::inject_formats(*ctx, headers,
                                {tracing::propagation_format::tracecontext, tracing::propagation_format::b3,
                                 tracing::propagation_format::b3multi, tracing::propagation_format::jaeger,
                                 tracing::propagation_format::cloudtrace, tracing::propagation_format::xray});
    }
    tracing::remove_trace_fields(headers);
    for (const auto& [name, value] : baggage) {
        const auto now = headers.get(name);
        TG_FUZZ_CHECK(now && *now == value);
    }
    return 0;
}
