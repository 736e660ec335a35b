// W3C `tracestate` (https://www.w3.org/TR/trace-context/#tracestate-header): validation of
// received values and truncation to the size every vendor must propagate.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tracegate::tracing {

// Anchors below are in https://www.w3.org/TR/trace-context/ (the current text).

/// #tracestate-header-field-values: "There can be a maximum of 32 list-members in a list."
inline constexpr std::size_t tracestate_max_members = 32;
/// #key: `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`, so 1 + 255 characters.
inline constexpr std::size_t tracestate_max_key_size = 256;
/// #value: `value = 0*255(chr) nblk-chr`, so 255 + 1 characters.
inline constexpr std::size_t tracestate_max_value_size = 256;
/// #tracestate-limits: vendors SHOULD propagate at least 512 characters of the combined
/// header. A full list could be 32 * (256 + 1 + 256) + 31 commas = 16447 characters, so a
/// receiver must be ready to truncate.
inline constexpr std::size_t tracestate_propagated_size = 512;
/// #tracestate-limits: "Entries larger than 128 characters long SHOULD be removed first."
inline constexpr std::size_t tracestate_long_member_size = 128;

/// True when `key` matches the current #key grammar:
/// `( lcalpha / DIGIT ) 0*255 ( lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@" )`.
/// It accepts every Level 1 multi-tenant key `tenant@system` (and a few more, like `a@`).
bool is_valid_tracestate_key(std::string_view key) noexcept;

/// True when `value` matches #value: 1 to 256 characters in 0x20..0x7e except `,` and
/// `=`, the last not a space.
bool is_valid_tracestate_value(std::string_view value) noexcept;

/// The received header value (several lines already joined with ",") in canonical form:
/// members joined by "," without optional whitespace or empty members, then cut to at
/// most `max_size` characters by truncate_tracestate(). nullopt when any member is
/// invalid, a key repeats (#combined-header-value: "Only one entry per key is allowed")
/// or there are more than 32 members: the header is then dropped whole, never forwarded
/// in part.
std::optional<std::string> parse_tracestate(std::string_view header,
                                            std::size_t max_size = tracestate_propagated_size);

/// Removes whole members from a canonical tracestate until it fits `max_size`: first
/// members longer than 128 characters, from the end; then members from the end
/// (#tracestate-limits).
std::string truncate_tracestate(std::string_view canonical,
                                std::size_t max_size = tracestate_propagated_size);

}  // namespace tracegate::tracing
