// Shared by the libFuzzer targets: turning fuzz input into headers, and checks that fail
// loudly (abort, so libFuzzer saves the input) whatever the build type.
#pragma once

#include "tests/unit/tracing/map_carrier.hpp"
#include "tracing/span_context.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::fuzz {

/// Like assert(), kept in release builds: prints what broke and aborts, which libFuzzer
/// reports as a crash with the input that caused it.
#define TG_FUZZ_CHECK(condition)                                                           \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,      \
                         #condition);                                                      \
            std::abort();                                                                  \
        }                                                                                  \
    } while (false)

/// The fuzz input as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// One `name: value` line of a seed.
struct header_line {
    std::string_view name;
    std::string_view value;
};

/// The input read as header lines, one per '\n' (a trailing '\r' dropped): the name up to
/// the first ':', the value after it with one leading space dropped. A line without ':'
/// is a value under `default_name`. Seeds stay readable: `traceparent: 00-...`.
inline std::vector<header_line> header_lines(std::string_view text, std::string_view default_name) {
    std::vector<header_line> out;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::size_t colon = line.find(':');
        header_line h{default_name, line};
        if (colon != std::string_view::npos) {
            h.name = line.substr(0, colon);
            h.value = line.substr(colon + 1);
            if (!h.value.empty() && h.value.front() == ' ') h.value.remove_prefix(1);
        }
        out.push_back(h);
    }
    return out;
}

/// A map carrier holding `lines`.
inline tracing::test::map_carrier carrier_of(const std::vector<header_line>& lines) {
    tracing::test::map_carrier headers;
    for (const auto& line : lines) headers.add(std::string(line.name), std::string(line.value));
    return headers;
}

/// What every propagator promises about a context it returns (tracing/span_context.hpp):
/// valid (both ids non-zero) or sampling-only (no ids at all), remote, and the sampling
/// fields consistent.
inline void check_extracted(const tracing::span_context& ctx, bool sampling_only_allowed) {
    TG_FUZZ_CHECK(ctx.is_remote);
    if (ctx.is_valid()) {
        TG_FUZZ_CHECK(ctx.trace_id.is_valid());  // never an all-zero trace id
        TG_FUZZ_CHECK(ctx.span_id.is_valid());
    } else {
        TG_FUZZ_CHECK(sampling_only_allowed);
        TG_FUZZ_CHECK(!ctx.trace_id.is_valid() && !ctx.span_id.is_valid());
    }
    if (ctx.sampling_deferred) TG_FUZZ_CHECK(!ctx.sampled());
    if (ctx.debug) TG_FUZZ_CHECK(ctx.sampled() && !ctx.sampling_deferred);
    if (ctx.parent_span_id) TG_FUZZ_CHECK(ctx.parent_span_id->is_valid());
    if (ctx.trace_id_64bit) TG_FUZZ_CHECK(ctx.trace_id.high() == 0);
}

}  // namespace tracegate::fuzz
