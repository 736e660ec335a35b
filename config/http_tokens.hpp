// Private to config/: the HTTP token grammar and ASCII case mapping used for methods
// and header names.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace tracegate::config::detail {

inline char to_lower_ascii(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline char to_upper_ascii(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

inline void lowercase_ascii(std::string& text) {
    std::transform(text.begin(), text.end(), text.begin(), to_lower_ascii);
}

// RFC 9110 section 5.6.2: methods and header field names are tokens.
inline bool is_token(std::string_view text) {
    constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               specials.find(c) != std::string_view::npos;
    });
}

}  // namespace tracegate::config::detail
