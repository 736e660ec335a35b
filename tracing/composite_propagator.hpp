// The configured list of propagation formats: extraction by precedence, injection into a
// set of formats, and removal of every known trace header.
#pragma once

#include "tracing/propagator.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::tracing {

/// The trace-context formats tracegate knows (OpenTelemetry's propagator names).
enum class propagation_format : std::uint8_t {
    tracecontext,
    b3,
    b3multi,
    jaeger,
    cloudtrace,
    xray
};

/// Every propagation_format, in declaration order.
inline constexpr std::array<propagation_format, 6> all_propagation_formats = {
    propagation_format::tracecontext, propagation_format::b3,         propagation_format::b3multi,
    propagation_format::jaeger,       propagation_format::cloudtrace, propagation_format::xray,
};

/// The OpenTelemetry name of `format`, e.g. "b3multi".
std::string_view to_string(propagation_format format) noexcept;
/// The format spelled `name` exactly; nullopt otherwise (also for "baggage": not a trace context).
std::optional<propagation_format> parse_propagation_format(std::string_view name) noexcept;
/// The shared, stateless propagator of `format`.
const propagator& propagator_for(propagation_format format) noexcept;
/// A new propagator for `name`; nullptr when `name` is not a trace-context format.
std::unique_ptr<propagator> make_propagator(std::string_view name);

/// A set of formats (a bitmask: cheap to copy, no allocation).
class format_set {
public:
    /// The empty set.
    constexpr format_set() noexcept = default;
    /// The set of `formats`.
    constexpr format_set(std::initializer_list<propagation_format> formats) noexcept {
        for (const auto format : formats) insert(format);
    }
    /// Adds `format`.
    constexpr void insert(propagation_format format) noexcept { bits_ |= bit(format); }
    /// True when `format` is in the set.
    constexpr bool contains(propagation_format format) const noexcept {
        return (bits_ & bit(format)) != 0;
    }
    /// True when no format is in the set.
    constexpr bool empty() const noexcept { return bits_ == 0; }
    /// The union.
    friend constexpr format_set operator|(format_set a, format_set b) noexcept {
        a.bits_ |= b.bits_;
        return a;
    }
    /// Same members.
    friend constexpr bool operator==(format_set, format_set) noexcept = default;

private:
    static constexpr std::uint8_t bit(propagation_format format) noexcept {
        return static_cast<std::uint8_t>(1u << static_cast<unsigned>(format));
    }
    std::uint8_t bits_ = 0;
};

/// The formats that have at least one of their fields() in `headers`, valid or not
/// ("the service gets back the format the client used").
format_set formats_present(const carrier& headers);
/// Removes every field of every known format, so a service never sees two contexts that
/// disagree. Leaves `baggage` and Jaeger's `uberctx-*` alone.
void remove_trace_fields(carrier& headers);
/// Injects `ctx` in every format of `formats`.
void inject_formats(const span_context& ctx, carrier& headers, format_set formats);

/// Why a list of propagator names was rejected.
struct composite_error {
    std::size_t index = 0;  ///< Position of the offending name in the list.
    std::string name;       ///< The name as written.
    std::string message;    ///< E.g. `unknown propagator "zipkin" (known: tracecontext, ...)`.
};

struct composite_result;

/// The formats of a configured list (e.g. OTEL_PROPAGATORS or `propagation.extract`).
class composite_propagator final : public propagator {
public:
    /// What extraction found, and in which format.
    struct extraction {
        std::optional<span_context> context;       ///< As propagator::extract().
        std::optional<propagation_format> source;  ///< The format it came from.
    };

    /// Builds from names in precedence order: the formats above plus "baggage" (see
    /// baggage_enabled()) or "none" alone. An unknown or repeated name is an error.
    static composite_result create(std::span<const std::string> names);
    /// Same, for literal lists.
    static composite_result create(std::initializer_list<std::string_view> names);

    /// "composite"
    std::string_view name() const noexcept override { return "composite"; }
    /// The first format in list order that yields a valid context; a malformed header of
    /// an earlier format never hides a good one of a later format. When none is valid,
    /// the first sampling-only context (b3 `b3: 0`); else nullopt.
    std::optional<span_context> extract(const carrier& headers) const override;
    /// Like extract(), also naming the format the context came from.
    extraction extract_with_source(const carrier& headers) const;
    /// Injects into every configured format.
    void inject(const span_context& ctx, carrier& headers) const override;
    /// The fields of every configured format.
    std::span<const std::string_view> fields() const noexcept override { return fields_; }

    /// The configured formats in precedence order.
    std::span<const propagation_format> order() const noexcept { return order_; }
    /// The configured formats as a set.
    format_set formats() const noexcept { return formats_; }
    /// True when "baggage" was listed: the W3C baggage header is to be passed on.
    bool baggage_enabled() const noexcept { return baggage_; }

private:
    composite_propagator() = default;
    template <typename Name>
    static composite_result create_from(std::span<const Name> names);

    std::vector<propagation_format> order_;
    format_set formats_;
    bool baggage_ = false;
    std::vector<std::string_view> fields_;
};

/// Either a propagator (error empty) or the first problem in the list (value empty).
struct composite_result {
    std::optional<composite_propagator> value;  ///< Set on success.
    std::optional<composite_error> error;       ///< Set on failure.

    /// True on success.
    explicit operator bool() const noexcept { return value.has_value(); }
};

}  // namespace tracegate::tracing
