#include "tests/support/span_file.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tracegate::test {
namespace {

namespace json = boost::json;

std::string text_of(const json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    return json::serialize(v);
}

std::string string_field(const json::object& o, std::string_view key, bool required) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) {
        if (required) throw std::runtime_error("missing field " + std::string(key));
        return {};
    }
    if (!v->is_string()) throw std::runtime_error(std::string(key) + " is not a string");
    return std::string(v->get_string());
}

std::uint64_t number_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v) throw std::runtime_error("missing field " + std::string(key));
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    if (v->is_string()) return std::stoull(std::string(v->get_string()));  // OTLP/JSON style
    throw std::runtime_error(std::string(key) + " is not a non-negative integer");
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    for (std::size_t start = 0;;) {
        const auto at = s.find(sep, start);
        out.emplace_back(s.substr(start, at - start));
        if (at == std::string_view::npos) return out;
        start = at + 1;
    }
}

}  // namespace

std::optional<std::string> span_record::attr(std::string_view key) const {
    const auto* v = attributes.if_contains(key);
    if (!v) return std::nullopt;
    return text_of(*v);
}

span_record parse_span_line(std::string_view line) {
    const json::value doc = json::parse(line);
    if (!doc.is_object()) throw std::runtime_error("a line is not a JSON object");
    const auto& o = doc.get_object();
    span_record s;
    s.line = std::string(line);
    s.trace_id = string_field(o, "traceId", true);
    s.span_id = string_field(o, "spanId", true);
    s.parent_span_id = string_field(o, "parentSpanId", false);
    s.name = string_field(o, "name", true);
    s.kind = string_field(o, "kind", true);
    s.start_ns = number_field(o, "startTimeUnixNano");
    s.end_ns = number_field(o, "endTimeUnixNano");
    if (const auto* a = o.if_contains("attributes"); a && a->is_object()) s.attributes = a->get_object();
    if (const auto* e = o.if_contains("events"); e && e->is_array())
        for (const auto& ev : e->get_array()) s.events.push_back(string_field(ev.as_object(), "name", true));
    if (const auto* l = o.if_contains("links"); l && l->is_array())
        for (const auto& link : l->get_array())
            s.links.emplace_back(string_field(link.as_object(), "traceId", true),
                                 string_field(link.as_object(), "spanId", true));
    if (const auto* st = o.if_contains("status"); st && st->is_object()) {
        s.status_code = string_field(st->get_object(), "code", false);
        s.status_message = string_field(st->get_object(), "message", false);
    }
    if (const auto* f = o.if_contains("traceFlags"); f && f->is_number()) s.trace_flags = f->to_number<std::int64_t>();
    s.trace_state = string_field(o, "traceState", false);
    return s;
}

std::vector<span_record> read_span_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<span_record> spans;
    if (!in) return spans;
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
        const std::string_view line(text.data() + start, nl - start);
        if (line.empty()) continue;
        try {
            spans.push_back(parse_span_line(line));
        } catch (const std::exception& e) {
            throw std::runtime_error(std::string("bad span line (") + e.what() + "): " + std::string(line));
        }
    }
    return spans;  // a trailing line without '\n' is still being written
}

std::vector<span_record> wait_for_spans(const std::string& path,
                                        const std::function<bool(const std::vector<span_record>&)>& done,
                                        std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto spans = read_span_file(path);
        if (done(spans) || std::chrono::steady_clock::now() >= deadline) return spans;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));  // poll interval, not a wait for an event
    }
}

const span_record* find_server_span(const std::vector<span_record>& spans, std::string_view path) {
    for (const auto& s : spans)
        if (s.kind == "SERVER" && s.attr("url.path") == path) return &s;
    return nullptr;
}

std::vector<const span_record*> client_spans_of(const std::vector<span_record>& spans,
                                                const span_record& server) {
    std::vector<const span_record*> out;
    for (const auto& s : spans)
        if (s.kind == "CLIENT" && s.trace_id == server.trace_id && s.parent_span_id == server.span_id)
            out.push_back(&s);
    return out;
}

std::string describe_spans(const std::vector<span_record>& spans) {
    std::string out = std::to_string(spans.size()) + " span(s):\n";
    for (const auto& s : spans) out += "  " + s.line + "\n";
    return out;
}

std::string pad_hex(std::string hex, std::size_t width) {
    return hex.size() < width ? std::string(width - hex.size(), '0') + hex : hex;
}

bool is_hex(std::string_view s, std::size_t n) {
    return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}


std::optional<wire_context> parse_traceparent(std::string_view value) {
    static const std::regex form("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_match(value.begin(), value.end(), m, form)) return std::nullopt;
    const int flags = std::stoi(m[3].str(), nullptr, 16);
    return wire_context{m[1].str(), m[2].str(), (flags & 1) != 0, flags};
}

std::optional<wire_context> read_traceparent(const header_list& h) {
    return parse_traceparent(find_header(h, "traceparent").value_or(""));
}

std::optional<wire_context> read_b3(const header_list& h) {
    const auto parts = split(find_header(h, "b3").value_or(""), '-');
    if (parts.size() < 3 || !is_hex(parts[1], 16)) return std::nullopt;
    return wire_context{parts[0], parts[1], parts[2] == "1" || parts[2] == "d"};
}

std::optional<wire_context> read_b3multi(const header_list& h) {
    auto trace = find_header(h, "X-B3-TraceId"), span = find_header(h, "X-B3-SpanId");
    if (!trace || !span) return std::nullopt;
    return wire_context{*trace, *span, find_header(h, "X-B3-Sampled") == "1" || find_header(h, "X-B3-Flags") == "1"};
}

std::optional<wire_context> read_jaeger(const header_list& h) {
    auto v = find_header(h, "uber-trace-id").value_or("");
    for (std::size_t at; (at = v.find("%3A")) != std::string::npos;) v.replace(at, 3, ":");
    const auto parts = split(v, ':');
    if (parts.size() != 4 || parts[0].empty() || parts[1].empty()) return std::nullopt;
    return wire_context{pad_hex(parts[0], 32), pad_hex(parts[1], 16), (std::stoi(parts[3], nullptr, 16) & 1) != 0};
}

std::optional<wire_context> read_cloudtrace(const header_list& h) {
    static const std::regex form("([0-9a-f]{32})/([0-9]+)(;o=([01]))?");
    std::smatch m;
    const auto v = find_header(h, "X-Cloud-Trace-Context").value_or("");
    if (!std::regex_match(v, m, form)) return std::nullopt;
    char span[17];
    std::snprintf(span, sizeof span, "%016llx", std::stoull(m[2]));
    return wire_context{m[1], span, m[4] == "1"};
}

std::optional<wire_context> read_xray(const header_list& h) {
    wire_context c;
    for (const auto& field : split(find_header(h, "X-Amzn-Trace-Id").value_or(""), ';')) {
        if (field.starts_with("Root=1-") && field.size() == 7 + 8 + 1 + 24)
            c.trace = field.substr(7, 8) + field.substr(16);
        else if (field.starts_with("Parent="))
            c.span = field.substr(7);
        else if (field.starts_with("Sampled="))
            c.sampled = field == "Sampled=1";
    }
    if (c.trace.empty() || c.span.empty()) return std::nullopt;
    return c;
}

}  // namespace tracegate::test
