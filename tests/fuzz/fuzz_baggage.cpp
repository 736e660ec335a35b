// W3C Baggage: the check that decides whether a `baggage` header is passed on.
// Input: header lines (a bare line is a baggage value; several lines are joined with ",").
#include "tests/fuzz/fuzz_support.hpp"
#include "tracing/w3c_baggage.hpp"

#include <cstdint>
#include <string>

using namespace tracegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    const auto lines = fuzz::header_lines(text, "baggage");
    for (const auto& line : lines) {
        const tracing::baggage_limits tight{64, 4};
        if (tracing::is_acceptable_baggage(line.value, tight)) TG_FUZZ_CHECK(line.value.size() <= 64);
        if (tracing::is_acceptable_baggage(line.value)) TG_FUZZ_CHECK(line.value.size() <= 8192);
    }
    auto headers = fuzz::carrier_of(lines);
    const auto before = headers.get(tracing::baggage_header);
    const std::string value = before ? std::string(*before) : std::string();
    const bool acceptable = before && tracing::is_acceptable_baggage(value);
    const bool kept = tracing::limit_baggage(headers);
    TG_FUZZ_CHECK(kept == acceptable);
    const auto after = headers.get(tracing::baggage_header);
    TG_FUZZ_CHECK(after.has_value() == kept);
    if (kept) TG_FUZZ_CHECK(*after == value);  // passed on unchanged, never rewritten
    return 0;
}
