// The handle the proxy holds for one span. A null span (not recording) is a span_context
// and an empty pointer: every method is a no-op, so proxy/ calls them without `if`s
// (after Envoy's null_span_impl.h).
#pragma once

#include "tracing/span_context.hpp"
#include "tracing/span_data.hpp"

#include <concepts>
#include <cstdint>
#include <memory>
#include <string_view>

namespace tracegate::tracing {

namespace detail {
struct span_state;
}

/// Most attributes, events and links one span keeps (OpenTelemetry's defaults); more
/// are dropped and counted in span_data.
inline constexpr std::size_t span_max_attributes = 128;
/// See span_max_attributes.
inline constexpr std::size_t span_max_events = 128;
/// See span_max_attributes.
inline constexpr std::size_t span_max_links = 128;

/// A started span. Move-only; ends (and is reported when it must be) on end() or destruction.
class span {
public:
    /// A null span with an invalid context.
    span() noexcept;
    /// Moves the span; `other` becomes a null span.
    span(span&& other) noexcept;
    /// Ends this span, then takes `other`'s.
    span& operator=(span&& other) noexcept;
    span(const span&) = delete;
    span& operator=(const span&) = delete;
    /// Ends the span.
    ~span();

    /// True while the span records data (started recording and not yet ended).
    bool recording() const noexcept { return state_ != nullptr; }
    /// The position to propagate: valid ids even when not recording, the sampled flag
    /// per the head decision, flags masked to sampled|random.
    const span_context& context() const noexcept { return context_; }

    /// Sets attribute `key` (replacing an earlier value of the same key).
    void set_attribute(std::string_view key, std::string_view value);
    /// Same, for a C string (without this overload a literal would pick the bool one).
    void set_attribute(std::string_view key, const char* value) { set_attribute(key, std::string_view{value}); }
    /// Same, for an integer.
    void set_attribute(std::string_view key, std::int64_t value);
    /// Same, for the other integer types (an unsigned value above INT64_MAX wraps).
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, std::int64_t>)
    void set_attribute(std::string_view key, T value) {
        set_attribute(key, static_cast<std::int64_t>(value));
    }
    /// Same, for a floating-point value.
    void set_attribute(std::string_view key, double value);
    /// Same, for a boolean.
    void set_attribute(std::string_view key, bool value);

    /// Adds attribute `key`, which this span does not have yet: no lookup of earlier keys
    /// (set_attribute's cost grows with the attributes already set).
    void add_attribute(std::string_view key, std::string_view value);
    /// Same, for a C string.
    void add_attribute(std::string_view key, const char* value) { add_attribute(key, std::string_view{value}); }
    /// Same, for an integer.
    void add_attribute(std::string_view key, std::int64_t value);

    /// Adds an event named `name` at the current time.
    void add_event(std::string_view name);
    /// Adds a link to `linked` (e.g. an untrusted incoming context).
    void add_link(const span_context& linked);
    /// Renames the span (e.g. once the route is known).
    void set_name(std::string_view name);
    /// Sets the status; `message` is kept only for status_code::error.
    void set_status(status_code code, std::string_view message = {});
    /// Status ERROR plus attribute `error.type` = `error_type` (e.g. `timeout`, `500`).
    void set_error(std::string_view error_type);

    /// Ends the span and hands it to the sink when it must be exported: sampled, or kept by
    /// a keep rule (error, slow). Idempotent: later calls do nothing.
    void end() noexcept;

private:
    friend class tracer;
    span(span_context context, std::unique_ptr<detail::span_state> state) noexcept;

    span_context context_;
    std::unique_ptr<detail::span_state> state_;
};

}  // namespace tracegate::tracing
