#include "tracing/export_pipeline.hpp"

#include <algorithm>
#include <deque>
#include <random>
#include <set>
#include <utility>

namespace tracegate::tracing {

namespace {

/// A collector's partial-success message is logged at most this long...
constexpr std::size_t max_logged_message = 512;
/// ...and this many distinct ones per exporter (the rest are counted, not logged).
constexpr std::size_t max_logged_messages = 64;

/// `text` as one printable line of at most `max` bytes: control bytes become '?'.
std::string printable_line(std::string_view text, std::size_t max) {
    std::string out(text.substr(0, max));
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    if (text.size() > max) out += "...";
    return out;
}

}  // namespace

namespace {

using clock = std::chrono::steady_clock;
using batch_ptr = std::shared_ptr<const std::vector<span_data>>;

/// "1.5s" / "250ms" for log lines.
std::string describe(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
    if (d.count() > 1000) return std::to_string(d.count() / 1000) + "." + std::to_string(d.count() % 1000 / 100) + "s";
    return std::to_string(d.count()) + "ms";
}

/// Exponential backoff with jitter: a random delay in [d/2, d], d = initial * 2^attempt.
std::chrono::milliseconds backoff(const export_pipeline_options& o, unsigned attempt) {
    thread_local std::minstd_rand random(std::random_device{}());
    const long long cap = o.max_backoff.count();
    long long d = o.initial_backoff.count();
    for (unsigned i = 0; i < attempt && d < cap; ++i) d *= 2;
    d = std::max<long long>(1, std::min(d, cap));
    std::uniform_int_distribution<long long> pick(d / 2, d);
    return std::chrono::milliseconds(pick(random));
}

}  // namespace

/// One exporter, its thread and its backlog of batches.
struct export_pipeline::lane {
    lane(export_pipeline& owner, std::unique_ptr<exporter> e, std::size_t max_batches)
        : owner(owner), exp(std::move(e)), max_batches(max_batches) {
        thread = std::thread([this] { run(); });
    }

    /// Takes a batch from the batcher; drops it (counted) when the backlog is full.
    void offer(const batch_ptr& batch) {
        bool dropped = false;
        {
            const std::lock_guard lock(mutex);
            if (backlog.size() >= max_batches) {
                dropped = true;
            } else {
                backlog.push_back(batch);
            }
        }
        if (!dropped) {
            wake.notify_one();
            return;
        }
        dropped_backlog.fetch_add(batch->size(), std::memory_order_relaxed);
        if (!behind.exchange(true)) {
            log(export_log_level::warn, "exporter " + exp->name() + " is falling behind (" +
                                            std::to_string(max_batches) + " batches waiting); dropping new spans");
        }
        settle(batch->size());
    }

    /// From now on deliver what is left until `deadline`, then stop.
    void stop(clock::time_point deadline) {
        {
            const std::lock_guard lock(mutex);
            stopping = true;
            stop_deadline = deadline;
        }
        wake.notify_one();
    }

