// Google Cloud Trace: `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS`.
// Input: header lines (a bare line is an X-Cloud-Trace-Context value).
#include "tests/fuzz/propagation_checks.hpp"
#include "tracing/google_cloud_trace_propagator.hpp"

#include <cstdint>

using namespace tracegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto lines = fuzz::header_lines(fuzz::as_text(data, size), "x-cloud-trace-context");
    for (const auto& line : lines)
        fuzz::check_parsed<tracing::google_cloud_trace_propagator>(line.value, false);
    const auto headers = fuzz::carrier_of(lines);
    static const tracing::google_cloud_trace_propagator cloud_trace;
    fuzz::check_round_trip(cloud_trace, headers, false);
    fuzz::check_composite(headers);
    return 0;
}
