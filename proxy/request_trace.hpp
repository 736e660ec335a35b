// The tracing of one proxied request: the SERVER span, a CLIENT span per upstream
// attempt, the trace headers written upstream, the request id and `traceresponse`.
// The one place proxy/ talks to tracing/.
#pragma once

#include "config/config.hpp"
#include "proxy/request_log.hpp"
#include "routing/route_table.hpp"
#include "tracing/composite_propagator.hpp"
#include "tracing/span.hpp"
#include "tracing/tracer.hpp"

#include <boost/beast/http/fields.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tracegate::proxy {

/// What tracing needs from a config snapshot, built once per snapshot.
struct tracing_runtime {
    tracing_runtime(const config::settings& settings, std::shared_ptr<tracing::span_sink> sink);
    const config::tracing_config& config;
    std::optional<tracing::composite_propagator> extract;  ///< nullopt: extract nothing
    tracing::format_set inject;
    mutable tracing::tracer tracer;  ///< thread-safe; starting spans is not const
    /// "http.request.header.<request_id_header>", the request id's attribute.
    std::string request_id_attribute;
};

/// Where the request came from and went to, for span attributes.
struct request_facts {
    std::string_view client_address;
    std::uint16_t client_port = 0;
    std::uint16_t local_port = 0;
    std::string_view scheme;
    bool trusted = true;  ///< the listener's trust_incoming_trace
    std::optional<bool> response_header;  ///< the listener's override of tracing.response_header
    std::string_view client_subject;  ///< mTLS: the verified client certificate's subject
    request_observer* observer = nullptr;  ///< told when the request finishes (metrics, access log)
    unsigned worker = 0;                   ///< the worker serving it, for the observer
};

class request_trace {
public:
    /// Extracts the incoming context from `request` and starts the SERVER span. `route` is
    /// null when no route matched. Sets the request id header on `request`.
    request_trace(const tracing_runtime& tracing, boost::beast::http::fields& request,
                  std::string_view method, std::string_view target, unsigned version,
                  const routing::route* route, std::string_view upstream_name,
                  const request_facts& facts);

    /// Before each upstream attempt: a new CLIENT span (when enabled) and every trace
    /// header of `request` replaced by ones naming it.
    void begin_attempt(boost::beast::http::fields& request, const config::address& endpoint);
    /// The span of the current attempt: its CLIENT span, or the SERVER span when
    /// upstream_span is off (so attempt events and errors are never lost).
    tracing::span& attempt() { return tracing_.config.upstream_span ? client_ : server_; }
    /// The current attempt failed with `reason`; another may follow, so the SERVER span
    /// only notes it as an event.
    void attempt_failed(std::string_view reason);
    /// The exchange broke off after the response header went out (the client got a cut
    /// response): an error on both spans.
    void abandoned(std::string_view reason, bool upstream);
    /// The upstream answered with `status` (first byte of the response).
    void on_response(unsigned status);
    /// A proxy-made failure named `reason` (x-tracegate-error) with HTTP `status`.
    /// `upstream`: the upstream failed, not the request (an upstream error in the metrics).
    void on_failure(std::string_view reason, unsigned status, bool upstream);
    /// traceresponse and the request id, on any response to the client.
    void decorate(boost::beast::http::fields& response) const;
    /// The last response byte was written (or the exchange was abandoned).
    void finish(std::uint64_t request_body_bytes, std::uint64_t response_body_bytes);

private:
    void report(std::uint64_t request_body_bytes, std::uint64_t response_body_bytes);

    const tracing_runtime& tracing_;
    request_observer* observer_;
    unsigned worker_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::system_clock::time_point started_wall_ = std::chrono::system_clock::now();
    std::string_view client_address_;
    std::string_view target_;
    unsigned version_;
    const routing::route* route_;
    const config::address* endpoint_ = nullptr;
    unsigned status_ = 0;
    std::string_view error_;
    bool upstream_failed_ = false;  ///< error_ is the upstream's doing
    tracing::span server_;
    tracing::span client_;
    tracing::format_set inject_;
    std::string request_id_;
    std::string_view method_;
    bool response_header_ = false;
    bool finished_ = false;
};

}  // namespace tracegate::proxy
