// A span_sink that writes one JSON object per span per line to a file (the `file`
// exporter, and what tests read). The request path only enqueues; a thread of its own
// encodes, writes and flushes in batches.
#pragma once

#include "tracing/bounded_queue.hpp"
#include "tracing/span_data.hpp"
#include "tracing/span_sink.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace tracegate::tracing {

/// Settings of a jsonl_file_writer.
struct jsonl_file_writer_options {
    /// File to append to; "-" = standard output.
    std::string path = "-";
    /// Written as `service` on every line.
    std::string service_name = "tracegate";
    /// Queue bound; a span submitted while it is full is dropped and counted.
    std::size_t max_queue_spans = 8192;
    /// Most spans written per batch (one write(2) per batch).
    std::size_t max_batch_spans = 512;
    /// Longest a queued span waits before it is written.
    std::chrono::milliseconds flush_interval{1000};
    /// How long the destructor keeps writing what is queued; the rest is dropped.
    std::chrono::milliseconds shutdown_timeout{5000};
};

/// The JSON-lines span writer. Fields per line: traceId, spanId, parentSpanId (hex, ""
/// for a root), name, kind ("SERVER"/"CLIENT"), startTimeUnixNano, endTimeUnixNano,
/// attributes {key: value}, events [{name, timeUnixNano}], links [{traceId, spanId}],
/// status {code: "UNSET"|"OK"|"ERROR", message}, traceFlags, traceState, service.
class jsonl_file_writer final : public span_sink {
public:
    /// Opens (creates, appends to) the file and starts the writer thread. Throws
    /// std::system_error when the file cannot be opened: a startup error.
    explicit jsonl_file_writer(jsonl_file_writer_options options);
    /// Writes what is queued within shutdown_timeout, then stops and closes.
    ~jsonl_file_writer() override;
    jsonl_file_writer(const jsonl_file_writer&) = delete;
    jsonl_file_writer& operator=(const jsonl_file_writer&) = delete;

    /// Enqueues `span`; drops and counts it when the queue is full. Never blocks.
    void submit(span_data&& span) noexcept override;
    /// Waits until every span submitted before the call is written (or dropped), at most
    /// `timeout`. True when done in time. Not for the request path.
    bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /// Spans accepted into the queue.
    std::uint64_t queued() const noexcept { return queued_.load(std::memory_order_relaxed); }
    /// Spans written to the file.
    std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
    /// Spans dropped: queue full, write failure, or still queued at shutdown.
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

    /// One span as its JSON line (without the newline); what the writer thread writes.
    static std::string encode(const span_data& span, std::string_view service_name);

private:
    void run();
    std::size_t drain_batch(std::string& buffer);
    bool write_all(const std::string& buffer) noexcept;

    jsonl_file_writer_options options_;
    int fd_ = -1;
    bool owns_fd_ = false;
    bounded_queue<span_data> queue_;
    std::atomic<std::uint64_t> queued_{0};
    std::atomic<std::uint64_t> written_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> done_{0};       // written + dropped after dequeue
    std::atomic<std::uint64_t> pending_{0};    // queued since the writer last woke
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;                         // only for the waits below, never in submit()
    std::condition_variable wake_;             // writer thread: work, flush or stop
    std::condition_variable progress_;         // flush(): done_ moved
    std::atomic<bool> flush_requested_{false};
    std::thread thread_;
};

}  // namespace tracegate::tracing
