// Private to config/: the scalar parsers behind parse_address() and parse_duration(),
// with the reason for a failure, so the loader can say what is wrong and not just that.
#pragma once

#include "config/config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tracegate::config::detail {

/// parse_address(); on failure nullopt and a one-phrase reason in `problem`.
/// Accepts port 0 (the loader decides where that is allowed).
std::optional<address> parse_address(std::string_view text, std::string& problem);

/// parse_duration(); on failure nullopt and a one-phrase reason in `problem`.
std::optional<duration> parse_duration(std::string_view text, std::string& problem);

/// A finite decimal number, the whole of `text` ("0.25", "1", "1e-3", "-2"); no
/// "inf", "nan", hex, or surrounding spaces.
std::optional<double> parse_number(std::string_view text);

/// True for an IPv4 dotted quad or an IPv6 literal (without brackets).
bool is_ip_literal(std::string_view host);

/// True for an IPv6 literal (without brackets).
bool is_ipv6_literal(std::string_view host);

}  // namespace tracegate::config::detail
