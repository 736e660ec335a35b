#include "tracing/b3_single_propagator.hpp"

#include "tracing/b3_common.hpp"
#include "tracing/parse_util.hpp"

#include <array>

namespace tracegate::tracing {
namespace {

constexpr std::array<std::string_view, 1> field_names = {b3_single_propagator::b3_header};

// SamplingState (https://github.com/openzipkin/b3-propagation#sampling-state-1):
// exactly one character; "true"/"false" belong to the old X-B3-Sampled only.
bool apply_sampling_state(std::string_view state, span_context& ctx) noexcept {
    if (state == "1") {
        ctx.set_sampling_decision(true);
    } else if (state == "0") {
        ctx.set_sampling_decision(false);
    } else if (state == "d") {  // "Debug implies an accept decision"
        ctx.set_sampling_decision(true);
        ctx.debug = true;
    } else {
        return false;
    }
    return true;
}

std::string_view sampling_state(const span_context& ctx) noexcept {
    if (ctx.debug) return "d";
    if (ctx.sampling_deferred) return {};
    return ctx.sampled() ? "1" : "0";
}

}  // namespace

std::optional<span_context> b3_single_propagator::parse(std::string_view value) noexcept {
    value = detail::trim_ows(value);
    std::array<std::string_view, 4> parts{};
    const std::size_t count = detail::split(value, '-', parts);

    span_context ctx;
    ctx.is_remote = true;
    ctx.set_sampling_decision(std::nullopt);
    switch (count) {
    case 1:  // "b3: 0" (deny), also "1" and "d": a decision without ids
        if (!apply_sampling_state(parts[0], ctx)) return std::nullopt;
        return ctx;
    case 4:
        // ParentSpanId comes only after a sampling state; zero is not a parent.
        ctx.parent_span_id = detail::parse_b3_span_id(parts[3]);
        if (!ctx.parent_span_id) return std::nullopt;
        [[fallthrough]];
    case 3:
        if (!apply_sampling_state(parts[2], ctx)) return std::nullopt;
        [[fallthrough]];
    case 2: {
        if (!detail::parse_b3_trace_id(parts[0], ctx)) return std::nullopt;
        const auto span = detail::parse_b3_span_id(parts[1]);
        if (!span) return std::nullopt;
        ctx.span_id = *span;
        return ctx;
    }
    default:  // empty value or more than four fields
        return std::nullopt;
    }
}

std::string b3_single_propagator::format(const span_context& ctx) {
    const std::string_view state = sampling_state(ctx);
    if (!ctx.is_valid()) return std::string(state);
    std::string out = detail::format_b3_trace_id(ctx);
    out += '-';
    out += ctx.span_id.to_hex();
    if (!state.empty()) {
        out += '-';
        out += state;
        // The parent can only follow a sampling state; a deferred one loses it (the
        // format has no place for it, and receivers ignore it anyway).
        if (ctx.parent_span_id) {
            out += '-';
            out += ctx.parent_span_id->to_hex();
        }
    }
    return out;
}

std::optional<span_context> b3_single_propagator::extract(const carrier& headers) const {
    const auto value = headers.get(b3_header);
    if (!value) return std::nullopt;
    return parse(*value);
}

void b3_single_propagator::inject(const span_context& ctx, carrier& headers) const {
    std::string value = format(ctx);
    if (value.empty())
        headers.remove(b3_header);
    else
        headers.set(b3_header, value);
}

std::span<const std::string_view> b3_single_propagator::fields() const noexcept {
    return field_names;
}

}  // namespace tracegate::tracing
