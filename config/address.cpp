#include "config/loader.hpp"
#include "config/scalar_parsers.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace tracegate::config {

namespace {

constexpr std::uint32_t max_port = 65535;
// RFC 1035 section 2.3.4: labels of at most 63 octets, names of at most 255 octets
// (253 characters in dotted text form).
constexpr std::size_t max_label_length = 63;
constexpr std::size_t max_name_length = 253;

bool is_ipv4_literal(std::string_view host) {
    in_addr out{};
    const std::string text(host);
    return ::inet_pton(AF_INET, text.c_str(), &out) == 1;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

// A DNS name: dot-separated labels of letters, digits, '-' and '_' (the last for
// service-style names such as Kubernetes' "_http._tcp"); one trailing dot allowed.
bool is_dns_name(std::string_view host) {
    if (host.ends_with('.')) host.remove_suffix(1);
    if (host.empty() || host.size() > max_name_length) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = std::min(host.find('.', start), host.size());
        const std::string_view label = host.substr(start, dot - start);
        if (label.empty() || label.size() > max_label_length ||
            !std::all_of(label.begin(), label.end(), is_name_char)) {
            return false;
        }
        if (dot == host.size()) return true;
        start = dot + 1;
    }
}

bool looks_like_ipv4(std::string_view host) {
    return std::all_of(host.begin(), host.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::optional<std::uint16_t> parse_port(std::string_view text, std::string& problem) {
    if (text.empty()) {
        problem = "missing port after \":\"";
        return std::nullopt;
    }
    std::uint32_t port = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            problem = "port \"" + std::string(text) + "\" is not a number";
            return std::nullopt;
        }
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
        if (port > max_port) {
            problem = "port " + std::string(text) + " is out of range (at most 65535)";
            return std::nullopt;
        }
    }
    return static_cast<std::uint16_t>(port);
}

}  // namespace

std::string address::to_string() const {
    std::string out;
    append_to(out);
    return out;
}

void address::append_to(std::string& out) const {
    const bool ipv6 = host.find(':') != std::string::npos;
    if (ipv6) out += '[';
    out += host;
    if (ipv6) out += ']';
    out += ':';
    char digits[8];
    const auto end = std::to_chars(digits, digits + sizeof digits, port).ptr;
    out.append(digits, end);
}

namespace detail {

bool is_ipv6_literal(std::string_view host) {
    in6_addr out{};
    const std::string text(host);
    return ::inet_pton(AF_INET6, text.c_str(), &out) == 1;
}

bool is_ip_literal(std::string_view host) {
    return is_ipv4_literal(host) || is_ipv6_literal(host);
}

std::optional<address> parse_address(std::string_view text, std::string& problem) {
    if (text.empty()) {
        problem = "empty address; expected host:port";
        return std::nullopt;
    }
    std::string_view host;
    std::string_view port_text;
    if (text.front() == '[') {
        // RFC 3986 section 3.2.2: an IPv6 literal is written in brackets.
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            problem = "missing \"]\" after IPv6 address";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        if (!is_ipv6_literal(host)) {
            problem = "\"" + std::string(host) + "\" is not an IPv6 address";
            return std::nullopt;
        }
        const std::string_view rest = text.substr(close + 1);
        if (rest.empty() || rest.front() != ':') {
            problem = "missing \":port\" after \"]\"";
            return std::nullopt;
        }
        port_text = rest.substr(1);
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            problem = "missing port; expected host:port";
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            problem = "IPv6 address must be in brackets, e.g. [::1]:8080";
            return std::nullopt;
        }
        if (host.empty()) {
            problem = "missing host before \":\"";
            return std::nullopt;
        }
        if (looks_like_ipv4(host) ? !is_ipv4_literal(host) : !is_dns_name(host)) {
            problem = "\"" + std::string(host) + "\" is not a valid host name or IP address";
            return std::nullopt;
        }
    }
    const std::optional<std::uint16_t> port = parse_port(port_text, problem);
    if (!port) return std::nullopt;
    return address{std::string(host), *port};
}

}  // namespace detail

std::optional<address> parse_address(std::string_view text) {
    std::string ignored;
    return detail::parse_address(text, ignored);
}

}  // namespace tracegate::config
