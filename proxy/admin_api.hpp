// The admin server's JSON API over the trace store, and its OTLP/HTTP receiver. Plain
// functions from request parts to a reply, so the server file holds only HTTP plumbing.
// No Beast here.
#pragma once

#include "tracing/trace_store.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace tracegate::proxy {

/// An answer of the admin server.
struct admin_reply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
};

/// GET /api/traces?service=&route=&min_duration=&error=&limit= (`query` without the '?').
admin_reply api_traces(const tracing::trace_store& store, std::string_view query);

/// GET /api/traces/{id}.
admin_reply api_trace(const tracing::trace_store& store, std::string_view id);

/// POST /v1/traces: OTLP/HTTP protobuf or JSON, optionally gzip, into the store.
/// `max_bytes` bounds the body before and after gunzip (413 past it).
admin_reply receive_otlp(tracing::trace_store& store, std::string_view content_type,
                         std::string_view content_encoding, std::string_view body, std::uint64_t max_bytes);

/// min_duration: "250ms", "1.5s", "300us", "2m", or a bare number of milliseconds.
std::optional<std::uint64_t> parse_min_duration_nanos(std::string_view text);

}  // namespace tracegate::proxy
