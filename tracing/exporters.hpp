// The exporters tracegate ships: OTLP/HTTP, Zipkin v2, Cloud Trace v2, JSON-lines file,
// and the in-memory trace store; and how the config's `tracing.exporters` becomes them.
#pragma once

#include "config/config.hpp"
#include "tracing/exporter.hpp"
#include "tracing/http_transport.hpp"
#include "tracing/resource.hpp"
#include "tracing/trace_store.hpp"

#include <memory>
#include <string>
#include <vector>

namespace tracegate::tracing {

/// What exporters are built with besides their config.
struct exporter_environment {
    /// The process resource spans are reported under.
    tracing::resource resource;
    /// Makes the HTTP client of each network exporter (proxy/ supplies it).
    transport_factory transports;
    /// The in-memory store, fed by `memory` exporters and by default.
    std::shared_ptr<trace_store> store;
};

/// One exporter per entry of `tracing.exporters`, or a memory exporter when it is empty.
/// Throws std::runtime_error naming the exporter's origin when one cannot start (a span
/// file that cannot be opened, an unreadable CA file): a startup error.
std::vector<std::unique_ptr<exporter>> make_exporters(const config::tracing_config& tracing,
                                                      const exporter_environment& environment);

/// Writes each batch as JSON lines to `path` ("-" = standard output), one write(2) per batch.
/// Throws std::system_error when the file cannot be opened.
std::unique_ptr<exporter> make_file_exporter(const std::string& path, tracing::resource resource);

/// Adds each batch to `store` under `service_name` (the process resource's service.name).
std::unique_ptr<exporter> make_store_exporter(std::shared_ptr<trace_store> store, std::string service_name);

/// POSTs each batch to a collector, built from one `otlp`, `zipkin` or `cloudtrace` entry.
std::unique_ptr<exporter> make_http_exporter(const config::exporter_config& config, tracing::resource resource,
                                             std::unique_ptr<http_transport> transport);

/// The delay a Retry-After value asks for: delta-seconds or an HTTP-date (relative to
/// `now_unix_seconds`). nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, std::int64_t now_unix_seconds);

}  // namespace tracegate::tracing
