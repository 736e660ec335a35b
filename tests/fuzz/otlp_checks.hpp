// What every decoded OTLP request must satisfy (tracing/otlp_decoder.hpp), and the round
// trip through tracegate's own encoders that both decoder targets run.
#pragma once

#include "tests/fuzz/fuzz_support.hpp"
#include "tracing/otlp_decoder.hpp"
#include "tracing/otlp_encoder.hpp"
#include "tracing/resource.hpp"

#include <set>
#include <string>

namespace tracegate::fuzz {

/// The decoder's contract on its result.
inline void check_decoded(const tracing::decoded_spans& decoded, std::size_t max_spans) {
    TG_FUZZ_CHECK(decoded.span_count() <= max_spans);
    std::set<std::string> services;
    for (const auto& [service, spans] : decoded.by_service) {
        TG_FUZZ_CHECK(!service.empty());
        TG_FUZZ_CHECK(services.insert(service).second);  // one entry per distinct name
        for (const auto& s : spans) {
            TG_FUZZ_CHECK(s.trace_id.is_valid());
            TG_FUZZ_CHECK(s.span_id.is_valid());
            if (s.parent_span_id) TG_FUZZ_CHECK(s.parent_span_id->is_valid());
            if (s.parent_is_remote) TG_FUZZ_CHECK(s.parent_span_id.has_value());
            TG_FUZZ_CHECK((s.trace_flags & ~(tracing::sampled_flag | tracing::random_flag)) == 0);
            TG_FUZZ_CHECK(s.end_time_unix_nano >= s.start_time_unix_nano);
        }
    }
}

/// The fields that survive any re-encoding (strings may be repaired to UTF-8 on output,
/// so names, keys and values are not compared).
inline void check_same_span(const tracing::span_data& a, const tracing::span_data& b) {
    TG_FUZZ_CHECK(a.trace_id == b.trace_id);
    TG_FUZZ_CHECK(a.span_id == b.span_id);
    TG_FUZZ_CHECK(a.parent_span_id == b.parent_span_id);
    TG_FUZZ_CHECK(a.parent_is_remote == b.parent_is_remote);
    TG_FUZZ_CHECK(a.trace_flags == b.trace_flags);
    TG_FUZZ_CHECK(a.kind == b.kind);
    TG_FUZZ_CHECK(a.start_time_unix_nano == b.start_time_unix_nano);
    TG_FUZZ_CHECK(a.end_time_unix_nano == b.end_time_unix_nano);
    TG_FUZZ_CHECK(a.status == b.status);
    TG_FUZZ_CHECK(a.events.size() == b.events.size());
    TG_FUZZ_CHECK(a.links.size() == b.links.size());
    TG_FUZZ_CHECK(a.dropped_attributes_count == b.dropped_attributes_count);
    TG_FUZZ_CHECK(a.dropped_events_count == b.dropped_events_count);
    TG_FUZZ_CHECK(a.dropped_links_count == b.dropped_links_count);
}

/// Each service's spans, encoded by our protobuf and JSON encoders and decoded again, come
/// back the same; encoders never throw on what a decoder produced.
inline void check_reencoded(const tracing::decoded_spans& decoded) {
    std::string body;
    for (const auto& [service, spans] : decoded.by_service) {
        if (spans.empty()) continue;
        tracing::resource res;
        res.attributes.push_back({"service.name", service});
        for (const bool json : {false, true}) {
            tracing::decoded_spans again;
            try {
                if (json) {
                    tracing::encode_otlp_json(spans, res, body);
                    again = tracing::decode_otlp_json(body, spans.size());
                } else {
                    tracing::encode_otlp_protobuf(spans, res, body);
                    again = tracing::decode_otlp_protobuf(body, spans.size());
                }
            } catch (const tracing::otlp_decode_error& e) {
                std::fprintf(stderr, "re-encoded %s does not decode: %s\n", json ? "JSON" : "protobuf", e.what());
                TG_FUZZ_CHECK(!"our own encoding decodes");
            }
            TG_FUZZ_CHECK(again.by_service.size() == 1);
            const auto& back = again.by_service[0].second;
            TG_FUZZ_CHECK(back.size() == spans.size());
            for (std::size_t i = 0; i < spans.size(); ++i) check_same_span(back[i], spans[i]);
        }
    }
}

}  // namespace tracegate::fuzz
