// Internal to tracing/: what a recording span holds, shared by span.cpp and tracer.cpp.
#pragma once

#include "tracing/sampler.hpp"
#include "tracing/span_data.hpp"
#include "tracing/span_sink.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tracegate::tracing::detail {

/// What every span of one tracer shares; kept alive by its spans, so a span may outlive
/// the tracer.
struct tracer_core {
    /// Builds the sampler from `options`.
    tracer_core(const sampler_options& options, std::shared_ptr<span_sink> s)
        : sampler(options), sink(std::move(s)) {}

    tracing::sampler sampler;         ///< Keep rules (and head decisions).
    std::shared_ptr<span_sink> sink;  ///< Where exported spans go.
};

/// The proxy's spans of one request (server span + client spans) when head sampling said
/// no but a keep rule may still export them. They are exported or dropped together, so a
/// kept trace is never a client span without its server span: a span that is not kept
/// waits here until the server span ends; when any member is kept, all are.
struct keep_group {
    /// Reports `data` (kept per its own rule when `own_keep`); `closes` for the server span.
    void finish(span_data&& data, bool own_keep, bool closes, span_sink& sink);

    std::mutex mutex;  ///< Uncontended: members usually end on one worker thread.
    bool keep = false;
    bool closed = false;
    std::vector<span_data> parked;
};

/// The state of a recording span.
struct span_state {
    span_data data;                                ///< Filled as the span goes.
    std::chrono::steady_clock::time_point start;   ///< Monotonic start, for the duration.
    std::shared_ptr<tracer_core> core;             ///< Sink and keep rules.
    std::shared_ptr<keep_group> group;             ///< Set when not sampled (keep candidate).
};

/// Wall clock now, in unix nanoseconds.
std::uint64_t unix_nanos_now() noexcept;

}  // namespace tracegate::tracing::detail
