#include "tracing/w3c_baggage.hpp"

#include "tracing/parse_util.hpp"

#include <algorithm>

namespace tracegate::tracing {
namespace {

// key = token (RFC 9110 §5.6.2): tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
// "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
constexpr bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return specials.find(c) != std::string_view::npos;
}

// https://www.w3.org/TR/baggage/#value:
//   value = *baggage-octet; baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
// (printable US-ASCII without SP, DQUOTE, ",", ";" and "\"; other octets come
// percent-encoded, which these ranges already allow).
constexpr bool is_baggage_octet(char c) noexcept {
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool is_value(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), is_baggage_octet);
}

// list-member = key OWS "=" OWS value *( OWS ";" OWS property )
// property = key OWS "=" OWS value / key OWS
bool is_list_member(std::string_view member) noexcept {
    for (bool first = true;; first = false) {
        const auto semicolon = member.find(';');
        const std::string_view part = detail::trim_ows(member.substr(0, semicolon));
        const auto equals = part.find('=');
        if (first && equals == std::string_view::npos)
            return false;  // only a property may omit "="
        if (!is_token(detail::trim_ows(part.substr(0, equals)))) return false;
        if (equals != std::string_view::npos &&
            !is_value(detail::trim_ows(part.substr(equals + 1))))
            return false;
        if (semicolon == std::string_view::npos) return true;
        member.remove_prefix(semicolon + 1);
    }
}

}  // namespace

bool is_acceptable_baggage(std::string_view value, const baggage_limits& limits) noexcept {
    if (value.size() > limits.max_bytes) return false;
    std::size_t members = 0;
    for (;;) {
        const auto comma = value.find(',');
        const std::string_view member = detail::trim_ows(value.substr(0, comma));
        if (!member.empty()) {
            if (++members > limits.max_members || !is_list_member(member)) return false;
        }
        if (comma == std::string_view::npos) return true;
        value.remove_prefix(comma + 1);
    }
}

bool limit_baggage(carrier& headers, const baggage_limits& limits) {
    const auto value = headers.get(baggage_header);
    if (!value) return false;
    if (is_acceptable_baggage(*value, limits)) return true;
    headers.remove(baggage_header);
    return false;
}

}  // namespace tracegate::tracing
