#include "proxy/admin_api.hpp"

#include "tracing/gzip.hpp"
#include "tracing/otlp_decoder.hpp"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

#include <charconv>
#include <cmath>

namespace tracegate::proxy {
namespace json = boost::json;
namespace {

/// `v` as a JSON document that is valid UTF-8 (RFC 8259 8.1). Span strings and query
/// parameters come from outside as raw bytes; Boost.JSON writes them unchecked, so every
/// byte sequence that is not UTF-8 becomes U+FFFD (structure is ASCII: only string
/// contents change).
std::string json_text(const json::value& v) {
    const std::string raw = json::serialize(v);
    std::string out;
    out.reserve(raw.size() + 1);
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
    const auto* end = p + raw.size();
    while (p < end) {
        const unsigned char c = *p;
        // RFC 3629 4: the well-formed sequences, overlongs and surrogates excluded.
        std::size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                                      : (c >= 0xF0 && c <= 0xF4)  ? 4 : 0;
        bool ok = n > 0 && static_cast<std::size_t>(end - p) >= n;
        for (std::size_t i = 1; ok && i < n; ++i) ok = (p[i] & 0xC0) == 0x80;
        if (ok && n == 3) ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] > 0x9F);
        if (ok && n == 4) ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] > 0x8F);
        if (ok) {
            out.append(reinterpret_cast<const char*>(p), n);
            p += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++p;
        }
    }
    return out + "\n";
}

admin_reply error_reply(unsigned status, std::string_view reason) {
    return {status, "application/json", json_text(json::object{{"error", reason}})};
}

json::object attributes(const std::vector<tracing::attribute>& list) {
    json::object out;
    for (const auto& a : list) {
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, double>) {
                    // JSON has no NaN or infinities: those go as text.
                    if (std::isfinite(v))
                        out[a.key] = v;
                    else
                        out[a.key] = std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
                } else {
                    out[a.key] = v;
                }
            },
            a.value);
    }
    return out;
}

json::object span_json(const tracing::stored_span& stored) {
    const tracing::span_data& s = stored.span;
    json::array events;
    for (const auto& e : s.events)
        events.emplace_back(json::object{{"name", e.name}, {"timeUnixNano", std::to_string(e.time_unix_nano)}});
    json::array links;
    for (const auto& l : s.links)
        links.emplace_back(json::object{{"traceId", l.context.trace_id.to_hex()},
                                        {"spanId", l.context.span_id.to_hex()},
                                        {"attributes", attributes(l.attributes)}});
    return json::object{
        {"spanId", s.span_id.to_hex()},
        {"parentSpanId", s.parent_span_id ? s.parent_span_id->to_hex() : std::string()},
        {"name", s.name},
        {"service", stored.service},
        {"kind", tracing::kind_name(s.kind)},
        {"startTimeUnixNano", std::to_string(s.start_time_unix_nano)},
        {"endTimeUnixNano", std::to_string(s.end_time_unix_nano)},
        {"durationNanos", s.duration_nanos()},
        {"status", json::object{{"code", tracing::status_name(s.status)}, {"message", s.status_message}}},
        {"attributes", attributes(s.attributes)},
        {"events", std::move(events)},
        {"links", std::move(links)},
    };
}

json::array strings(const std::vector<std::string>& list) {
    json::array out;
    for (const auto& s : list) out.emplace_back(s);
    return out;
}

constexpr std::size_t max_limit = 1000;

}  // namespace

std::optional<std::uint64_t> parse_min_duration_nanos(std::string_view text) {
    if (text.empty()) return std::nullopt;
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || !std::isfinite(value) || value < 0) return std::nullopt;
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    double scale = 0;
    if (unit.empty() || unit == "ms") scale = 1e6;
    else if (unit == "us" || unit == "µs") scale = 1e3;
    else if (unit == "ns") scale = 1;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else return std::nullopt;
    const double nanos = value * scale;
    if (nanos > 1e18) return std::nullopt;
    return static_cast<std::uint64_t>(nanos);
}

