// What the OTLP protobuf and JSON decoders share (internal to tracing/): where in the
// request an error is, the grouping of spans by service under the span limit, and the
// rules that make both decoders produce the same span_data from the same request.
#pragma once

#include "tracing/otlp_decoder.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tracegate::tracing::detail {

/// A position in the request, as a chain from the innermost field to the root, built on
/// the stack while decoding and turned into text only for an error:
/// `resource_spans[0].scope_spans[1].spans[3].attributes[2]`.
struct where {
    /// Means "no index": a singular field.
    static constexpr std::size_t no_index = static_cast<std::size_t>(-1);

    const where* parent = nullptr;  ///< The enclosing position; nullptr at the root.
    std::string_view name;          ///< Field name; empty for the root.
    std::size_t index = no_index;   ///< Element of a repeated field.

    /// The path from the root, e.g. `resourceSpans[0].scopeSpans[0]`; empty at the root.
    std::string path() const;
};

/// Throws otlp_decode_error with `at`'s path (when not the root) then `reason`.
[[noreturn]] void fail(const where& at, std::string_view reason);

/// Collects decoded spans into decoded_spans, grouped by service, counting them against
/// the request's span limit.
class span_collector {
public:
    explicit span_collector(std::size_t max_spans) : max_spans_(max_spans) {}

    /// Spans from now on belong to `service` (otlp_unknown_service when empty).
    void begin_resource(std::string_view service);

    /// A new, default span of the current resource; throws when it would be one past the limit.
    span_data& new_span(const where& at);

    /// The spans collected, in order.
    decoded_spans finish() && { return std::move(out_); }

private:
    std::size_t max_spans_;
    std::size_t count_ = 0;
    decoded_spans out_;
    std::map<std::string, std::size_t, std::less<>> services_;  ///< name -> index in out_.by_service
    std::size_t current_ = static_cast<std::size_t>(-1);
};

/// Makes an attribute list keep span_data's invariant (keys unique): a repeated key keeps
/// its first position and takes its last value.
void dedupe_attributes(std::vector<attribute>& attributes);

/// Restores span_data's invariant end >= start (the wall-clock times of another process
/// may say otherwise): a span ending before it starts ends when it starts.
inline void clamp_end(span_data& span) noexcept {
    if (span.end_time_unix_nano < span.start_time_unix_nano) span.end_time_unix_nano = span.start_time_unix_nano;
}

/// SpanFlags (trace.proto): bits 0-7 are W3C trace flags, bit 8 "is-remote known", bit 9
/// "is remote".
inline constexpr std::uint32_t span_flags_context_has_is_remote = 0x100;
inline constexpr std::uint32_t span_flags_context_is_remote = 0x200;

/// Span.flags applied to a span: trace_flags masked to sampled|random (span_data's
/// invariant), parent_is_remote when a parent is set and both remote bits are.
inline void apply_span_flags(span_data& span, std::uint32_t flags) noexcept {
    span.trace_flags = static_cast<std::uint8_t>(flags & (sampled_flag | random_flag));
    constexpr std::uint32_t remote = span_flags_context_has_is_remote | span_flags_context_is_remote;
    span.parent_is_remote = span.parent_span_id.has_value() && (flags & remote) == remote;
}

/// Link.flags applied to a link's context: every W3C bit kept (span_context keeps them),
/// is_remote when both remote bits are set.
inline void apply_link_flags(span_link& link, std::uint32_t flags) noexcept {
    link.context.trace_flags = static_cast<std::uint8_t>(flags & 0xff);
    constexpr std::uint32_t remote = span_flags_context_has_is_remote | span_flags_context_is_remote;
    link.context.is_remote = (flags & remote) == remote;
}

/// Span.SpanKind number to span_kind: 1 internal ... 5 consumer; 0 (unspecified) and
/// numbers a later OTLP may add read as internal, as the specification says to treat
/// an unspecified kind.
span_kind span_kind_from_number(std::int64_t number) noexcept;

/// Status.StatusCode number to status_code; unknown numbers read as unset.
status_code status_code_from_number(std::int64_t number) noexcept;

/// Appends the standard base64 (RFC 4648 §4, padded) of `bytes` to `out`.
void append_base64(std::string_view bytes, std::string& out);

/// Decodes base64, standard or URL-safe alphabet (RFC 4648 §4, §5), padding optional, into
/// `out`; false when `text` is not base64.
bool decode_base64(std::string_view text, std::string& out);

}  // namespace tracegate::tracing::detail
