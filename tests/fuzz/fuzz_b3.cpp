// Zipkin B3: the single `b3` header and the X-B3-* headers.
// Input: header lines (`b3: ...`, `X-B3-TraceId: ...`; a bare line is a `b3` value).
#include "tests/fuzz/propagation_checks.hpp"
#include "tracing/b3_multi_propagator.hpp"
#include "tracing/b3_single_propagator.hpp"

#include <cstdint>

using namespace tracegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto lines = fuzz::header_lines(fuzz::as_text(data, size), "b3");
    for (const auto& line : lines) fuzz::check_parsed<tracing::b3_single_propagator>(line.value, true);
    const auto headers = fuzz::carrier_of(lines);
    static const tracing::b3_single_propagator single;
    static const tracing::b3_multi_propagator multi;
    fuzz::check_round_trip(single, headers, true);
    fuzz::check_round_trip(multi, headers, true);
    fuzz::check_composite(headers);
    return 0;
}