admin_reply api_traces(const tracing::trace_store& store, std::string_view query) {
    tracing::trace_query q;
    // A copy that owns its bytes: the views Boost.URL hands out point into it.
    const std::string text(query);
    auto params = boost::urls::parse_query(text);
    if (!params) return error_reply(400, "malformed query string");
    for (const auto encoded : *params) {
        const std::string key = encoded.key.decode();
        const std::string value = encoded.has_value ? encoded.value.decode() : std::string();
        if (key == "service") {
            if (!value.empty()) q.service = value;
        } else if (key == "route") {
            if (!value.empty()) q.route = value;
        } else if (key == "min_duration") {
            if (value.empty()) continue;
            q.min_duration_nanos = parse_min_duration_nanos(value);
            if (!q.min_duration_nanos)
                return error_reply(400, "min_duration: expected a duration like 250ms, 1.5s or 300us, got \"" +
                                            value + "\"");
        } else if (key == "error") {
            if (value == "true" || value == "1") q.errors_only = true;
            else if (value == "false" || value == "0" || value.empty()) q.errors_only = false;
            else return error_reply(400, "error: expected true or false, got \"" + value + "\"");
        } else if (key == "limit") {
            std::size_t n = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc{} || end != value.data() + value.size() || n == 0 || n > max_limit)
                return error_reply(400, "limit: expected a number from 1 to 1000, got \"" + value + "\"");
            q.limit = n;
        } else {
            return error_reply(400, "unknown parameter \"" + key +
                                        "\"; known: service, route, min_duration, error, limit");
        }
    }
    json::array traces;
    for (const auto& t : store.recent(q)) {
        json::object o{
            {"traceId", t.trace_id.to_hex()},
            {"rootName", t.root_name},
            {"rootService", t.root_service},
            {"services", strings(t.services)},
            {"route", t.route ? json::value(*t.route) : json::value(nullptr)},
            {"startTimeUnixNano", std::to_string(t.start_time_unix_nano)},
            {"durationNanos", t.duration_nanos()},
            {"spanCount", t.span_count},
            {"error", t.has_error},
            {"statusCode", t.status_code ? json::value(*t.status_code) : json::value(nullptr)},
            {"truncated", t.truncated},
        };
        traces.emplace_back(std::move(o));
    }
    const auto stats = store.stats();
    json::object out{{"traces", std::move(traces)},
                     {"services", strings(store.services())},
                     {"routes", strings(store.routes())},
                     {"stats", json::object{{"traces", stats.traces}, {"spans", stats.spans}}}};
    return {200, "application/json", json_text(out)};
}

admin_reply api_trace(const tracing::trace_store& store, std::string_view id) {
    std::string lower(id);
    for (char& c : lower)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    const auto trace_id = tracing::trace_id::from_hex(lower);
    if (!trace_id || !trace_id->is_valid())
        return error_reply(400, "trace id: expected 32 hex digits, not all zero");
    const auto spans = store.find(*trace_id);
    if (!spans) return error_reply(404, "trace not found");
    json::array list;
    for (const auto& s : *spans) list.emplace_back(span_json(s));
    return {200, "application/json", json_text(json::object{{"traceId", lower}, {"spans", std::move(list)}})};
}

admin_reply receive_otlp(tracing::trace_store& store, std::string_view content_type,
                         std::string_view content_encoding, std::string_view body, std::uint64_t max_bytes) {
    const std::string_view media = content_type.substr(0, content_type.find(';'));
    const bool protobuf = media == "application/x-protobuf" || media == "application/protobuf";
    const bool is_json = media == "application/json";
    if (!protobuf && !is_json)
        return error_reply(415, "Content-Type must be application/x-protobuf or application/json, got \"" +
                                    std::string(content_type) + "\"");
    if (body.size() > max_bytes) return error_reply(413, "body larger than admin.max_receive_bytes");
    std::string inflated;
    if (content_encoding == "gzip") {
        switch (tracing::gzip_inflate(body, inflated, max_bytes)) {
            case tracing::inflate_result::ok: body = inflated; break;
            case tracing::inflate_result::too_large:
                return error_reply(413, "body inflates past admin.max_receive_bytes");
            case tracing::inflate_result::invalid: return error_reply(400, "body is not valid gzip");
        }
    } else if (!content_encoding.empty() && content_encoding != "identity") {
        return error_reply(415, "Content-Encoding must be gzip or identity, got \"" +
                                    std::string(content_encoding) + "\"");
    }
    tracing::decoded_spans decoded;
    try {
        decoded = protobuf ? tracing::decode_otlp_protobuf(body) : tracing::decode_otlp_json(body);
    } catch (const tracing::otlp_decode_error& e) {
        return error_reply(400, std::string("malformed OTLP ") + (protobuf ? "protobuf" : "JSON") + ": " + e.what());
    }
    for (const auto& [service, spans] : decoded.by_service) store.add(spans, service);
    // An empty ExportTraceServiceResponse: full success.
    if (protobuf) return {200, "application/x-protobuf", ""};
    return {200, "application/json", "{}"};
}

}  // namespace tracegate::proxy
