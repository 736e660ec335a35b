// The proxy's Prometheus metrics: a registry written by the workers without locks or
// allocation in the steady state, rendered in the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Sharding: one shard per worker, written only by that worker's thread. Every number in
// a shard is a single-writer atomic: the worker adds with a plain load + store (no locked
// read-modify-write, so the request path costs a hash lookup and a few ordinary stores),
// and the scraper reads them at any time. The only mutex is the shard's own: the worker
// takes it solely to insert a key it has never seen (the first request on a route, the
// first error of a kind), and the scraper takes it while it walks the shard's maps, so
// an insertion never rehashes under a walk. The worker's lookups need no lock because it
// is the only thread that ever changes its maps. Plain C++20, no Beast.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::proxy {

/// Export pipeline numbers at scrape time; the caller fills it from
/// tracing::export_pipeline::stats() and the queue depth.
struct export_metrics_snapshot {
    std::uint64_t queued = 0;              ///< Spans accepted from the request path.
    std::uint64_t dropped_queue_full = 0;  ///< Spans refused because the queue was full.
    std::uint64_t queue_depth = 0;         ///< Spans in the queue now.
    std::uint64_t internal_errors = 0;     ///< Exceptions an exporter threw, contained.
    struct exporter {
        std::string name;
        std::uint64_t exported = 0;          ///< Spans delivered.
        std::uint64_t rejected = 0;          ///< Spans the backend reported rejected.
        std::uint64_t dropped_failed = 0;    ///< Spans given up on after failed exports.
        std::uint64_t dropped_backlog = 0;   ///< Spans dropped because the exporter lagged.
        std::uint64_t dropped_shutdown = 0;  ///< Spans undelivered at shutdown.
        std::uint64_t failed_requests = 0;   ///< Export attempts that did not deliver.
        std::uint64_t retries = 0;           ///< Attempts that were retries.
    };
    std::vector<exporter> exporters;
};

/// Trace store numbers at scrape time (from tracing::trace_store::stats()).
struct store_metrics_snapshot {
    std::uint64_t traces = 0, spans = 0, bytes = 0, evicted_traces = 0, rejected_spans = 0;
};

/// The registry. Recording calls are noexcept except for the first use of a new route or
/// error kind, which allocates its series once.
///
/// Label choices: `method` is one of GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE
/// (case-sensitive, RFC 9110 9.1) or "other"; `status_class` is "1xx".."5xx", or "other"
/// for a status outside 100-599; a request that matched no route has route="" (Prometheus
/// reads an empty value as "label absent", and config rejects empty route names, so it
/// cannot collide). Series of routes removed by a reload stay until the process exits, as
/// counters must not go backwards.
class metrics {
public:
    /// One shard per worker (at least one); every worker-side call takes an index below it.
    explicit metrics(unsigned workers);
    ~metrics();
    metrics(const metrics&) = delete;
    metrics& operator=(const metrics&) = delete;

    // Worker side: call only from worker `worker`'s own thread (one writer per shard).

    /// One finished request: counts it by route / method / status class, observes its
    /// duration in the route's histogram, and adds its body bytes.
    void request_finished(unsigned worker, std::string_view route, std::string_view method, unsigned status,
                          std::chrono::nanoseconds duration, std::uint64_t bytes_in, std::uint64_t bytes_out);
    /// One upstream failure of `kind` (connect_failed, timeout, reset, protocol,
    /// no_healthy_endpoint, ...); callers pass a small fixed set of kinds.
    void upstream_error(unsigned worker, std::string_view kind);
    /// A TLS handshake on a listener failed: protocol_version, bad_certificate, timeout, ...
    void tls_handshake_failed(unsigned worker, std::string_view kind);
    /// A downstream connection accepted by `worker`.
    void connection_opened(unsigned worker) noexcept;
    /// A connection of `worker` closed (each opened one is closed by the same worker).
    void connection_closed(unsigned worker) noexcept;
    /// A server span started; `sampled` when it will be recorded and exported.
    void span_started(unsigned worker, bool sampled) noexcept;

    // Any thread.

    /// A config reload attempt and whether it was applied.
    void config_reload(bool ok) noexcept;

    /// Where an unexpected exception was caught and contained (the process served on).
    enum class internal_error_site { session, worker, admin, exporter, reload, count_ };
    static std::string_view name_of(internal_error_site site) noexcept;
    /// One exception contained at `site`: counted in tracegate_internal_errors_total{where}.
    void internal_error(internal_error_site site) noexcept;

    /// The whole exposition, text format 0.0.4 (Content-Type
    /// `text/plain; version=0.0.4; charset=utf-8`). Never on the request path: it takes
    /// each shard's mutex briefly and allocates.
    std::string render(const export_metrics_snapshot& exports, const store_metrics_snapshot& store) const;

    /// The value of tracegate_build_info's `version` label.
    static std::string_view version() noexcept;

private:
    struct shard;
    std::vector<std::unique_ptr<shard>> shards_;
    std::atomic<std::uint64_t> reloads_ok_{0};
    std::atomic<std::uint64_t> reloads_failed_{0};
    std::atomic<std::uint64_t> internal_errors_[static_cast<int>(internal_error_site::count_)] = {};
    double start_time_seconds_ = 0;  // read once at construction
};

}  // namespace tracegate::proxy
