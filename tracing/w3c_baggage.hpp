// W3C Baggage (https://www.w3.org/TR/baggage/): not a trace context. A proxy passes the
// header on unchanged; these helpers only decide whether it is safe to pass on.
// Baggage entries are never turned into span attributes here.
#pragma once

#include "tracing/carrier.hpp"

#include <cstddef>
#include <string_view>

namespace tracegate::tracing {

/// "baggage"
inline constexpr std::string_view baggage_header = "baggage";

/// Bounds on a baggage header that is passed on.
struct baggage_limits {
    /// https://www.w3.org/TR/baggage/#limits: a platform MUST propagate baggage-strings up to 8192
    /// bytes and MAY drop members beyond that.
    std::size_t max_bytes = 8192;
    /// #limits asks for at least 64 members; 180 is the limit of earlier drafts that
    /// OpenTelemetry SDKs still apply, so tracegate is the lenient hop, not the strict one.
    std::size_t max_members = 180;
};

/// True when `value` is a well-formed baggage-string (https://www.w3.org/TR/baggage/#definition:
/// `key OWS "=" OWS value
/// *( OWS ";" OWS property )` members separated by ",") within `limits`. Empty members,
/// which combining several header lines can produce, are skipped rather than rejected.
bool is_acceptable_baggage(std::string_view value, const baggage_limits& limits = {}) noexcept;

/// Removes the `baggage` header when it is malformed or over `limits`; otherwise leaves it
/// untouched. Returns true when the header is (still) present.
bool limit_baggage(carrier& headers, const baggage_limits& limits = {});

}  // namespace tracegate::tracing
