// Spans recorded by a real tracegate arrive, complete and correct, at a real collector on
// loopback in every backend format. The JSON-lines file exporter, running alongside, is the
// record each format is compared with, field by field.
#include "tests/support/collector_sink.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/span_file.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"
#include "tests/support/protobuf_wire.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <ctime>
#include <map>

namespace tracegate::test {
namespace {

namespace pb = tracing::test::pb;
using namespace std::chrono_literals;

/// A span as some backend received it, normalized for comparison.
struct exported_span {
    std::string trace_id, span_id, parent_span_id, name, kind;
    std::uint64_t start_ns = 0, end_ns = 0;
    std::map<std::string, std::string> attributes;  ///< Values as text.
    std::vector<std::string> events;
    std::string status;  ///< "UNSET", "OK", "ERROR".
    std::string status_message;
};

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string json_text(const boost::json::value& v) {
    if (v.is_string()) return std::string(v.as_string());
    if (v.is_bool()) return v.as_bool() ? "true" : "false";
    if (v.is_int64()) return std::to_string(v.as_int64());
    if (v.is_uint64()) return std::to_string(v.as_uint64());
    return boost::json::serialize(v);
}

const std::map<int, std::string> otlp_kinds{{2, "SERVER"}, {3, "CLIENT"}};
const std::map<int, std::string> otlp_status{{0, "UNSET"}, {1, "OK"}, {2, "ERROR"}};

/// OTLP AnyValue (protobuf) as text.
std::string any_value_text(const pb::message& v) {
    if (v.has(1)) return std::string(v.bytes(1));
    if (v.has(2)) return v.varint(2) ? "true" : "false";
    if (v.has(3)) return std::to_string(v.int64(3));
    if (v.has(4)) return std::to_string(v.float64(4));
    return "";
}

/// Resource attributes and spans of an OTLP protobuf ExportTraceServiceRequest.
void decode_otlp_protobuf(std::string_view body, std::map<std::string, std::string>& resource,
                          std::string& scope, std::vector<exported_span>& out) {
    const pb::message request = pb::message::parse(body);
    for (const pb::message& rs : request.repeated(1)) {
        for (const pb::message& kv : rs.sub(1).repeated(1))
            resource[std::string(kv.bytes(1))] = any_value_text(kv.sub(2));
        for (const pb::message& ss : rs.repeated(2)) {
            scope = std::string(ss.sub(1).bytes(1)) + " " + std::string(ss.sub(1).bytes(2));
            for (const pb::message& s : ss.repeated(2)) {
                exported_span e;
                e.trace_id = hex(s.bytes(1));
                e.span_id = hex(s.bytes(2));
                if (s.has(4)) e.parent_span_id = hex(s.bytes(4));
                e.name = std::string(s.bytes(5));
                e.kind = otlp_kinds.at(static_cast<int>(s.varint(6)));
                e.start_ns = s.fixed64(7);
                e.end_ns = s.fixed64(8);
                for (const pb::message& kv : s.repeated(9))
                    e.attributes[std::string(kv.bytes(1))] = any_value_text(kv.sub(2));
                for (const pb::message& ev : s.repeated(11)) e.events.emplace_back(ev.bytes(2));
                e.status = "UNSET";
                if (s.has(15)) {
                    const pb::message st = s.sub(15);
                    if (st.has(3)) e.status = otlp_status.at(static_cast<int>(st.varint(3)));
                    if (st.has(2)) e.status_message = std::string(st.bytes(2));
                }
                out.push_back(std::move(e));
            }
        }
    }
}

std::string otlp_json_value(const boost::json::object& v) {
    if (const auto* s = v.if_contains("stringValue")) return std::string(s->as_string());
    if (const auto* b = v.if_contains("boolValue")) return b->as_bool() ? "true" : "false";
    if (const auto* i = v.if_contains("intValue")) return std::string(i->as_string());  // int64 as a string
    if (const auto* d = v.if_contains("doubleValue")) return std::to_string(d->to_number<double>());
    return "";
}

void decode_otlp_json(std::string_view body, std::map<std::string, std::string>& resource, std::string& scope,
                      std::vector<exported_span>& out) {
    const boost::json::object request = boost::json::parse(body).as_object();
    for (const auto& rs : request.at("resourceSpans").as_array()) {
        for (const auto& kv : rs.at("resource").at("attributes").as_array())
            resource[std::string(kv.at("key").as_string())] = otlp_json_value(kv.at("value").as_object());
        for (const auto& ss : rs.at("scopeSpans").as_array()) {
            scope = std::string(ss.at("scope").at("name").as_string()) + " " +
                    std::string(ss.at("scope").at("version").as_string());
            for (const auto& sv : ss.at("spans").as_array()) {
                const auto& s = sv.as_object();
                exported_span e;
                e.trace_id = s.at("traceId").as_string();
                e.span_id = s.at("spanId").as_string();
                if (const auto* p = s.if_contains("parentSpanId")) e.parent_span_id = p->as_string();
                e.name = s.at("name").as_string();
                e.kind = otlp_kinds.at(static_cast<int>(s.at("kind").as_int64()));
                e.start_ns = std::stoull(std::string(s.at("startTimeUnixNano").as_string()));
                e.end_ns = std::stoull(std::string(s.at("endTimeUnixNano").as_string()));
                for (const auto& kv : s.at("attributes").as_array())
                    e.attributes[std::string(kv.at("key").as_string())] = otlp_json_value(kv.at("value").as_object());
                if (const auto* events = s.if_contains("events"))
                    for (const auto& ev : events->as_array()) e.events.emplace_back(ev.at("name").as_string());
                e.status = "UNSET";
                if (const auto* st = s.if_contains("status")) {
                    if (const auto* c = st->as_object().if_contains("code"))
                        e.status = otlp_status.at(static_cast<int>(c->as_int64()));
                    if (const auto* m = st->as_object().if_contains("message")) e.status_message = m->as_string();
                }
                out.push_back(std::move(e));
            }
        }
    }
}

void decode_zipkin(std::string_view body, std::vector<exported_span>& out, std::string& service) {
    const boost::json::value spans = boost::json::parse(body);
    for (const auto& sv : spans.as_array()) {
        const auto& s = sv.as_object();
        exported_span e;
        e.trace_id = s.at("traceId").as_string();
        e.span_id = s.at("id").as_string();
        if (const auto* p = s.if_contains("parentId")) e.parent_span_id = p->as_string();
        e.name = s.at("name").as_string();
        e.kind = s.at("kind").as_string();
        e.start_ns = s.at("timestamp").to_number<std::uint64_t>() * 1000;
        e.end_ns = e.start_ns + s.at("duration").to_number<std::uint64_t>() * 1000;
        service = s.at("localEndpoint").at("serviceName").as_string();
        if (const auto* tags = s.if_contains("tags"))
            for (const auto& [k, v] : tags->as_object()) e.attributes[std::string(k)] = v.as_string();
        if (const auto* annotations = s.if_contains("annotations"))
            for (const auto& a : annotations->as_array()) e.events.emplace_back(a.at("value").as_string());
        out.push_back(std::move(e));
    }
}

/// "2026-11-24T10:00:00.123456789Z" as unix nanoseconds.
std::uint64_t rfc3339_nanos(std::string_view text) {
    std::tm tm{};
    const std::string s(text);
    const char* rest = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    EXPECT_NE(rest, nullptr) << text;
    if (!rest) return 0;
    std::uint64_t nanos = 0;
    if (*rest == '.') {
        std::string digits;
        for (++rest; *rest >= '0' && *rest <= '9'; ++rest) digits += *rest;
        digits.resize(9, '0');
        nanos = std::stoull(digits);
    }
    EXPECT_STREQ(rest, "Z") << text;
    return static_cast<std::uint64_t>(::timegm(&tm)) * 1'000'000'000ull + nanos;
}

void decode_cloudtrace(std::string_view body, const std::string& project, std::vector<exported_span>& out) {
    const boost::json::value batch = boost::json::parse(body);
    for (const auto& sv : batch.at("spans").as_array()) {
        const auto& s = sv.as_object();
        exported_span e;
        const std::string name(s.at("name").as_string());
        const std::string prefix = "projects/" + project + "/traces/";
        EXPECT_EQ(name.rfind(prefix, 0), 0u) << name;
        e.trace_id = name.substr(prefix.size(), 32);
        e.span_id = s.at("spanId").as_string();
        EXPECT_EQ(name, prefix + e.trace_id + "/spans/" + e.span_id);
        if (const auto* p = s.if_contains("parentSpanId")) e.parent_span_id = p->as_string();
        e.name = s.at("displayName").at("value").as_string();
        e.kind = s.at("spanKind").as_string();
        e.start_ns = rfc3339_nanos(s.at("startTime").as_string());
        e.end_ns = rfc3339_nanos(s.at("endTime").as_string());
        for (const auto& [k, v] : s.at("attributes").at("attributeMap").as_object()) {
            const auto& a = v.as_object();
            if (const auto* str = a.if_contains("stringValue")) e.attributes[std::string(k)] = str->at("value").as_string();
            if (const auto* i = a.if_contains("intValue")) e.attributes[std::string(k)] = json_text(*i);
            if (const auto* b = a.if_contains("boolValue")) e.attributes[std::string(k)] = json_text(*b);
        }
        if (const auto* te = s.if_contains("timeEvents"))
            for (const auto& ev : te->at("timeEvent").as_array())
                e.events.emplace_back(ev.at("annotation").at("description").at("value").as_string());
        e.status = "UNSET";
        if (const auto* st = s.if_contains("status")) {
            const auto* code = st->as_object().if_contains("code");
            if (code && code->to_number<int>() != 0) e.status = "ERROR";
            if (const auto* m = st->as_object().if_contains("message")) e.status_message = m->as_string();
        }
        out.push_back(std::move(e));
    }
}

class export_formats : public ::testing::Test {
protected:
    /// Starts tracegate with the file exporter plus `exporter` (YAML of one list item,
    /// indented for `exporters:`), sends one traced request and one failing request,
    /// and returns the spans of the file (the reference).
    std::vector<span_record> run(const std::string& exporter, process_options options = {}) {
        spans_path_ = dir_.path() + "/spans.jsonl";
        const std::string yaml = fill(R"(service_name: export-test
workers: 2
listeners:
  - {name: main, address: 127.0.0.1:0}
upstreams:
  - {name: app, endpoints: [${endpoint}]}
  - {name: gone, endpoints: [${refused}]}
routes:
  - {name: broken, match: {path_prefix: /broken}, upstream: gone}
  - {name: users, match: {path_prefix: /}, upstream: app}
tracing:
  export: {flush_interval: 100ms}
  tags: [{name: region, literal: eu}]
  exporters:
    - {type: file, path: ${file}}
${exporter}
)",
                                      {{"endpoint", up_.address()},
                                       {"refused", refused_.address()},
                                       {"file", spans_path_},
                                       {"exporter", exporter}});
        proxy_ = std::make_unique<tracegate_process>(yaml, std::move(options));
        EXPECT_TRUE(proxy_->wait_ready(ready_timeout));
        http_client client(proxy_->port());
        auto ok = client.get("/users/42?x=1", {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                                               {"user-agent", "export-test/1 \"quoted\""}});
        EXPECT_EQ(ok.status, 200);
        auto broken = client.get("/broken");
        EXPECT_EQ(broken.status, 502);
        // 2 spans for /users (server, client), 2 for /broken.
        return wait_for_spans(spans_path_, [](const auto& s) { return s.size() >= 4; });
    }

