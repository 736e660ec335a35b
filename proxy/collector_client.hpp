// The HTTP client exporters send spans with (tracing::http_transport): keep-alive,
// timeouts, TLS for https endpoints (system CA store, or a ca_file).
#pragma once

#include "tracing/http_transport.hpp"

#include <memory>

namespace tracegate::proxy {

/// A blocking client for one exporter thread; it runs its own io_context inside send()
/// (cancel() may come from any thread). Throws std::runtime_error naming the file when
/// options.ca_file cannot be read or holds no PEM certificate.
std::unique_ptr<tracing::http_transport> make_collector_client(const tracing::transport_options& options);

}  // namespace tracegate::proxy
