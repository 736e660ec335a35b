// Id encodings shared by b3_single_propagator and b3_multi_propagator (internal).
// Spec: https://github.com/openzipkin/b3-propagation#identifiers
#pragma once

#include "tracing/ids.hpp"
#include "tracing/span_context.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tracegate::tracing::detail {

/// "TraceId ... is encoded as 32 or 16 lower-hex characters" (64- or 128-bit).
/// Sets `ctx.trace_id` and `ctx.trace_id_64bit`; false when malformed or all zero.
inline bool parse_b3_trace_id(std::string_view text, span_context& ctx) noexcept {
    if (text.size() == trace_id::hex_size) {
        const auto id = trace_id::from_hex(text);
        if (!id || !id->is_valid()) return false;
        ctx.trace_id = *id;
        ctx.trace_id_64bit = false;
        return true;
    }
    if (text.size() == span_id::hex_size) {  // 64-bit: the low half of the 128-bit id
        const auto low = span_id::from_hex(text);
        if (!low || !low->is_valid()) return false;
        ctx.trace_id = trace_id::from_uint64(0, low->to_uint64());
        ctx.trace_id_64bit = true;
        return true;
    }
    return false;
}

/// "SpanId ... encoded as 16 lower-hex characters"; also ParentSpanId. Zero is invalid.
inline std::optional<span_id> parse_b3_span_id(std::string_view text) noexcept {
    const auto id = span_id::from_hex(text);
    if (!id || !id->is_valid()) return std::nullopt;
    return id;
}

/// The trace id as the same format received it: 16 hex digits when it came as 64-bit.
inline std::string format_b3_trace_id(const span_context& ctx) {
    if (ctx.trace_id_64bit && ctx.trace_id.high() == 0)
        return span_id::from_uint64(ctx.trace_id.low()).to_hex();
    return ctx.trace_id.to_hex();
}

}  // namespace tracegate::tracing::detail
