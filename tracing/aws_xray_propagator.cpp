#include "tracing/aws_xray_propagator.hpp"

#include "tracing/parse_util.hpp"

#include <array>

namespace tracegate::tracing {
namespace {

constexpr std::array<std::string_view, 1> field_names = {aws_xray_propagator::trace_header};

// Root=1-{epoch: 8 hex}-{unique: 24 hex}: 2 + 8 + 1 + 24 = 35 characters.
constexpr std::string_view root_version = "1-";
constexpr std::size_t epoch_digits = 8;
constexpr std::size_t unique_digits = trace_id::hex_size - epoch_digits;  // 24
constexpr std::size_t root_size = root_version.size() + epoch_digits + 1 + unique_digits;

std::optional<trace_id> parse_root(std::string_view root) noexcept {
    if (root.size() != root_size || !root.starts_with(root_version) ||
        root[root_version.size() + epoch_digits] != '-')
        return std::nullopt;
    std::array<char, trace_id::hex_size> digits{};
    const std::string_view epoch = root.substr(root_version.size(), epoch_digits);
    const std::string_view unique = root.substr(root_version.size() + epoch_digits + 1);
    std::copy(epoch.begin(), epoch.end(), digits.begin());
    std::copy(unique.begin(), unique.end(), digits.begin() + epoch_digits);
    const auto id = trace_id::from_hex(std::string_view(digits.data(), digits.size()));
    if (!id || !id->is_valid()) return std::nullopt;
    return id;
}

}  // namespace

std::optional<span_context> aws_xray_propagator::parse(std::string_view value) noexcept {
    std::optional<trace_id> root;
    std::optional<span_id> parent;
    bool sampled_seen = false;
    std::optional<bool> sampled;  // the decision; nullopt for "?" or no field
    while (!value.empty()) {
        const auto semicolon = value.find(';');
        const std::string_view field = detail::trim_ows(value.substr(0, semicolon));
        value =
            semicolon == std::string_view::npos ? std::string_view{} : value.substr(semicolon + 1);
        if (field.empty()) continue;
        const auto equals = field.find('=');
        if (equals == std::string_view::npos) return std::nullopt;
        const std::string_view key = field.substr(0, equals);
        const std::string_view text = field.substr(equals + 1);
        // A repeated known field is ambiguous: reject rather than guess which one counts.
        if (key == "Root") {
            if (root || !(root = parse_root(text))) return std::nullopt;
        } else if (key == "Parent") {
            if (parent) return std::nullopt;
            parent = span_id::from_hex(text);
            if (!parent || !parent->is_valid()) return std::nullopt;
        } else if (key == "Sampled") {
            if (sampled_seen) return std::nullopt;
            sampled_seen = true;
            if (text == "1")
                sampled = true;
            else if (text == "0")
                sampled = false;
            else if (text != "?")  // "?": "sampling decision requested", the receiver decides
                return std::nullopt;
        }
        // Self=, Lineage= and custom fields carry nothing for the span context.
    }
    if (!root || !parent) return std::nullopt;

    span_context ctx;
    ctx.trace_id = *root;
    ctx.span_id = *parent;
    ctx.set_sampling_decision(sampled);
    ctx.is_remote = true;
    return ctx;
}

std::string aws_xray_propagator::format(const span_context& ctx) {
    std::array<char, trace_id::hex_size> digits{};
    ctx.trace_id.write_hex(digits.data());
    const std::string_view hex(digits.data(), digits.size());
    std::string out = "Root=";
    out += root_version;
    out += hex.substr(0, epoch_digits);
    out += '-';
    out += hex.substr(epoch_digits);
    out += ";Parent=";
    out += ctx.span_id.to_hex();
    if (!ctx.sampling_deferred) out += ctx.sampled() ? ";Sampled=1" : ";Sampled=0";
    return out;
}

std::optional<span_context> aws_xray_propagator::extract(const carrier& headers) const {
    const auto value = headers.get(trace_header);
    if (!value) return std::nullopt;
    return parse(*value);
}

void aws_xray_propagator::inject(const span_context& ctx, carrier& headers) const {
    if (!ctx.is_valid()) return;
    headers.set(trace_header, format(ctx));
}

std::span<const std::string_view> aws_xray_propagator::fields() const noexcept {
    return field_names;
}

}  // namespace tracegate::tracing
