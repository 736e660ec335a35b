#include "config/loader.hpp"
#include "config/scalar_parsers.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace tracegate::config {

namespace {

struct unit {
    std::string_view suffix;
    std::int64_t milliseconds;
};

// Integer amounts only: "1.5s" is an error rather than a silent truncation, and
// "1500ms" says the same thing exactly.
constexpr std::array<unit, 4> units{{
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
}};

}  // namespace

namespace detail {

std::optional<duration> parse_duration(std::string_view text, std::string& problem) {
    if (text == "0") return duration{0};
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) {
        problem = text.empty() ? "empty duration" : "a duration starts with a whole number";
        return std::nullopt;
    }
    const std::string_view suffix = text.substr(digits);
    const unit* found = nullptr;
    for (const unit& u : units) {
        if (u.suffix == suffix) found = &u;
    }
    if (found == nullptr && suffix.starts_with('.')) {
        problem = "not a whole number; use a smaller unit, e.g. 1500ms for 1.5s";
        return std::nullopt;
    }
    if (found == nullptr) {
        problem = suffix.empty() ? "missing unit"
                                 : "unknown unit \"" + std::string(suffix) + "\"";
        return std::nullopt;
    }
    const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / found->milliseconds;
    std::int64_t amount = 0;
    for (char c : text.substr(0, digits)) {
        const int digit = c - '0';
        if (amount > (limit - digit) / 10) {  // amount * 10 + digit > limit, without overflow
            problem = "too large";
            return std::nullopt;
        }
        amount = amount * 10 + digit;
    }
    return duration{amount * found->milliseconds};
}

}  // namespace detail

std::optional<duration> parse_duration(std::string_view text) {
    std::string ignored;
    return detail::parse_duration(text, ignored);
}

}  // namespace tracegate::config
