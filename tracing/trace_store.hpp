// The embedded default backend: the most recent traces, in memory, grouped by trace id,
// bounded by trace count and by bytes. The admin server's viewer reads it.
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
    std::size_t max_traces = 1000;
    /// Most bytes of span data kept (estimated from the span's strings and vectors).
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
    std::size_t span_count = 0;
    bool has_error = false;  ///< Some span has status error.
    /// http.response.status_code of the root span when it has one.
    std::optional<std::int64_t> status_code;

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
    std::size_t traces = 0;
    std::size_t spans = 0;
    std::size_t bytes = 0;
    std::uint64_t evicted_traces = 0;   ///< Traces removed to make room.
    std::uint64_t rejected_spans = 0;   ///< Spans too big to keep at all (larger than max_bytes).
};

/// Thread-safe: the exporter thread adds, readers (admin server threads) query.
class trace_store {
public:
    explicit trace_store(trace_store_options options = {});
    ~trace_store();
    trace_store(const trace_store&) = delete;
    trace_store& operator=(const trace_store&) = delete;

    /// Adds finished spans, grouping each under its trace (a trace seen again moves to
    /// the newest position), then evicts the oldest traces until both bounds hold.
    void add(std::span<const span_data> spans);

    /// Traces, newest first (by the time their latest span was added), filtered by `query`.
    std::vector<trace_summary> recent(const trace_query& query = {}) const;

    /// Every span of the trace, ordered by start time; nullopt when not (or no longer) kept.
    std::optional<std::vector<span_data>> find(const trace_id& id) const;

    /// Current counters.
    trace_store_stats stats() const;

    /// The estimated bytes of one span, as counted against max_bytes.
    static std::size_t estimated_bytes(const span_data& span) noexcept;

private:
    struct state;
    trace_store_options options_;
    mutable std::mutex mutex_;
    std::unique_ptr<state> state_;
};

}  // namespace tracegate::tracing