    void run() {
        for (;;) {
            batch_ptr batch;
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || !backlog.empty(); });
                if (backlog.empty()) {
                    finished = true;
                    lock.unlock();
                    wake.notify_all();
                    return;
                }
                batch = std::move(backlog.front());
                backlog.pop_front();
                if (backlog.empty()) behind = false;  // caught up: warn again next time
            }
            deliver(*batch);
            settle(batch->size());
        }
    }

    void deliver(const std::vector<span_data>& spans) {
        const std::uint64_t n = spans.size();
        const auto first_attempt = clock::now();
        for (unsigned attempt = 0;; ++attempt) {
            std::chrono::milliseconds time_left = std::chrono::hours(1);
            {
                const std::lock_guard lock(mutex);
                if (stopping) {
                    const auto now = clock::now();
                    if (now >= stop_deadline) {
                        dropped_shutdown.fetch_add(n, std::memory_order_relaxed);
                        return;
                    }
                    time_left = std::chrono::ceil<std::chrono::milliseconds>(stop_deadline - now);
                }
            }
            if (attempt > 0) retries.fetch_add(1, std::memory_order_relaxed);
            export_result r;
            try {
                r = exp->export_batch(spans, time_left);
            } catch (const std::exception& e) {
                // A bug in an exporter or an answer it could not take: this batch fails
                // like a failed request (retried), the lane serves on, and it is counted.
                internal_errors.fetch_add(1, std::memory_order_relaxed);
                r.status = export_status::fail;
                r.message = e.what();
                r.kind = "exception";
            } catch (...) {
                internal_errors.fetch_add(1, std::memory_order_relaxed);
                r.status = export_status::fail;
                r.message = "unknown exception";
                r.kind = "exception";
            }
            if (r.status == export_status::ok) {
                const std::uint64_t rejected = std::min<std::uint64_t>(r.rejected_spans, n);
                exported_spans.fetch_add(n - rejected, std::memory_order_relaxed);
                rejected_spans.fetch_add(rejected, std::memory_order_relaxed);
                if (failing) {
                    failing = false;
                    log(export_log_level::info, "exporter " + exp->name() + " recovered; export resumed");
                }
                if (rejected > 0 || !r.partial_message.empty()) {
                    // The collector's words: cut to one printable line, and remembered for
                    // a bounded number of distinct messages only.
                    const std::string message = printable_line(r.partial_message, max_logged_message);
                    if (logged_partial.size() < max_logged_messages && logged_partial.insert(message).second) {
                        log(export_log_level::warn, "exporter " + exp->name() + ": collector rejected " +
                                                        std::to_string(rejected) + " of " + std::to_string(n) +
                                                        " spans: " + message + " (logged once per message)");
                    }
                }
                return;
            }
            failed_requests.fetch_add(1, std::memory_order_relaxed);
            if (r.status == export_status::fail) {
                dropped_failed.fetch_add(n, std::memory_order_relaxed);
                if (logged_failures.insert(r.kind).second) {
                    log(export_log_level::error, "exporter " + exp->name() + ": " + r.message + "; " +
                                                     std::to_string(n) +
                                                     " spans dropped, not retried (logged once per kind)");
                }
                return;
            }
            const auto now = clock::now();
            if (now - first_attempt >= owner.options_.max_retry_time) {
                dropped_failed.fetch_add(n, std::memory_order_relaxed);
                log(export_log_level::error, "exporter " + exp->name() + ": giving up on " + std::to_string(n) +
                                                 " spans after " + describe(owner.options_.max_retry_time) +
                                                 " of retries: " + r.message);
                return;
            }
            const auto delay = r.retry_after ? std::min(*r.retry_after, owner.options_.max_retry_time)
                                             : backoff(owner.options_, attempt);
            if (!failing) {
                failing = true;
                log(export_log_level::warn, "exporter " + exp->name() + ": " + r.message + "; retrying in " +
                                                describe(delay) + (r.retry_after ? " (Retry-After)" : "") +
                                                ", then with backoff");
            }
            const auto retry_at = clock::now() + delay;
            std::unique_lock lock(mutex);
            for (;;) {
                if (stopping && retry_at > stop_deadline) {
                    // The next attempt would come after the shutdown bound: give up now
                    // instead of holding the exit for nothing.
                    dropped_shutdown.fetch_add(n, std::memory_order_relaxed);
                    return;
                }
                if (clock::now() >= retry_at) break;
                const bool was_stopping = stopping;
                wake.wait_until(lock, retry_at, [&] { return stopping != was_stopping; });
            }
        }
    }

    void settle(std::uint64_t n) {
        settled.fetch_add(n);
        {
            const std::lock_guard lock(owner.mutex_);  // a flush() about to wait sees it
        }
        owner.progress_.notify_all();
    }

    void log(export_log_level level, const std::string& line) const {
        if (owner.options_.log) owner.options_.log(level, line);
    }

    exporter_stats snapshot() const {
        exporter_stats s;
        s.name = exp->name();
        s.exported_spans = exported_spans.load(std::memory_order_relaxed);
        s.rejected_spans = rejected_spans.load(std::memory_order_relaxed);
        s.failed_requests = failed_requests.load(std::memory_order_relaxed);
        s.retries = retries.load(std::memory_order_relaxed);
        s.dropped_failed = dropped_failed.load(std::memory_order_relaxed);
        s.dropped_backlog = dropped_backlog.load(std::memory_order_relaxed);
        s.dropped_shutdown = dropped_shutdown.load(std::memory_order_relaxed);
        s.internal_errors = internal_errors.load(std::memory_order_relaxed);
        return s;
    }

    export_pipeline& owner;
    std::unique_ptr<exporter> exp;
    const std::size_t max_batches;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<batch_ptr> backlog;
    bool stopping = false;
    bool finished = false;                 // run() returned
    clock::time_point stop_deadline{};
    std::atomic<bool> behind{false};       // set by the batcher, cleared by the lane
    bool failing = false;                  // lane thread only
    std::set<std::string> logged_failures; // lane thread only
    std::set<std::string> logged_partial;  // lane thread only
    std::atomic<std::uint64_t> settled{0}; // spans delivered or dropped
    std::atomic<std::uint64_t> exported_spans{0}, rejected_spans{0}, failed_requests{0}, retries{0},
        dropped_failed{0}, dropped_backlog{0}, dropped_shutdown{0}, internal_errors{0};
    std::thread thread;
};

