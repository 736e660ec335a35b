// What is known of a request when its last byte has gone out, and who is told: the
// metrics and the access log. No Beast here.
#pragma once

#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

namespace tracegate::proxy {

/// One finished request. Views stay valid only during request_observer::request_done().
struct request_record {
    std::chrono::system_clock::time_point start;  ///< Wall clock when the header was read.
    std::chrono::nanoseconds duration{0};          ///< Header read to last response byte (monotonic).
    std::string_view client_address;
    std::string_view method;
    std::string_view target;     ///< As forwarded (origin-form, query included).
    unsigned version = 11;       ///< 10 or 11.
    unsigned status = 0;         ///< Sent to the client; 0 when nothing was sent.
    std::uint64_t bytes_in = 0;  ///< Request body bytes.
    std::uint64_t bytes_out = 0; ///< Response body bytes.
    std::string_view route;      ///< Route name; empty when none matched.
    const config::address* upstream = nullptr;  ///< Last endpoint tried; null when none.
    std::string_view error;      ///< tracegate's failure reason (x-tracegate-error); empty when none.
    std::string_view trace_id;   ///< 32 hex digits; empty when tracing made no span.
    std::string_view span_id;    ///< The SERVER span, 16 hex digits.
    std::string_view request_id;
};

/// Told of every request a worker finished, on that worker's thread.
class request_observer {
public:
    virtual ~request_observer() = default;
    virtual void span_started(unsigned worker, bool sampled) = 0;
    virtual void request_done(unsigned worker, const request_record& record) = 0;
    /// An upstream failure the client saw: connect_refused, timeout, upstream_reset, ...
    virtual void upstream_error(unsigned worker, std::string_view kind) = 0;
};

}  // namespace tracegate::proxy
