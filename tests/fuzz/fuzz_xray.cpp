// AWS X-Ray: `X-Amzn-Trace-Id: Root=1-...;Parent=...;Sampled=1`.
// Input: header lines (a bare line is an X-Amzn-Trace-Id value).
#include "tests/fuzz/propagation_checks.hpp"
#include "tracing/aws_xray_propagator.hpp"

#include <cstdint>

using namespace tracegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto lines = fuzz::header_lines(fuzz::as_text(data, size), "x-amzn-trace-id");
    for (const auto& line : lines) fuzz::check_parsed<tracing::aws_xray_propagator>(line.value, false);
    const auto headers = fuzz::carrier_of(lines);
    static const tracing::aws_xray_propagator xray;
    fuzz::check_round_trip(xray, headers, false);
    fuzz::check_composite(headers);
    return 0;
}
