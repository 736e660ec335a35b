#include "tracing/span.hpp"

#include "tracing/span_state.hpp"

#include <algorithm>
#include <utility>

namespace tracegate::tracing {
namespace detail {

std::uint64_t unix_nanos_now() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

void keep_group::finish(span_data&& data, bool own_keep, bool closes, span_sink& sink) {
    const std::lock_guard lock(mutex);
    if (own_keep && !keep) {
        keep = true;
        for (auto& waiting : parked) sink.submit(std::move(waiting));
        parked.clear();
    }
    if (keep) {
        sink.submit(std::move(data));
    } else if (!closes && !closed) {
        parked.push_back(std::move(data));
    }
    if (closes) {
        closed = true;
        if (!keep) parked.clear();  // nobody was kept: the group is dropped whole
    }
}

}  // namespace detail

namespace {

void put_attribute(span_data& data, std::string_view key, attribute_value&& value) {
    const auto found = std::find_if(data.attributes.begin(), data.attributes.end(),
                                    [&](const attribute& a) { return a.key == key; });
    if (found != data.attributes.end()) {
        found->value = std::move(value);
    } else if (data.attributes.size() < span_max_attributes) {
        data.attributes.push_back({std::string(key), std::move(value)});
    } else {
        ++data.dropped_attributes_count;
    }
}

}  // namespace

span::span() noexcept = default;

span::span(span_context context, std::unique_ptr<detail::span_state> state) noexcept
    : context_(std::move(context)), state_(std::move(state)) {}

span::span(span&& other) noexcept
    : context_(std::move(other.context_)), state_(std::move(other.state_)) {}

span& span::operator=(span&& other) noexcept {
    if (this != &other) {
        end();
        context_ = std::move(other.context_);
        state_ = std::move(other.state_);
    }
    return *this;
}

span::~span() {
    end();
}

void span::set_attribute(std::string_view key, std::string_view value) {
    if (state_) put_attribute(state_->data, key, std::string(value));
}

void span::set_attribute(std::string_view key, std::int64_t value) {
    if (state_) put_attribute(state_->data, key, value);
}

void span::set_attribute(std::string_view key, double value) {
    if (state_) put_attribute(state_->data, key, value);
}

void span::set_attribute(std::string_view key, bool value) {
    if (state_) put_attribute(state_->data, key, value);
}

namespace {

void append_attribute(span_data& data, std::string_view key, attribute_value&& value) {
    if (data.attributes.size() < span_max_attributes)
        data.attributes.push_back({std::string(key), std::move(value)});
    else
        ++data.dropped_attributes_count;
}

}  // namespace

void span::add_attribute(std::string_view key, std::string_view value) {
    if (state_) append_attribute(state_->data, key, std::string(value));
}

void span::add_attribute(std::string_view key, std::int64_t value) {
    if (state_) append_attribute(state_->data, key, value);
}

void span::add_event(std::string_view name) {
    if (!state_) return;
    auto& data = state_->data;
    if (data.events.size() >= span_max_events) {
        ++data.dropped_events_count;
        return;
    }
    // Event times follow the span's monotonic clock, like its end time.
    const auto elapsed = std::chrono::steady_clock::now() - state_->start;
    data.events.push_back(
        {std::string(name),
         data.start_time_unix_nano +
             static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count())});
}

void span::add_link(const span_context& linked) {
    if (!state_) return;
    auto& data = state_->data;
    if (data.links.size() >= span_max_links) {
        ++data.dropped_links_count;
        return;
    }
    data.links.push_back({linked, {}});
}

void span::set_name(std::string_view name) {
    if (state_) state_->data.name.assign(name);
}

void span::set_status(status_code code, std::string_view message) {
    if (!state_) return;
    state_->data.status = code;
    if (code == status_code::error) {
        state_->data.status_message.assign(message);
    } else {
        state_->data.status_message.clear();
    }
}

void span::set_error(std::string_view error_type) {
    if (!state_) return;
    state_->data.status = status_code::error;
    put_attribute(state_->data, "error.type", std::string(error_type));
}

void span::end() noexcept {
    if (!state_) return;
    const auto state = std::move(state_);  // a second end() finds a null span
    auto& data = state->data;
    const auto duration = std::chrono::steady_clock::now() - state->start;
    data.end_time_unix_nano =
        data.start_time_unix_nano +
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count());
    auto& sink = *state->core->sink;
    if (!state->group) {  // sampled: always exported
        sink.submit(std::move(data));
        return;
    }
    const bool own_keep = state->core->sampler.keeps(data.status, duration);
    const bool closes = data.kind == span_kind::server;
    try {
        state->group->finish(std::move(data), own_keep, closes, sink);
    } catch (...) {
        // Out of memory while parking a span: drop it rather than throw from a destructor.
    }
}

}  // namespace tracegate::tracing
