// Invariants every propagation format keeps, checked by the propagator fuzz targets.
#pragma once

#include "tests/fuzz/fuzz_support.hpp"
#include "tracing/composite_propagator.hpp"
#include "tracing/propagator.hpp"

namespace tracegate::fuzz {

/// A context from a format's static parse(): as check_extracted(), and its own format()
/// parses back to the same context.
template <class Format>
void check_parsed(std::string_view value, bool sampling_only_allowed) {
    auto ctx = Format::parse(value);
    if (!ctx) return;
    auto remote = *ctx;
    remote.is_remote = true;
    check_extracted(remote, sampling_only_allowed);
    const std::string text = Format::format(*ctx);
    if (text.empty()) {
        TG_FUZZ_CHECK(!ctx->is_valid());  // only a context without ids may have no text
        return;
    }
    const auto again = Format::parse(text);
    TG_FUZZ_CHECK(again.has_value());
    TG_FUZZ_CHECK(*again == *ctx);
}

/// `p.extract(headers)`, checked with check_extracted(); then, for a context it returns:
/// injected into fresh headers and extracted again it is the same context; injected over
/// the original headers, the same again; and every other format carries its ids through
/// an inject / extract unchanged.
inline void check_round_trip(const tracing::propagator& p, const tracing::carrier& headers,
                             bool sampling_only_allowed) {
    const auto ctx = p.extract(headers);
    if (!ctx) return;
    check_extracted(*ctx, sampling_only_allowed);

    tracing::test::map_carrier fresh;
    p.inject(*ctx, fresh);
    const auto again = p.extract(fresh);
    TG_FUZZ_CHECK(again.has_value());
    TG_FUZZ_CHECK(*again == *ctx);

    if (!ctx->is_valid()) return;
    for (const auto format : tracing::all_propagation_formats) {
        const auto& other = tracing::propagator_for(format);
        tracing::test::map_carrier across;
        other.inject(*ctx, across);
        const auto back = other.extract(across);
        TG_FUZZ_CHECK(back.has_value());
        TG_FUZZ_CHECK(back->trace_id == ctx->trace_id);
        TG_FUZZ_CHECK(back->span_id == ctx->span_id);
    }
}

/// The composite of every format over `headers`: whatever it extracts keeps the
/// propagator contract, and removing the trace fields leaves nothing to extract.
inline void check_composite(tracing::test::map_carrier headers) {
    static const auto all = tracing::composite_propagator::create(
        {"tracecontext", "b3multi", "b3", "jaeger", "cloudtrace", "xray"});
    const auto& composite = *all.value;
    const auto found = composite.extract_with_source(headers);
    if (found.context) {
        check_extracted(*found.context, true);
        TG_FUZZ_CHECK(found.source.has_value());
    }
    const auto baggage = headers.get("baggage");
    const std::string baggage_before = baggage ? std::string(*baggage) : std::string("<none>");
    tracing::remove_trace_fields(headers);
    TG_FUZZ_CHECK(!composite.extract(headers).has_value());
    TG_FUZZ_CHECK(tracing::formats_present(headers).empty());
    const auto baggage_after = headers.get("baggage");
    TG_FUZZ_CHECK((baggage_after ? std::string(*baggage_after) : std::string("<none>")) == baggage_before);
}

}  // namespace tracegate::fuzz
