// The embedded default backend: the most recent traces, in memory, grouped by trace id,
// bounded by trace count and by bytes. The admin server's viewer reads it.
//
// Traces form an LRU list: a trace moves to the newest end whenever one of its spans is
// added, and the oldest traces are evicted when a bound is exceeded. Each trace keeps its
// list summary (times, span count, error, root) up to date as spans arrive, so listing
// costs O(traces) and never touches span data.
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
#include <vector>

namespace tracegate::tracing {

/// Bounds of a trace_store.
struct trace_store_options {
    /// Most traces kept; adding spans of a new trace past this evicts the oldest trace.
    /// 0 is treated as 1.
    std::size_t max_traces = 1000;
    /// Most bytes of span data kept, as counted by trace_store::estimated_bytes(). A span
    /// larger than this is rejected; a single trace growing past it loses its oldest spans.
    std::size_t max_bytes = 64u << 20;
};

/// One trace as a list entry.
struct trace_summary {
    tracing::trace_id trace_id;
    /// Name of the root span: the span without a parent, else the one whose parent is not
    /// in the store, else the earliest span.
    std::string root_name;
    std::uint64_t start_time_unix_nano = 0;  ///< Earliest span start.
    std::uint64_t end_time_unix_nano = 0;    ///< Latest span end.
    std::size_t span_count = 0;  ///< Spans kept for this trace.
    bool has_error = false;  ///< Some span has status error.
    /// http.response.status_code of the root span when it has one.
    std::optional<std::int64_t> status_code;

    /// end - start: from the earliest start to the latest end.
    std::uint64_t duration_nanos() const noexcept { return end_time_unix_nano - start_time_unix_nano; }
};

/// What recent() returns.
struct trace_query {
    std::size_t limit = 50;                          ///< Most summaries returned.
    std::optional<std::uint64_t> min_duration_nanos; ///< Only traces at least this long.
    bool errors_only = false;                        ///< Only traces with has_error.
};

/// Counters of a trace_store.
struct trace_store_stats {
    std::size_t traces = 0;             ///< Traces kept.
    std::size_t spans = 0;              ///< Spans kept, over all traces.
    std::size_t bytes = 0;              ///< Sum of estimated_bytes() of the spans kept; <= max_bytes.
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
    void add(std::span<const span_data> spans);

    /// Traces, newest first (by the time their latest span was added), filtered by `query`.
    std::vector<trace_summary> recent(const trace_query& query = {}) const;

    /// Every span of the trace, ordered by start time (ties: server before client, then
    /// by span id); nullopt when not (or no longer) kept.
    std::optional<std::vector<span_data>> find(const trace_id& id) const;

    /// Current counters.
    trace_store_stats stats() const;

    /// The estimated bytes of one span, as counted against max_bytes: sizeof(span_data)
    /// plus the sizes of its strings (each counted by length, short or not) and of its
    /// vectors' elements (attributes, events, links and theirs). Sizes rather than
    /// capacities, so a copy of a span counts exactly what the original counts.
    static std::size_t estimated_bytes(const span_data& span) noexcept;

private:
    struct state;
    trace_store_options options_;
    mutable std::mutex mutex_;
    std::unique_ptr<state> state_;
};

}  // namespace tracegate::tracing
