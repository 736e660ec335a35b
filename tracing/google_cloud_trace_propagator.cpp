#include "tracing/google_cloud_trace_propagator.hpp"

#include "tracing/parse_util.hpp"

#include <array>

namespace tracegate::tracing {
namespace {

constexpr std::array<std::string_view, 1> field_names = {
    google_cloud_trace_propagator::trace_header};

// "o=1" traced, "o=0" not (the documented TRACE_TRUE values; nothing else is defined).
constexpr std::string_view options_prefix = ";o=";

}  // namespace

std::optional<span_context> google_cloud_trace_propagator::parse(std::string_view value) noexcept {
    value = detail::trim_ows(value);
    // TRACE_ID "is a 32-character hexadecimal value representing a 128-bit number".
    if (value.size() < trace_id::hex_size + 2 || value[trace_id::hex_size] != '/')
        return std::nullopt;
    const auto trace = trace_id::from_hex(value.substr(0, trace_id::hex_size));
    if (!trace || !trace->is_valid()) return std::nullopt;
    value.remove_prefix(trace_id::hex_size + 1);

    // SPAN_ID "is the decimal representation of the (unsigned) span ID".
    const auto options_at = value.find(';');
    const auto span = detail::parse_decimal_u64(value.substr(0, options_at));
    if (!span || *span == 0) return std::nullopt;

    span_context ctx;
    ctx.trace_id = *trace;
    ctx.span_id = span_id::from_uint64(*span);
    ctx.is_remote = true;
    if (options_at == std::string_view::npos) {
        ctx.set_sampling_decision(std::nullopt);
        return ctx;
    }
    const std::string_view options = value.substr(options_at);
    if (options == ";o=1")
        ctx.set_sampling_decision(true);
    else if (options == ";o=0")
        ctx.set_sampling_decision(false);
    else
        return std::nullopt;
    return ctx;
}

std::string google_cloud_trace_propagator::format(const span_context& ctx) {
    std::string out = ctx.trace_id.to_hex();
    out += '/';
    out += std::to_string(ctx.span_id.to_uint64());
    if (!ctx.sampling_deferred) {
        out += options_prefix;
        out += ctx.sampled() ? '1' : '0';
    }
    return out;
}

std::optional<span_context> google_cloud_trace_propagator::extract(const carrier& headers) const {
    const auto value = headers.get(trace_header);
    if (!value) return std::nullopt;
    return parse(*value);
}

void google_cloud_trace_propagator::inject(const span_context& ctx, carrier& headers) const {
    if (!ctx.is_valid()) return;
    headers.set(trace_header, format(ctx));
}

std::span<const std::string_view> google_cloud_trace_propagator::fields() const noexcept {
    return field_names;
}

}  // namespace tracegate::tracing
