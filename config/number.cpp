#include "config/scalar_parsers.hpp"

#include <charconv>
#include <cmath>

namespace tracegate::config::detail {

std::optional<double> parse_number(std::string_view text) {
    if (text.empty()) return std::nullopt;
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, status] = std::from_chars(text.data(), end, value, std::chars_format::general);
    // from_chars takes "inf" and "nan" too; neither is a setting anyone means.
    if (status != std::errc() || stop != end || !std::isfinite(value)) return std::nullopt;
    return value;
}

}  // namespace tracegate::config::detail
