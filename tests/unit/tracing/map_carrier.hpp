// Test support for tracing/ unit tests: a map-backed header carrier and gtest printers.
#pragma once

#include "tracing/carrier.hpp"
#include "tracing/span_context.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <initializer_list>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace tracegate::tracing {

// gtest prints these instead of raw bytes when an expectation fails.
inline void PrintTo(const trace_id& id, std::ostream* os) {
    *os << id.to_hex();
}
inline void PrintTo(const span_id& id, std::ostream* os) {
    *os << id.to_hex();
}
inline void PrintTo(const span_context& ctx, std::ostream* os) {
    *os << "{trace " << ctx.trace_id.to_hex() << (ctx.trace_id_64bit ? " (64-bit)" : "")
        << ", span " << ctx.span_id.to_hex() << ", flags " << int{ctx.trace_flags}
        << (ctx.sampling_deferred ? ", deferred" : "") << (ctx.debug ? ", debug" : "")
        << ", parent " << (ctx.parent_span_id ? ctx.parent_span_id->to_hex() : "none")
        << ", tracestate \"" << ctx.tracestate << "\"" << (ctx.is_remote ? ", remote" : "") << "}";
}

namespace test {

/// Header lines in a vector, names compared case-insensitively like HTTP; several lines
/// of one name are joined with "," by get(), like proxy/'s Beast adapter.
class map_carrier final : public carrier {
public:
    map_carrier() = default;
    map_carrier(std::initializer_list<std::pair<std::string, std::string>> lines) : lines_(lines) {}

    /// Appends one more line (a repeated header).
    void add(std::string name, std::string value) {
        lines_.emplace_back(std::move(name), std::move(value));
    }

    std::optional<std::string_view> get(std::string_view name) const override {
        std::optional<std::string> joined;
        const std::string* single = nullptr;
        for (const auto& [line_name, value] : lines_) {
            if (!equals(line_name, name)) continue;
            if (!joined) {
                joined = value;
                single = &value;
            } else {
                *joined += ',';
                *joined += value;
                single = nullptr;
            }
        }
        if (!joined) return std::nullopt;
        if (single) return std::string_view(*single);
        return std::string_view(joined_storage_.emplace_back(std::move(*joined)));
    }

    void set(std::string_view name, std::string_view value) override {
        remove(name);
        lines_.emplace_back(std::string(name), std::string(value));
    }

    void remove(std::string_view name) override {
        std::erase_if(lines_, [&](const auto& line) { return equals(line.first, name); });
    }

    /// Number of lines named `name`.
    std::size_t count(std::string_view name) const {
        return static_cast<std::size_t>(
            std::count_if(lines_.begin(), lines_.end(),
                          [&](const auto& line) { return equals(line.first, name); }));
    }

    /// Number of lines in all.
    std::size_t size() const { return lines_.size(); }

private:
    static bool equals(std::string_view a, std::string_view b) {
        return a.size() == b.size() &&
               std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) ==
                          std::tolower(static_cast<unsigned char>(y));
               });
    }

    std::vector<std::pair<std::string, std::string>> lines_;
    mutable std::deque<std::string> joined_storage_;  // keeps joined views alive
};

/// A remote context with these ids (hex), sampled unless told otherwise.
inline span_context remote_context(std::string_view trace_hex, std::string_view span_hex,
                                   std::optional<bool> sampled = true) {
    span_context ctx;
    ctx.trace_id = trace_id::from_hex(trace_hex).value();
    ctx.span_id = span_id::from_hex(span_hex).value();
    ctx.set_sampling_decision(sampled);
    ctx.is_remote = true;
    return ctx;
}

}  // namespace test
}  // namespace tracegate::tracing