    /// Every span of the file has its twin among `got` with the same fields.
    void expect_same_spans(const std::vector<span_record>& want, const std::vector<exported_span>& got,
                           std::uint64_t time_resolution_ns = 1, bool status_as_tags = false) {
        ASSERT_EQ(got.size(), want.size()) << describe_spans(want);
        for (const span_record& w : want) {
            const auto it = std::find_if(got.begin(), got.end(), [&](const auto& g) { return g.span_id == w.span_id; });
            ASSERT_NE(it, got.end()) << "span " << w.span_id << " did not arrive";
            const exported_span& g = *it;
            SCOPED_TRACE("span " + w.name + " " + w.span_id);
            EXPECT_EQ(g.trace_id, w.trace_id);
            EXPECT_EQ(g.parent_span_id, w.parent_span_id);
            EXPECT_EQ(g.name, w.name);
            EXPECT_EQ(g.kind, w.kind);
            EXPECT_EQ(g.start_ns, w.start_ns / time_resolution_ns * time_resolution_ns);
            const std::uint64_t duration = w.end_ns - w.start_ns;
            EXPECT_NEAR(static_cast<double>(g.end_ns - g.start_ns), static_cast<double>(duration),
                        static_cast<double>(time_resolution_ns));
            for (const auto& [key, value] : w.attributes)
                EXPECT_EQ(g.attributes.count(std::string(key)) ? g.attributes.at(std::string(key)) : "<absent>",
                          *w.attr(key))
                    << key;
            EXPECT_EQ(g.events, w.events);
            if (status_as_tags) {
                if (w.status_code == "ERROR") {
                    EXPECT_EQ(g.attributes.count("error"), 1u);
                } else {
                    EXPECT_EQ(g.attributes.count("error"), 0u);
                }
            } else {
                EXPECT_EQ(g.status, w.status_code);
                EXPECT_EQ(g.status_message, w.status_message);
            }
        }
    }

