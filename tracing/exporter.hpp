// A backend that receives batches of finished spans, called from the export pipeline's
// threads (never the request path).
#pragma once

#include "tracing/span_data.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace tracegate::tracing {

/// What became of one export attempt.
enum class export_status : std::uint8_t {
    ok,     ///< Delivered (maybe partially: see rejected_spans).
    retry,  ///< Not delivered, worth retrying: no answer, 429, 502, 503, 504.
    fail,   ///< Not delivered and retrying will not help (other 4xx, bad token...).
};

/// The outcome of export_batch().
struct export_result {
    export_status status = export_status::ok;
    /// Operator-readable: "HTTP 503 Service Unavailable", "connection refused (127.0.0.1:4318)".
    std::string message;
    /// A stable key for the kind of failure ("HTTP 400", "transport"), so that a failure
    /// repeated on every batch is logged once per kind, not once per batch.
    std::string kind;
    /// The collector's Retry-After, when it gave one.
    std::optional<std::chrono::milliseconds> retry_after;
    /// Partial success: spans the collector says it rejected, and its reason.
    std::uint64_t rejected_spans = 0;
    std::string partial_message;

    /// A failed attempt.
    static export_result failure(export_status status, std::string message, std::string kind) {
        export_result r;
        r.status = status;
        r.message = std::move(message);
        r.kind = std::move(kind);
        return r;
    }
};

/// One backend. Each exporter is driven by one thread at a time.
class exporter {
public:
    virtual ~exporter() = default;
    /// For logs and metrics: "otlp http://127.0.0.1:4318/v1/traces".
    virtual const std::string& name() const noexcept = 0;
    /// Delivers `spans`; returns within `time_left` (plus the time to close a socket).
    virtual export_result export_batch(std::span<const span_data> spans, std::chrono::milliseconds time_left) = 0;
    /// Called from another thread at shutdown: makes an export_batch() in progress return
    /// promptly (as a failure). Exporters that never block need not override it.
    virtual void abort() noexcept {}
};

/// How the pipeline reports what an operator should see.
enum class export_log_level : std::uint8_t { info, warn, error };

/// Receives the pipeline's log lines; proxy/ routes them to its log.
using export_logger = std::function<void(export_log_level, std::string_view)>;

}  // namespace tracegate::tracing
