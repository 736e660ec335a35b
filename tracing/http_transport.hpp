// How exporters send bytes to a collector: an HTTP client supplied by proxy/, so that
// tracing/ never sees a socket. Called only from exporter threads, never the request path.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::tracing {

/// One header, as sent or received.
struct http_header {
    std::string name;
    std::string value;
};

/// A request to a collector.
struct outgoing_request {
    std::string method = "POST";
    /// Absolute http:// or https:// URL.
    std::string url;
    /// Extra headers (Content-Type, Content-Encoding, Authorization...). Host, Content-Length
    /// and User-Agent are set by the transport.
    std::vector<http_header> headers;
    std::string body;
    /// Whole exchange (connect, TLS handshake, write, read) must finish within this.
    std::chrono::milliseconds timeout{10000};
};

/// What came back. status == 0: no HTTP answer at all, `error` says why.
struct incoming_response {
    int status = 0;
    std::vector<http_header> headers;  ///< Names lowercase.
    std::string body;
    std::string error;  ///< Transport failure: "connection refused", "timed out after 10s"...

    /// The first header named `name` (lowercase), if any.
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        for (const auto& h : headers)
            if (h.name == name) return h.value;
        return std::nullopt;
    }
};

/// A blocking HTTP client owned by one exporter thread. Keeps the connection alive
/// between requests to the same origin and reconnects when the peer closed it.
class http_transport {
public:
    virtual ~http_transport() = default;
    /// Sends `request` and waits for the whole response, at most request.timeout.
    /// Never throws; failures are a response with status 0.
    virtual incoming_response send(const outgoing_request& request) noexcept = 0;
    /// Thread-safe: makes a send() in progress on another thread return promptly with
    /// status 0 ("cancelled"). A send() started afterwards works normally.
    virtual void cancel() noexcept = 0;
};

/// How transports are made.
struct transport_options {
    /// PEM CA bundle to verify https endpoints with; nullopt = the system store.
    std::optional<std::string> ca_file;
};

/// Makes a transport; proxy/ provides the real one, tests may provide their own.
using transport_factory = std::function<std::unique_ptr<http_transport>(const transport_options&)>;

}  // namespace tracegate::tracing
