// Turns a request's trace context into spans: one SERVER span per request (child of the
// incoming context or a new root) and one CLIENT span per upstream attempt.
#pragma once

#include "tracing/id_generator.hpp"
#include "tracing/sampler.hpp"
#include "tracing/span.hpp"
#include "tracing/span_context.hpp"
#include "tracing/span_sink.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tracegate::tracing {

namespace detail {
struct tracer_core;
}

/// What a tracer is built from.
struct tracer_options {
    /// `service.name` of the spans (the sink writes it; kept here for encoders).
    std::string service_name = "tracegate";
    /// Head sampling and keep rules.
    sampler_options sampling;
};

/// Starts spans. Thread-safe; share one per process (or per config snapshot).
class tracer {
public:
    /// A tracer reporting to `sink` (nullptr: spans never record, contexts still
    /// propagate), taking ids from `ids`, which must outlive the tracer.
    tracer(tracer_options options, std::shared_ptr<span_sink> sink,
           id_generator& ids = default_id_generator());
    /// Spans still open keep what they need alive.
    ~tracer();
    tracer(const tracer&) = delete;
    tracer& operator=(const tracer&) = delete;

    /// A new SERVER span named `name`. With a valid `parent`: same trace id, parent span id
    /// = parent's span id, tracestate and the random flag carried. Otherwise a new root with
    /// a fresh trace id (random flag set when the generator's ids are random); a
    /// sampling-only `parent` (b3 `0`) still gives its decision. Each of `links` is added as
    /// a span link. Null (not recording) when head sampling says no and no keep rule is on;
    /// context() is valid either way.
    span start_server_span(const std::optional<span_context>& parent, std::string_view name,
                           std::span<const span_context> links = {});
    /// A CLIENT span for one upstream attempt: child of `server`, sharing its trace,
    /// sampling decision and tracestate, with a fresh span id. Null when `server` is not
    /// recording (context() is still valid).
    span start_client_span(const span& server, std::string_view name);

    /// The service name spans are reported under.
    const std::string& service_name() const noexcept { return service_name_; }
    /// The sampler (for its counters and options).
    const tracing::sampler& sampler() const noexcept;

    /// The process-wide random_id_generator.
    static id_generator& default_id_generator() noexcept;

private:
    std::string service_name_;
    std::shared_ptr<detail::tracer_core> core_;
    id_generator& ids_;
};

}  // namespace tracegate::tracing