    void expect_resource(const std::map<std::string, std::string>& resource, const std::string& scope) {
        EXPECT_EQ(resource.at("service.name"), "export-test");
        EXPECT_EQ(resource.at("process.pid"), std::to_string(proxy_->pid()));
        EXPECT_EQ(resource.at("telemetry.sdk.name"), "tracegate");
        EXPECT_EQ(resource.at("telemetry.sdk.language"), "cpp");
        EXPECT_FALSE(resource.at("host.name").empty());
        EXPECT_EQ(resource.at("service.instance.id").size(), 36u);
        EXPECT_EQ(scope.substr(0, 10), "tracegate ");
    }

    /// Waits until the sink got every span of `want` (across however many requests).
    template <typename Decode>
    std::vector<exported_span> collect(std::size_t want, Decode decode) {
        std::vector<exported_span> got;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        for (std::size_t seen = 0;;) {
            sink_.wait_for_requests(seen + 1, 200ms);
            const auto requests = sink_.requests();
            for (; seen < requests.size(); ++seen) decode(requests[seen], got);
            if (got.size() >= want || std::chrono::steady_clock::now() > deadline) return got;
        }
    }

    temp_dir dir_;
    upstream_server up_;
    refused_port refused_;
    collector_sink sink_;
    std::string spans_path_;
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(export_formats, otlp_protobuf_carries_every_field_and_the_resource) {
    const auto want = run("    - {type: otlp, endpoint: '" + sink_.url("/v1/traces") + "'}");
    std::map<std::string, std::string> resource;
    std::string scope;
    const auto got = collect(want.size(), [&](const sink_request& r, std::vector<exported_span>& out) {
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.target, "/v1/traces");
        EXPECT_EQ(r.header("content-type"), "application/x-protobuf");
        decode_otlp_protobuf(r.decoded_body, resource, scope, out);
    });
    expect_same_spans(want, got);
    expect_resource(resource, scope);
}

TEST_F(export_formats, otlp_json_gzip_with_headers_from_the_environment) {
    process_options options;
    options.env = {{"COLLECTOR_TOKEN", "s3cret"}, {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test,team=a%2Cb"}};
    const auto want = run("    - type: otlp\n      endpoint: '" + sink_.url("/otlp/v1/traces") +
                              "'\n      encoding: json\n      compression: gzip\n"
                              "      headers: {authorization: 'Bearer ${COLLECTOR_TOKEN}'}",
                          options);
    std::map<std::string, std::string> resource;
    std::string scope;
    const auto got = collect(want.size(), [&](const sink_request& r, std::vector<exported_span>& out) {
        EXPECT_EQ(r.target, "/otlp/v1/traces");
        EXPECT_EQ(r.header("content-type"), "application/json");
        EXPECT_EQ(r.header("content-encoding"), "gzip");
        EXPECT_EQ(r.header("authorization"), "Bearer s3cret");
        EXPECT_FALSE(r.decode_failed);
        EXPECT_LT(r.body.size(), r.decoded_body.size());
        decode_otlp_json(r.decoded_body, resource, scope, out);
    });
    expect_same_spans(want, got);
    expect_resource(resource, scope);
    EXPECT_EQ(resource["deployment.environment"], "test");
    EXPECT_EQ(resource["team"], "a,b");
}

TEST_F(export_formats, an_otlp_endpoint_in_the_environment_is_enough) {
    process_options options;
    options.env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", sink_.url("")},
                   {"OTEL_EXPORTER_OTLP_HEADERS", "x-scope-orgid=tenant%201"}};
    // The config has no `exporters:` list, so the variable adds an otlp exporter.
    proxy_ = std::make_unique<tracegate_process>(single_upstream_config(up_.address()), options);
    ASSERT_TRUE(proxy_->wait_ready(ready_timeout));
    http_client client(proxy_->port());
    EXPECT_EQ(client.get("/env").status, 200);
    const auto got = collect(2, [&](const sink_request& r, std::vector<exported_span>& out) {
        EXPECT_EQ(r.target, "/v1/traces");
        EXPECT_EQ(r.header("x-scope-orgid"), "tenant 1");
        std::map<std::string, std::string> resource;
        std::string scope;
        decode_otlp_protobuf(r.decoded_body, resource, scope, out);
    });
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].trace_id, got[1].trace_id);
}

