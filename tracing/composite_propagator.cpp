#include "tracing/composite_propagator.hpp"

#include "tracing/aws_xray_propagator.hpp"
#include "tracing/b3_multi_propagator.hpp"
#include "tracing/b3_single_propagator.hpp"
#include "tracing/google_cloud_trace_propagator.hpp"
#include "tracing/jaeger_propagator.hpp"
#include "tracing/w3c_trace_context_propagator.hpp"

#include <algorithm>

namespace tracegate::tracing {
namespace {

// Stateless, so one instance of each serves every thread.
const w3c_trace_context_propagator tracecontext_instance;
const b3_single_propagator b3_instance;
const b3_multi_propagator b3multi_instance;
const jaeger_propagator jaeger_instance;
const google_cloud_trace_propagator cloudtrace_instance;
const aws_xray_propagator xray_instance;

constexpr std::string_view baggage_name = "baggage";
constexpr std::string_view none_name = "none";

std::string known_names() {
    std::string out;
    for (const auto format : all_propagation_formats) {
        out += to_string(format);
        out += ", ";
    }
    out += baggage_name;
    out += ", ";
    out += none_name;
    return out;
}

composite_error make_error(std::size_t index, std::string_view name, std::string message) {
    return composite_error{index, std::string(name), std::move(message)};
}

}  // namespace

std::string_view to_string(propagation_format format) noexcept {
    return propagator_for(format).name();
}

std::optional<propagation_format> parse_propagation_format(std::string_view name) noexcept {
    for (const auto format : all_propagation_formats) {
        if (to_string(format) == name) return format;
    }
    return std::nullopt;
}

const propagator& propagator_for(propagation_format format) noexcept {
    switch (format) {
    case propagation_format::tracecontext: return tracecontext_instance;
    case propagation_format::b3: return b3_instance;
    case propagation_format::b3multi: return b3multi_instance;
    case propagation_format::jaeger: return jaeger_instance;
    case propagation_format::cloudtrace: return cloudtrace_instance;
    case propagation_format::xray: break;
    }
    return xray_instance;
}

std::unique_ptr<propagator> make_propagator(std::string_view name) {
    const auto format = parse_propagation_format(name);
    if (!format) return nullptr;
    switch (*format) {
    case propagation_format::tracecontext: return std::make_unique<w3c_trace_context_propagator>();
    case propagation_format::b3: return std::make_unique<b3_single_propagator>();
    case propagation_format::b3multi: return std::make_unique<b3_multi_propagator>();
    case propagation_format::jaeger: return std::make_unique<jaeger_propagator>();
    case propagation_format::cloudtrace: return std::make_unique<google_cloud_trace_propagator>();
    case propagation_format::xray: break;
    }
    return std::make_unique<aws_xray_propagator>();
}

format_set formats_present(const carrier& headers) {
    format_set present;
    for (const auto format : all_propagation_formats) {
        const auto fields = propagator_for(format).fields();
        if (std::any_of(fields.begin(), fields.end(),
                        [&](std::string_view field) { return headers.get(field).has_value(); }))
            present.insert(format);
    }
    return present;
}

void remove_trace_fields(carrier& headers) {
    for (const auto format : all_propagation_formats) {
        for (const auto field : propagator_for(format).fields()) headers.remove(field);
    }
}

void inject_formats(const span_context& ctx, carrier& headers, format_set formats) {
    for (const auto format : all_propagation_formats) {
        if (formats.contains(format)) propagator_for(format).inject(ctx, headers);
    }
}

template <typename Name>
composite_result composite_propagator::create_from(std::span<const Name> names) {
    composite_propagator composite;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string_view name = names[i];
        if (name == none_name) {
            // OTEL_PROPAGATORS=none: nothing is extracted or injected.
            if (names.size() != 1)
                return {std::nullopt,
                        make_error(i, name, "\"none\" cannot be combined with other propagators")};
            continue;
        }
        bool repeated = false;
        if (name == baggage_name) {
            repeated = composite.baggage_;
            composite.baggage_ = true;
        } else if (const auto format = parse_propagation_format(name)) {
            repeated = composite.formats_.contains(*format);
            composite.formats_.insert(*format);
            composite.order_.push_back(*format);
            const auto fields = propagator_for(*format).fields();
            composite.fields_.insert(composite.fields_.end(), fields.begin(), fields.end());
        } else {
            return {std::nullopt, make_error(i, name,
                                             "unknown propagator \"" + std::string(name) +
                                                 "\" (known: " + known_names() + ")")};
        }
        if (repeated)
            return {
                std::nullopt,
                make_error(i, name, "propagator \"" + std::string(name) + "\" is listed twice")};
    }
    return {std::move(composite), std::nullopt};
}

composite_result composite_propagator::create(std::span<const std::string> names) {
    return create_from(names);
}

composite_result composite_propagator::create(std::initializer_list<std::string_view> names) {
    return create_from(std::span<const std::string_view>(names.begin(), names.size()));
}

composite_propagator::extraction composite_propagator::extract_with_source(
    const carrier& headers) const {
    extraction fallback;
    for (const auto format : order_) {
        auto ctx = propagator_for(format).extract(headers);
        if (!ctx) continue;
        if (ctx->is_valid()) return {std::move(ctx), format};
        if (!fallback.context) fallback = {std::move(ctx), format};  // sampling-only
    }
    return fallback;
}

std::optional<span_context> composite_propagator::extract(const carrier& headers) const {
    return extract_with_source(headers).context;
}

void composite_propagator::inject(const span_context& ctx, carrier& headers) const {
    for (const auto format : order_) propagator_for(format).inject(ctx, headers);
}

}  // namespace tracegate::tracing
