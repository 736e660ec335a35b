// The embedded default backend: the most recent traces, in memory, grouped by trace id,
// bounded by trace count and by bytes. The admin server's viewer reads it.
//
// Traces form an LRU list: a trace moves to the newest end whenever one of its spans is
// added, and the oldest traces are evicted when a bound is exceeded. Each trace keeps its
// list summary (times, span count, error, root, services) up to date as spans arrive, so
// listing costs O(traces) and never touches span data.
//
// Each span is kept with the service.name of the resource that reported it: tracegate's
// own for the spans it makes, the sender's for spans received over OTLP. Names are
// interned: a span holds a view of one shared copy, dropped with the last span using it.
#pragma once

#include "tracing/ids.hpp"
#include "tracing/span_data.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::tracing {

/// Bounds of a trace_store.
struct trace_store_options {
    /// Most traces kept; adding spans of a new trace past this evicts the oldest trace.
    /// 0 is treated as 1.
    std::size_t max_traces = 1000;
    /// Most bytes of span data kept, as counted by trace_store::estimated_bytes(span,
    /// service). A span larger than this is rejected; a single trace growing past it loses
    /// its oldest spans.
    std::size_t max_bytes = 64u << 20;
};

/// One trace as a list entry.
struct trace_summary {
    tracing::trace_id trace_id;
    /// Name of the root span: the span without a parent, else the one whose parent is not
    /// in the store, else the earliest span.
    std::string root_name;
    /// Service of the root span.
    std::string root_service;
    /// Every service with a span in the trace, distinct, sorted.
    std::vector<std::string> services;
    /// The root span's `http.route` when it has one as a string attribute.
    std::optional<std::string> route;
    std::uint64_t start_time_unix_nano = 0;  ///< Earliest span start.
    std::uint64_t end_time_unix_nano = 0;    ///< Latest span end.
    std::size_t span_count = 0;  ///< Spans kept for this trace.
    bool has_error = false;  ///< Some span has status error.
    /// http.response.status_code of the root span when it has one.
    std::optional<std::int64_t> status_code;
    /// The trace lost spans to trimming (it alone grew past max_bytes): it is incomplete.
    bool truncated = false;

    /// end - start: from the earliest start to the latest end.
    std::uint64_t duration_nanos() const noexcept { return end_time_unix_nano - start_time_unix_nano; }
};

/// What recent() returns.
struct trace_query {
    std::size_t limit = 50;                          ///< Most summaries returned.
    std::optional<std::uint64_t> min_duration_nanos; ///< Only traces at least this long.
    bool errors_only = false;                        ///< Only traces with has_error.
    std::optional<std::string> service;  ///< Only traces with a span of this service.
    std::optional<std::string> route;    ///< Only traces whose root's http.route is this.
};

/// A span as find() returns it: the span and the service that reported it.
struct stored_span {
    span_data span;       ///< The span.
    std::string service;  ///< service.name of the resource it was reported under.
};

/// Counters of a trace_store.
struct trace_store_stats {
    std::size_t traces = 0;             ///< Traces kept.
    std::size_t spans = 0;              ///< Spans kept, over all traces.
    std::size_t bytes = 0;              ///< Sum of estimated_bytes(span, service) of the spans kept; <= max_bytes.
    std::uint64_t evicted_traces = 0;   ///< Traces removed to make room.
    /// Spans not kept at all: larger than max_bytes, or without a valid trace id.
    std::uint64_t rejected_spans = 0;
    /// Spans dropped, oldest first, from a trace that alone grew past max_bytes.
    std::uint64_t trimmed_spans = 0;
    /// Spans ignored because their trace already held a span with the same span id.
    std::uint64_t duplicate_spans = 0;
};

/// Thread-safe: the exporter thread adds, readers (admin server threads) query.
class trace_store {
public:
    explicit trace_store(trace_store_options options = {});
    ~trace_store();
    trace_store(const trace_store&) = delete;
    trace_store& operator=(const trace_store&) = delete;

    /// Adds finished spans, grouping each under its trace (a trace seen again moves to
    /// the newest position), then evicts the oldest traces until both bounds hold. The
    /// trace a span was just added to is never evicted for it: when that trace alone
    /// exceeds max_bytes, its oldest spans (by arrival) are dropped down to 3/4 of
    /// max_bytes, always keeping the newest span; trimming with that margin makes a trace
    /// that keeps growing cost O(1) amortized per span rather than a rebuild per span.
    /// A span larger than max_bytes, or without a valid trace id, is rejected; a span
    /// whose id its trace already holds is ignored (and does not move the trace).
    /// `service_name` is the service.name of the resource every span of `spans` was
    /// reported under (the caller groups spans by resource).
    void add(std::span<const span_data> spans, std::string_view service_name);

    /// Traces, newest first (by the time their latest span was added), filtered by `query`.
    std::vector<trace_summary> recent(const trace_query& query = {}) const;

    /// Every span of the trace with its service, ordered by start time (ties: the
    /// receiving side first, i.e. server, consumer, internal, producer, client; then by
    /// span id); nullopt when not (or no longer) kept.
    std::optional<std::vector<stored_span>> find(const trace_id& id) const;

    /// The services with at least one span in the store, distinct, sorted.
    std::vector<std::string> services() const;

    /// The `http.route` values of the root spans of the traces in the store, distinct,
    /// sorted. O(traces × root attributes).
    std::vector<std::string> routes() const;

    /// Current counters.
    trace_store_stats stats() const;

    /// The estimated bytes of one span, as counted against max_bytes: sizeof(span_data)
    /// plus the sizes of its strings (each counted by length, short or not) and of its
    /// vectors' elements (attributes, events, links and theirs). Sizes rather than
    /// capacities, so a copy of a span counts exactly what the original counts.
    static std::size_t estimated_bytes(const span_data& span) noexcept;

    /// What a span costs in the store: estimated_bytes(span) plus the length of its
    /// service name. The name is counted per span although spans share one interned copy:
    /// an upper bound, which keeps each span's cost its own (trimming and eviction subtract
    /// exactly what adding added) and needs no special case for the span that brings a
    /// name in or takes the last one out.
    static std::size_t estimated_bytes(const span_data& span, std::string_view service) noexcept {
        return estimated_bytes(span) + service.size();
    }

private:
    struct state;
    trace_store_options options_;
    mutable std::mutex mutex_;
    std::unique_ptr<state> state_;
};

}  // namespace tracegate::tracing
