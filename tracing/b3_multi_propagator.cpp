#include "tracing/b3_multi_propagator.hpp"

#include "tracing/b3_common.hpp"
#include "tracing/parse_util.hpp"

#include <array>

namespace tracegate::tracing {
namespace {

constexpr std::array<std::string_view, 5> field_names = {
    b3_multi_propagator::trace_id_header,       b3_multi_propagator::span_id_header,
    b3_multi_propagator::parent_span_id_header, b3_multi_propagator::sampled_header,
    b3_multi_propagator::flags_header,
};

std::optional<std::string_view> get_trimmed(const carrier& headers, std::string_view name) {
    auto value = headers.get(name);
    if (value) value = detail::trim_ows(*value);
    return value;
}

}  // namespace

std::optional<span_context> b3_multi_propagator::extract(const carrier& headers) const {
    const auto trace = get_trimmed(headers, trace_id_header);
    const auto span = get_trimmed(headers, span_id_header);
    const auto parent = get_trimmed(headers, parent_span_id_header);
    const auto sampled = get_trimmed(headers, sampled_header);
    const auto flags = get_trimmed(headers, flags_header);

    span_context ctx;
    ctx.is_remote = true;
    ctx.set_sampling_decision(std::nullopt);  // "absent: defer"
    if (sampled) {
        // Sampling State: "1" accept, "0" deny; before the spec settled, clients sent
        // "true" / "false", which receivers are asked to accept.
        if (*sampled == "1" || *sampled == "true")
            ctx.set_sampling_decision(true);
        else if (*sampled == "0" || *sampled == "false")
            ctx.set_sampling_decision(false);
        else
            return std::nullopt;
    }
    // "Debug is encoded as X-B3-Flags: 1. Absent or any other value can be ignored.
    // Debug implies an accept decision."
    if (flags && *flags == "1") {
        ctx.debug = true;
        ctx.set_sampling_decision(true);
    }

    if (!trace && !span) {
        // "the sampling decision can be sent without identifiers" (e.g. X-B3-Sampled: 0)
        if (ctx.sampling_deferred) return std::nullopt;
        return ctx;
    }
    if (!trace || !span) return std::nullopt;
    if (!detail::parse_b3_trace_id(*trace, ctx)) return std::nullopt;
    const auto span_value = detail::parse_b3_span_id(*span);
    if (!span_value) return std::nullopt;
    ctx.span_id = *span_value;
    if (parent) {
        ctx.parent_span_id = detail::parse_b3_span_id(*parent);
        if (!ctx.parent_span_id) return std::nullopt;
    }
    return ctx;
}

void b3_multi_propagator::inject(const span_context& ctx, carrier& headers) const {
    if (ctx.is_valid()) {
        headers.set(trace_id_header, detail::format_b3_trace_id(ctx));
        headers.set(span_id_header, ctx.span_id.to_hex());
        if (ctx.parent_span_id)
            headers.set(parent_span_id_header, ctx.parent_span_id->to_hex());
        else
            headers.remove(parent_span_id_header);
    } else {
        headers.remove(trace_id_header);
        headers.remove(span_id_header);
        headers.remove(parent_span_id_header);
    }
    // "Debug implies an accept decision, so don't also send the X-B3-Sampled header."
    if (ctx.debug) {
        headers.set(flags_header, "1");
        headers.remove(sampled_header);
        return;
    }
    headers.remove(flags_header);
    if (ctx.sampling_deferred)
        headers.remove(sampled_header);
    else
        headers.set(sampled_header, ctx.sampled() ? "1" : "0");
}

std::span<const std::string_view> b3_multi_propagator::fields() const noexcept {
    return field_names;
}

}  // namespace tracegate::tracing
