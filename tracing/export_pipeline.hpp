// The reporting half of tracing: finished spans leave the request path through a
// lock-free bounded queue; a batching thread groups them and hands each batch to every
// exporter; each exporter has a thread of its own with a bounded backlog of batches, so a
// slow or dead backend delays neither the request path nor the other backends.
//
//   request path ──submit──► bounded queue ──► batcher ──► lane (exporter A, retries)
//   (never waits; full: drop, count)                   └──► lane (exporter B, retries)
#pragma once

#include "tracing/bounded_queue.hpp"
#include "tracing/exporter.hpp"
#include "tracing/span_sink.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tracegate::tracing {

/// Bounds and timings of an export_pipeline.
struct export_pipeline_options {
    /// Spans waiting between the request path and the batcher; more are dropped and counted.
    std::size_t max_queue_spans = 8192;
    /// Spans per batch (one export request per exporter per batch).
    std::size_t max_batch_spans = 512;
    /// Longest a span waits for its batch to fill.
    std::chrono::milliseconds flush_interval{1000};
    /// shutdown(): time to deliver what is queued; the rest is dropped and counted.
    std::chrono::milliseconds shutdown_timeout{5000};
    /// First retry delay; doubled per attempt up to max_backoff, with full jitter.
    std::chrono::milliseconds initial_backoff{500};
    std::chrono::milliseconds max_backoff{30000};
    /// A batch still undelivered this long after its first attempt is dropped.
    std::chrono::milliseconds max_retry_time{120000};
    /// Log lines (nullptr: none).
    export_logger log{};
};

/// Counters of one exporter.
struct exporter_stats {
    std::string name;
    std::uint64_t exported_spans = 0;     ///< Delivered (accepted by the backend).
    std::uint64_t rejected_spans = 0;     ///< Reported rejected by a partial-success answer.
    std::uint64_t failed_requests = 0;    ///< Export attempts that did not deliver.
    std::uint64_t retries = 0;            ///< Attempts that were retries.
    std::uint64_t dropped_failed = 0;     ///< Spans given up on: non-retryable error or retry time out.
    std::uint64_t dropped_backlog = 0;    ///< Spans dropped because this exporter was too far behind.
    std::uint64_t dropped_shutdown = 0;   ///< Spans still undelivered when shutdown_timeout ran out.
    std::uint64_t internal_errors = 0;    ///< Exceptions the exporter threw (each failed its attempt).
};

/// Counters of the pipeline.
struct export_pipeline_stats {
    std::uint64_t queued = 0;             ///< Spans accepted from the request path.
    std::uint64_t dropped_queue_full = 0; ///< Spans refused because the queue was full.
    std::uint64_t queue_depth = 0;        ///< Spans in the queue now, not yet in a batch.
    std::vector<exporter_stats> exporters;
};

/// A span_sink that batches and exports. submit() never blocks.
class export_pipeline final : public span_sink {
public:
    /// Starts the batcher and one thread per exporter. `exporters` may be empty (spans
    /// are then only counted).
    export_pipeline(export_pipeline_options options, std::vector<std::unique_ptr<exporter>> exporters);
    /// shutdown(), if not done yet.
    ~export_pipeline() override;
    export_pipeline(const export_pipeline&) = delete;
    export_pipeline& operator=(const export_pipeline&) = delete;

    /// Enqueues `span`; when the queue is full the span is dropped and counted. Never blocks.
    void submit(span_data&& span) noexcept override;

    /// Waits until every span submitted before the call has been delivered or dropped by
    /// every exporter, at most `timeout`. True when done in time. Not for the request path.
    bool flush(std::chrono::milliseconds timeout);

    /// Delivers what is queued within shutdown_timeout (no retry waits past it), drops
    /// and counts the rest, and stops every thread. Idempotent; submit() afterwards drops.
    void shutdown();

    /// A snapshot of the counters.
    export_pipeline_stats stats() const;

private:
    struct lane;
    void run_batcher();
    std::size_t form_batches(bool everything);

    export_pipeline_options options_;
    bounded_queue<span_data> queue_;
    std::vector<std::unique_ptr<lane>> lanes_;
    std::atomic<std::uint64_t> queued_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> batched_{0};    // spans taken off the queue by the batcher
    std::atomic<std::uint64_t> pending_{0};    // submitted since the batcher last woke
    std::atomic<bool> stopping_{false};
    std::atomic<bool> stopped_{false};
    mutable std::mutex mutex_;                 // batcher waits only; never taken in submit()
    std::condition_variable wake_;
    std::condition_variable progress_;
    bool flush_requested_ = false;
    std::chrono::steady_clock::time_point shutdown_deadline_{};
    std::thread batcher_;
};

}  // namespace tracegate::tracing
