// The finished span record: what the tracer hands to a span_sink and every encoder reads.
// Plain data, no behaviour; resource fields (service name, host, ...) belong to the sink.
#pragma once

#include "tracing/ids.hpp"
#include "tracing/span_context.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tracegate::tracing {

/// The role of a span (OTLP Span.SpanKind). tracegate's tracer makes only server and
/// client; the other three arrive from applications that send spans to the admin
/// server's OTLP receiver. The order is not OTLP's numbering: encoders map each kind.
enum class span_kind : std::uint8_t { server, client, internal, producer, consumer };

/// OTLP Status.code: error is set by the proxy, ok only when explicitly asked for.
enum class status_code : std::uint8_t { unset, ok, error };

/// The kind's name as OTLP JSON, Cloud Trace and the viewer spell it: "SERVER", "CLIENT",
/// "INTERNAL", "PRODUCER", "CONSUMER".
constexpr std::string_view kind_name(span_kind kind) noexcept {
    switch (kind) {
        case span_kind::internal: return "INTERNAL";
        case span_kind::client: return "CLIENT";
        case span_kind::producer: return "PRODUCER";
        case span_kind::consumer: return "CONSUMER";
        case span_kind::server: break;
    }
    return "SERVER";
}

/// "UNSET", "OK" or "ERROR".
constexpr std::string_view status_name(status_code code) noexcept {
    switch (code) {
        case status_code::ok: return "OK";
        case status_code::error: return "ERROR";
        case status_code::unset: break;
    }
    return "UNSET";
}

/// An attribute value: the OTLP scalar types tracegate records.
using attribute_value = std::variant<std::string, std::int64_t, double, bool>;

/// One attribute; a span keeps them in the order first set, keys unique.
struct attribute {
    std::string key;        ///< OpenTelemetry semantic-convention name, e.g. `http.request.method`.
    attribute_value value;  ///< The value.

    /// Member-wise equality.
    friend bool operator==(const attribute&, const attribute&) = default;
};

/// A timestamped annotation (Dapper's annotations; OTLP Span.Event).
struct span_event {
    std::string name;                  ///< E.g. `upstream.connected`.
    std::uint64_t time_unix_nano = 0;  ///< Wall clock, derived from the span's monotonic clock.
};

/// A link to another span, e.g. the untrusted incoming context at an ingress.
struct span_link {
    span_context context;              ///< The linked position (trace id, span id, flags, tracestate).
    std::vector<attribute> attributes; ///< Optional attributes of the link.
};

/// A finished span. Times are wall-clock unix nanoseconds; `end - start` was measured on
/// a monotonic clock, so it never goes negative when the wall clock steps.
struct span_data {
    tracing::trace_id trace_id;                    ///< The trace.
    tracing::span_id span_id;                      ///< This span.
    std::optional<tracing::span_id> parent_span_id;///< The parent span; none for a root span.
    bool parent_is_remote = false;                 ///< The parent came from a request header (OTLP flags bits 8-9).
    std::uint8_t trace_flags = 0;                  ///< W3C flags of this span, masked to sampled|random.
    std::string tracestate;                        ///< W3C tracestate carried by the span.
    std::string name;                              ///< E.g. `GET users` or `TaskQueue.Stats`.
    span_kind kind = span_kind::server;            ///< Server (downstream), client (upstream attempt), or another OTLP kind.
    std::uint64_t start_time_unix_nano = 0;        ///< Wall clock at start.
    std::uint64_t end_time_unix_nano = 0;          ///< start + monotonic duration.
    std::vector<attribute> attributes;             ///< In order of first set, keys unique.
    std::vector<span_event> events;                ///< In order of occurrence.
    std::vector<span_link> links;                  ///< In order added.
    status_code status = status_code::unset;       ///< Final status.
    std::string status_message;                    ///< Description for status error; empty otherwise.
    std::uint32_t dropped_attributes_count = 0;    ///< Attributes refused by the per-span limit.
    std::uint32_t dropped_events_count = 0;        ///< Events refused by the per-span limit.
    std::uint32_t dropped_links_count = 0;         ///< Links refused by the per-span limit.

    /// True when the head decision was "sample" (false for a span kept by a keep rule).
    bool sampled() const noexcept { return (trace_flags & sampled_flag) != 0; }
    /// end - start in nanoseconds.
    std::uint64_t duration_nanos() const noexcept { return end_time_unix_nano - start_time_unix_nano; }
};

}  // namespace tracegate::tracing