TEST_F(export_formats, zipkin_v2_json) {
    const auto want = run("    - {type: zipkin, endpoint: '" + sink_.url("/api/v2/spans") + "'}");
    std::string service;
    const auto got = collect(want.size(), [&](const sink_request& r, std::vector<exported_span>& out) {
        EXPECT_EQ(r.target, "/api/v2/spans");
        EXPECT_EQ(r.header("content-type"), "application/json");
        decode_zipkin(r.decoded_body, out, service);
    });
    expect_same_spans(want, got, 1000, /*status_as_tags=*/true);
    EXPECT_EQ(service, "export-test");
}

TEST_F(export_formats, cloud_trace_v2_batch_write_with_a_token_file) {
    const std::string token = dir_.write("token", "ya29.test-token\n");
    const auto want = run("    - {type: cloudtrace, project_id: tg-test, endpoint: '" + sink_.url("") +
                          "', token_file: " + token + "}");
    const auto got = collect(want.size(), [&](const sink_request& r, std::vector<exported_span>& out) {
        EXPECT_EQ(r.target, "/v2/projects/tg-test/traces:batchWrite");
        EXPECT_EQ(r.header("authorization"), "Bearer ya29.test-token");
        decode_cloudtrace(r.decoded_body, "tg-test", out);
    });
    ASSERT_EQ(got.size(), want.size());
    for (const span_record& w : want) {
        const auto it = std::find_if(got.begin(), got.end(), [&](const auto& g) { return g.span_id == w.span_id; });
        ASSERT_NE(it, got.end());
        EXPECT_EQ(it->trace_id, w.trace_id);
        EXPECT_EQ(it->parent_span_id, w.parent_span_id);
        EXPECT_EQ(it->name, w.name);
        EXPECT_EQ(it->kind, w.kind);
        EXPECT_EQ(it->start_ns, w.start_ns);
        EXPECT_EQ(it->end_ns, w.end_ns);
        EXPECT_EQ(it->events, w.events);
        EXPECT_EQ(it->status, w.status_code == "ERROR" ? "ERROR" : "UNSET");
        EXPECT_EQ(it->status_message, w.status_message);
        // Cloud Trace keeps at most 32 attributes; ours fit, so each must be there.
        for (const auto& [key, value] : w.attributes)
            EXPECT_EQ(it->attributes.count(std::string(key)) ? it->attributes.at(std::string(key)) : "<absent>",
                      *w.attr(key))
                << key;
    }
}

TEST_F(export_formats, cloud_trace_rereads_a_rotated_token_file) {
    const std::string token = dir_.write("token", "first-token");
    run("    - {type: cloudtrace, project_id: p, endpoint: '" + sink_.url("") + "', token_file: " + token + "}");
    ASSERT_TRUE(sink_.wait_for_requests(1, 10s));
    EXPECT_EQ(sink_.requests().back().header("authorization"), "Bearer first-token");
    dir_.write("token", "second-token-longer");
    const std::size_t before = sink_.request_count();
    http_client client(proxy_->port());
    EXPECT_EQ(client.get("/again").status, 200);
    ASSERT_TRUE(sink_.wait_for_requests(before + 1, 10s));
    EXPECT_EQ(sink_.requests().back().header("authorization"), "Bearer second-token-longer");
}

}  // namespace
}  // namespace tracegate::test
