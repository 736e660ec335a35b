// A trace collector for tests: a real HTTP/1.1 (or https) server on 127.0.0.1 that
// records every request it receives (gunzipping bodies sent with Content-Encoding: gzip)
// and answers as scripted: queued replies first, in order, then a default reply. It can
// also accept and never answer, and be stopped and started again on the same port.
#pragma once

#include "tests/support/header_list.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::test {

/// One request as the sink received it.
struct sink_request {
    std::string method;
    std::string target;
    header_list headers;         ///< Every field, in order, names as received.
    std::string body;            ///< As received.
    std::string decoded_body;    ///< Gunzipped when Content-Encoding: gzip, else the body.
    bool decode_failed = false;  ///< Content-Encoding: gzip but the body is not gzip.
    std::uint64_t connection_id = 0;  ///< 1 for the first accepted connection, then 2, ...
    std::chrono::steady_clock::time_point received;  ///< When the whole body was in.

    /// First value of header `name` (case-insensitive).
    std::optional<std::string> header(std::string_view name) const;
};

/// One answer of the sink.
struct sink_reply {
    unsigned status = 200;
    header_list headers{};                      ///< Extra fields ("Retry-After", "5").
    std::string content_type = "application/json";
    std::string body = "{}";
    std::chrono::milliseconds delay{0};         ///< Waits this long before answering.
    bool close = false;  ///< Answers with Connection: close, then closes.
    bool drop = false;   ///< Closes the connection without any answer (after `delay`).
};

/// TLS for the sink: PEM files, e.g. from make_test_certificate().
struct sink_tls {
    std::string cert_file;
    std::string key_file;
};

/// How a collector_sink listens and answers.
struct collector_sink_options {
    std::uint16_t port = 0;        ///< 0 = an ephemeral port.
    std::optional<sink_tls> tls{}; ///< Serve https instead of http.
    sink_reply default_reply{};    ///< When no scripted reply is queued.
};

/// The sink; its own io_context and thread while running. Stops on destruction.
class collector_sink {
public:
    using clock = std::chrono::steady_clock;

    /// Listens on 127.0.0.1:0, plain HTTP, answering 200 "{}". Throws if it cannot bind.
    collector_sink();
    /// Listens as `options` say. Throws if it cannot bind or load the TLS files.
    explicit collector_sink(collector_sink_options options);
    ~collector_sink();
    collector_sink(const collector_sink&) = delete;
    collector_sink& operator=(const collector_sink&) = delete;

    /// The bound port (the same after stop() and start()).
    std::uint16_t port() const;
    /// "http://127.0.0.1:PORT" or "https://..." followed by `path`.
    std::string url(std::string_view path = "/v1/traces") const;

    /// Queues `reply` for the next request not yet answered (FIFO).
    void push_reply(sink_reply reply);
    /// Replaces the reply given when the queue is empty.
    void set_default_reply(sink_reply reply);
    /// When true, requests are recorded but never answered; their connections stay open
    /// until the client closes them or stop(). For timeout tests.
    void set_never_answer(bool never);

    /// A copy of every recorded request, in arrival order.
    std::vector<sink_request> requests() const;
    /// Number of recorded requests.
    std::size_t request_count() const;
    /// Waits until at least `n` requests were recorded; false when `timeout` passes first.
    bool wait_for_requests(std::size_t n, clock::duration timeout) const;
    /// Forgets the recorded requests.
    void clear_requests();
    /// TCP connections accepted since construction (across stop() and start()).
    std::uint64_t connections_accepted() const;

    /// Closes the listener and every connection; connects are refused until start().
    /// Idempotent.
    void stop();
    /// Listens again on the same port after stop(); no-op when running. Throws if it
    /// cannot bind.
    void start();
    /// Between start (or construction) and stop().
    bool running() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace tracegate::test
