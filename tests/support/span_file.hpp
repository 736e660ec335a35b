// Reading the JSON-lines span file tracegate writes (`tracing.file`): one span per line.
// The writer flushes in batches about every second, so tests poll with a deadline.
// Also: reading back the trace context each propagation format wrote into headers.
#pragma once

#include "tests/support/header_list.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::test {

/// One span as written to the file.
struct span_record {
    std::string trace_id;        ///< 32 hex.
    std::string span_id;         ///< 16 hex.
    std::string parent_span_id;  ///< 16 hex; empty for a root (absent or "").
    std::string name;
    std::string kind;            ///< "SERVER" or "CLIENT".
    std::uint64_t start_ns = 0;
    std::uint64_t end_ns = 0;
    boost::json::object attributes;
    std::vector<std::string> events;  ///< Event names, in order.
    std::vector<std::pair<std::string, std::string>> links;  ///< (traceId, spanId).
    std::string status_code;     ///< "UNSET", "OK" or "ERROR".
    std::string status_message;
    std::int64_t trace_flags = -1;
    std::string trace_state;
    std::string line;            ///< The raw line, for failure messages.

    /// Attribute `key` as text (numbers and booleans printed); nullopt when absent.
    std::optional<std::string> attr(std::string_view key) const;
};

/// Parses one line; throws std::runtime_error naming what is wrong.
span_record parse_span_line(std::string_view line);

/// The spans in the file at `path`, complete lines only (none when it does not exist yet).
std::vector<span_record> read_span_file(const std::string& path);

/// Polls `path` until `done(spans)` holds or `timeout` passes; returns the last read.
std::vector<span_record> wait_for_spans(const std::string& path,
                                        const std::function<bool(const std::vector<span_record>&)>& done,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// The SERVER span whose `url.path` is `path`, if any.
const span_record* find_server_span(const std::vector<span_record>& spans, std::string_view path);
/// The CLIENT spans whose parent is `server`, in file order.
std::vector<const span_record*> client_spans_of(const std::vector<span_record>& spans,
                                                const span_record& server);

/// "name kind trace/span<-parent status attrs" for each span, one per line.
std::string describe_spans(const std::vector<span_record>& spans);

/// A trace context as one propagation format carried it.
struct wire_context {
    std::string trace;  ///< As written (16 or 32 hex); jaeger's padded to 32.
    std::string span;   ///< 16 hex (cloudtrace's decimal converted).
    bool sampled = false;
    int flags = -1;     ///< The whole flags byte, where the format has one (traceparent).
};

/// `hex` left-padded with zeros to `width`.
std::string pad_hex(std::string hex, std::size_t width);
/// Whether `s` is exactly `n` lowercase hex digits.
bool is_hex(std::string_view s, std::size_t n);

/// A `traceparent` (or `traceresponse`) value of version 00; nullopt when malformed.
std::optional<wire_context> parse_traceparent(std::string_view value);

/// The context in `h` as each format writes it; nullopt when absent or malformed.
std::optional<wire_context> read_traceparent(const header_list& h);  ///< `00-` version only.
std::optional<wire_context> read_b3(const header_list& h);
std::optional<wire_context> read_b3multi(const header_list& h);
std::optional<wire_context> read_jaeger(const header_list& h);       ///< Plain or %3A-encoded.
std::optional<wire_context> read_cloudtrace(const header_list& h);
std::optional<wire_context> read_xray(const header_list& h);

}  // namespace tracegate::test
