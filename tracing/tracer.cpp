#include "tracing/tracer.hpp"

#include "tracing/span_state.hpp"

#include <utility>

namespace tracegate::tracing {
namespace {

// A vendor must zero the flags it does not know when it sends them
// (https://www.w3.org/TR/trace-context-2/#other-flags); these are the ones we know.
constexpr std::uint8_t known_flags = sampled_flag | random_flag;

}  // namespace

tracer::tracer(tracer_options options, std::shared_ptr<span_sink> sink, id_generator& ids)
    : service_name_(std::move(options.service_name)),
      core_(std::make_shared<detail::tracer_core>(options.sampling, std::move(sink))),
      ids_(ids) {}

tracer::~tracer() = default;

const tracing::sampler& tracer::sampler() const noexcept {
    return core_->sampler;
}

id_generator& tracer::default_id_generator() noexcept {
    static random_id_generator generator;
    return generator;
}

span tracer::start_server_span(const std::optional<span_context>& parent, std::string_view name,
                               std::span<const span_context> links) {
    span_context context;
    const bool child = parent && parent->is_valid();
    if (child) {
        context.trace_id = parent->trace_id;
        context.parent_span_id = parent->span_id;
        context.trace_flags = parent->trace_flags & random_flag;
        context.tracestate = parent->tracestate;
        context.trace_id_64bit = parent->trace_id_64bit;
    } else {
        context.trace_id = ids_.new_trace_id();
        if (ids_.trace_ids_are_random()) context.trace_flags = random_flag;
    }
    context.span_id = ids_.new_span_id();

    const auto decision = core_->sampler.decide(parent, context.trace_id);
    if (decision.sampled) context.trace_flags |= sampled_flag;
    context.debug = decision.sampled && parent && parent->debug;
    if (!decision.record || !core_->sink) return span{std::move(context), nullptr};

    auto state = std::make_unique<detail::span_state>();
    auto& data = state->data;
    data.trace_id = context.trace_id;
    data.span_id = context.span_id;
    data.parent_span_id = context.parent_span_id;
    data.parent_is_remote = child && parent->is_remote;
    data.trace_flags = context.trace_flags & known_flags;
    data.tracestate = context.tracestate;
    data.name.assign(name);
    data.kind = span_kind::server;
    // Room for what the proxy records on a request's span: one allocation, not five.
    data.attributes.reserve(20);
    for (const auto& link : links) {
        if (data.links.size() >= span_max_links) {
            ++data.dropped_links_count;
            continue;
        }
        data.links.push_back({link, {}});
    }
    data.start_time_unix_nano = detail::unix_nanos_now();
    state->start = std::chrono::steady_clock::now();
    state->core = core_;
    if (!decision.sampled) state->group = std::make_shared<detail::keep_group>();
    return span{std::move(context), std::move(state)};
}

span tracer::start_client_span(const span& server, std::string_view name) {
    span_context context = server.context();
    context.parent_span_id = context.span_id;
    context.span_id = ids_.new_span_id();
    context.is_remote = false;
    context.sampling_deferred = false;
    if (!server.state_) return span{std::move(context), nullptr};

    const auto& parent_state = *server.state_;
    auto state = std::make_unique<detail::span_state>();
    auto& data = state->data;
    data.trace_id = context.trace_id;
    data.span_id = context.span_id;
    data.parent_span_id = context.parent_span_id;
    data.trace_flags = context.trace_flags & known_flags;
    data.tracestate = context.tracestate;
    data.name.assign(name);
    data.kind = span_kind::client;
    data.attributes.reserve(6);
    data.events.reserve(3);
    data.start_time_unix_nano = detail::unix_nanos_now();
    state->start = std::chrono::steady_clock::now();
    state->core = parent_state.core;
    state->group = parent_state.group;
    return span{std::move(context), std::move(state)};
}

}  // namespace tracegate::tracing
