// The parts of the OTLP decoders both formats share; the formats themselves are in
// otlp_protobuf_decoder.cpp and otlp_json_decoder.cpp.
#include "tracing/otlp_decode_common.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <string>
#include <vector>

namespace tracegate::tracing {

std::size_t decoded_spans::span_count() const noexcept {
    std::size_t n = 0;
    for (const auto& [service, spans] : by_service) n += spans.size();
    return n;
}

namespace detail {

std::string where::path() const {
    std::vector<const where*> chain;
    for (const where* at = this; at != nullptr && !at->name.empty(); at = at->parent) chain.push_back(at);
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        if (!out.empty()) out += '.';
        out += (*it)->name;
        if ((*it)->index != no_index) {
            out += '[';
            out += std::to_string((*it)->index);
            out += ']';
        }
    }
    return out;
}

void fail(const where& at, std::string_view reason) {
    std::string message = at.path();
    if (!message.empty()) message += ": ";
    message += reason;
    throw otlp_decode_error(message);
}

void span_collector::begin_resource(std::string_view service) {
    if (service.empty()) service = otlp_unknown_service;
    if (const auto found = services_.find(service); found != services_.end()) {
        current_ = found->second;
        return;
    }
    current_ = out_.by_service.size();
    out_.by_service.emplace_back(std::string(service), std::vector<span_data>{});
    services_.emplace(std::string(service), current_);
}

span_data& span_collector::new_span(const where& at) {
    if (count_ == max_spans_)
        fail(at, "the request holds more than " + std::to_string(max_spans_) + " spans (the limit)");
    if (current_ >= out_.by_service.size()) begin_resource({});  // not reached: each decoder begins a resource
    ++count_;
    return out_.by_service[current_].second.emplace_back();
}

void dedupe_attributes(std::vector<attribute>& attributes) {
    if (attributes.size() < 2) return;
    // Short lists (nearly all) are checked pair by pair without allocating; repeated keys
    // are rare, so this is usually the whole cost.
    constexpr std::size_t short_list = 16;
    if (attributes.size() <= short_list) {
        bool repeated = false;
        for (std::size_t i = 1; i < attributes.size() && !repeated; ++i)
            for (std::size_t k = 0; k < i && !repeated; ++k) repeated = attributes[i].key == attributes[k].key;
        if (!repeated) return;
    }
    // Positions sorted by key, stable: each run of equal keys is in list order, so the run's
    // first element is the first position and its last the last value.
    std::vector<std::size_t> order(attributes.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return attributes[a].key < attributes[b].key; });
    std::vector<bool> drop(attributes.size(), false);
    bool any = false;
    for (std::size_t run = 0; run < order.size();) {
        std::size_t end = run + 1;
        while (end < order.size() && attributes[order[end]].key == attributes[order[run]].key) ++end;
        if (end - run > 1) {
            any = true;
            attributes[order[run]].value = std::move(attributes[order[end - 1]].value);
            for (std::size_t k = run + 1; k < end; ++k) drop[order[k]] = true;
        }
        run = end;
    }
    if (!any) return;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < attributes.size(); ++i) {
        if (drop[i]) continue;
        if (kept != i) attributes[kept] = std::move(attributes[i]);
        ++kept;
    }
    attributes.resize(kept);
}

span_kind span_kind_from_number(std::int64_t number) noexcept {
    switch (number) {
        case 2: return span_kind::server;
        case 3: return span_kind::client;
        case 4: return span_kind::producer;
        case 5: return span_kind::consumer;
        default: return span_kind::internal;  // 1, and 0 = SPAN_KIND_UNSPECIFIED
    }
}

status_code status_code_from_number(std::int64_t number) noexcept {
    switch (number) {
        case 1: return status_code::ok;
        case 2: return status_code::error;
        default: return status_code::unset;
    }
}

namespace {

constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Value of a base64 digit of either alphabet, or -1.
constexpr int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

}  // namespace

void append_base64(std::string_view bytes, std::string& out) {
    out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
        for (int shift = 18; shift >= 0; shift -= 6) out += base64_alphabet[group >> shift & 0x3f];
    }
    if (const std::size_t left = bytes.size() - i; left != 0) {
        const std::uint32_t group = at(i) << 16 | (left == 2 ? at(i + 1) << 8 : 0);
        out += base64_alphabet[group >> 18 & 0x3f];
        out += base64_alphabet[group >> 12 & 0x3f];
        out += left == 2 ? base64_alphabet[group >> 6 & 0x3f] : '=';
        out += '=';
    }
}

bool decode_base64(std::string_view text, std::string& out) {
    // Padding: at most two '=', only at the end, and only to complete a group of four.
    std::size_t padding = 0;
    while (!text.empty() && text.back() == '=' && padding < 2) {
        text.remove_suffix(1);
        ++padding;
    }
    if (padding != 0 && (text.size() + padding) % 4 != 0) return false;
    if (text.size() % 4 == 1) return false;  // 6 bits cannot end a byte
    out.reserve(out.size() + text.size() * 3 / 4);
    std::uint32_t group = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = base64_value(c);
        if (value < 0) return false;
        group = group << 6 | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(group >> bits & 0xff);
        }
    }
    return true;
}

}  // namespace detail
}  // namespace tracegate::tracing