export_pipeline::export_pipeline(export_pipeline_options options, std::vector<std::unique_ptr<exporter>> exporters)
    : options_(std::move(options)), queue_(std::max<std::size_t>(options_.max_queue_spans, 1)) {
    options_.max_batch_spans = std::clamp<std::size_t>(options_.max_batch_spans, 1, queue_.capacity());
    // Each exporter may fall this many batches behind before it drops: together the
    // backlogs hold about as many spans as the queue, so memory stays bounded.
    const std::size_t max_batches = std::max<std::size_t>(2, options_.max_queue_spans / options_.max_batch_spans);
    for (auto& e : exporters) lanes_.push_back(std::make_unique<lane>(*this, std::move(e), max_batches));
    batcher_ = std::thread([this] { run_batcher(); });
}

export_pipeline::~export_pipeline() {
    shutdown();
}

void export_pipeline::submit(span_data&& span) noexcept {
    if (stopping_.load(std::memory_order_relaxed) || !queue_.try_push(span)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    queued_.fetch_add(1, std::memory_order_relaxed);
    // Wake the batcher once per full batch. A notify that races with the batcher going
    // to sleep is lost; it then wakes at flush_interval, so nothing here ever waits.
    if (pending_.fetch_add(1, std::memory_order_relaxed) + 1 == options_.max_batch_spans) wake_.notify_one();
}

bool export_pipeline::flush(std::chrono::milliseconds timeout) {
    const std::uint64_t target = queued_.load();
    std::unique_lock lock(mutex_);
    flush_requested_ = true;
    wake_.notify_one();
    return progress_.wait_for(lock, timeout, [&] {
        return std::all_of(lanes_.begin(), lanes_.end(), [&](const auto& l) { return l->settled.load() >= target; }) &&
               (!lanes_.empty() || batched_.load() >= target);
    });
}

void export_pipeline::shutdown() {
    if (stopped_.exchange(true)) return;
    {
        const std::lock_guard lock(mutex_);
        stopping_.store(true);
        shutdown_deadline_ = clock::now() + options_.shutdown_timeout;
    }
    wake_.notify_one();
    batcher_.join();
    // An export in flight when the deadline passes is cut off, so that a collector that
    // accepts and never answers cannot hold the exit for its whole timeout.
    for (auto& l : lanes_) {
        std::unique_lock lock(l->mutex);
        if (!l->wake.wait_until(lock, shutdown_deadline_, [&] { return l->finished; })) {
            lock.unlock();
            l->exp->abort();
        }
        l->thread.join();
    }
    // Spans that slipped in while the batcher was finishing.
    std::uint64_t late = 0;
    while (queue_.try_pop()) ++late;
    if (late > 0) {
        for (auto& l : lanes_) {
            l->dropped_shutdown.fetch_add(late, std::memory_order_relaxed);
            l->settled.fetch_add(late);
        }
    }
}

std::size_t export_pipeline::form_batches(bool everything) {
    std::size_t total = 0;
    for (;;) {
        auto batch = std::make_shared<std::vector<span_data>>();
        while (batch->size() < options_.max_batch_spans) {
            auto span = queue_.try_pop();
            if (!span) break;
            if (batch->empty()) batch->reserve(options_.max_batch_spans);
            batch->push_back(std::move(*span));
        }
        if (batch->empty()) break;
        total += batch->size();
        batched_.fetch_add(batch->size());
        const batch_ptr shared = std::move(batch);
        for (auto& l : lanes_) l->offer(shared);
        if (!everything && total >= queue_.capacity()) break;
    }
    if (lanes_.empty() && total > 0) {
        const std::lock_guard lock(mutex_);
        progress_.notify_all();
    }
    return total;
}

void export_pipeline::run_batcher() {
    for (;;) {
        clock::time_point deadline;
        bool stopping = false;
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, options_.flush_interval, [&] {
                return stopping_.load() || flush_requested_ ||
                       pending_.load(std::memory_order_relaxed) >= options_.max_batch_spans;
            });
            flush_requested_ = false;
            stopping = stopping_.load();
            deadline = shutdown_deadline_;
        }
        pending_.store(0, std::memory_order_relaxed);
        form_batches(stopping);
        if (stopping) {
            for (auto& l : lanes_) l->stop(deadline);
            return;
        }
    }
}

export_pipeline_stats export_pipeline::stats() const {
    export_pipeline_stats s;
    s.queued = queued_.load(std::memory_order_relaxed);
    s.dropped_queue_full = dropped_.load(std::memory_order_relaxed);
    const std::uint64_t batched = batched_.load(std::memory_order_relaxed);
    s.queue_depth = s.queued > batched ? s.queued - batched : 0;
    s.exporters.reserve(lanes_.size());
    for (const auto& l : lanes_) s.exporters.push_back(l->snapshot());
    return s;
}

}  // namespace tracegate::tracing
