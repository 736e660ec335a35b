// Issue 3 through a real tracegate: the span tree written to the span file, the trace
// headers the upstream sees for each format in and out, traceresponse, request ids,
// attributes and tags, error status, sampling with its exceptions, and untrusted ingress.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/span_file.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tracegate::test {
namespace {

const std::string in_trace = "4bf92f3577b34da6a3ce929d0e0e4736";  ///< What clients send.
const std::string in_span = "00f067aa0ba902b7";
const std::string in_trace64 = "a3ce929d0e0e4736";
const std::string tracestate = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

struct options {
    bool trust = true;
    bool upstream_span = true;
    std::string ratio = "1.0";
    std::string slower_than = "2s";
    std::optional<std::string> endpoint{};  ///< Instead of the upstream_server.
};

class tracing : public ::testing::Test {
protected:
    void start(const options& o = {}) {
        spans_path_ = dir_.path() + "/spans.jsonl";
        const auto yaml = fill(R"(service_name: itest
workers: 2
listeners:
  - {name: main, address: 127.0.0.1:0, trust_incoming_trace: ${trust}}
upstreams:
  - {name: app, endpoints: [${endpoint}]}
routes:
  - {name: stats, match: {path_prefix: /stats/}, upstream: app, span_name: "TaskQueue.Stats {path}"}
  - name: users
    match: {path_prefix: /}
    upstream: app
    span_name: "{method} {route}"
    tags: [{name: user, header: x-user-id}]
tracing:
  propagation: {extract: [tracecontext, b3multi, b3, jaeger, cloudtrace, xray], inject: [tracecontext]}
  upstream_span: ${upstream_span}
  response_header: true
  request_id_header: x-request-id
  sampling: {ratio: ${ratio}, parent_based: true, keep: {errors: true, slower_than: ${slower}}}
  tags: [{name: tenant, header: x-tenant}, {name: region, literal: eu}]
  file: ${file}
)",
                               {{"trust", o.trust ? "true" : "false"},
                                {"endpoint", o.endpoint.value_or(up_.address())},
                                {"upstream_span", o.upstream_span ? "true" : "false"},
                                {"ratio", o.ratio},
                                {"slower", o.slower_than},
                                {"file", spans_path_}});
        proxy_ = start_proxy(yaml);
        ASSERT_TRUE(proxy_);
        client_ = std::make_unique<http_client>(proxy_->port("main"), io_timeout);
        ASSERT_TRUE(client_->connected()) << client_->connect_error().message();
    }

    /// GET `path`; the response must come back (any status).
    http_response get(const std::string& path, const header_list& headers = {}) {
        auto r = client_->get(path, headers);
        EXPECT_FALSE(r.error) << path << ": " << r.describe();
        return r;
    }

    /// The request the upstream saw for `path` (the last one with that target).
    recorded_request seen(const std::string& path) {
        EXPECT_TRUE(up_.wait_for_requests(1, io_timeout));
        const auto all = up_.requests();
        for (auto it = all.rbegin(); it != all.rend(); ++it)
            if (it->target == path) return *it;
        ADD_FAILURE() << "the upstream never saw " << path;
        return {};
    }

    /// Waits for the server spans of every path in `paths`, and for their client spans
    /// when `with_client`; returns what the file holds then.
    std::vector<span_record> spans_for(std::vector<std::string> paths, bool with_client = true) {
        auto spans = wait_for_spans(spans_path_, [&](const std::vector<span_record>& all) {
            for (const auto& path : paths) {
                const auto* s = find_server_span(all, path);
                if (!s || (with_client && client_spans_of(all, *s).empty())) return false;
            }
            return true;
        });
        for (const auto& path : paths)
            EXPECT_TRUE(find_server_span(spans, path)) << "no SERVER span for " << path << "; " << describe_spans(spans);
        return spans;
    }

    temp_dir dir_;
    std::string spans_path_;
    upstream_server up_{"app"};
    std::unique_ptr<tracegate_process> proxy_;
    std::unique_ptr<http_client> client_;
};

using reader = std::optional<wire_context> (*)(const header_list&);
struct format_info {
    std::string_view name;
    reader read;
    std::vector<std::string_view> headers;  ///< Every header the format owns.
};
const std::vector<format_info> formats{
    {"tracecontext", read_traceparent, {"traceparent", "tracestate"}},
    {"b3", read_b3, {"b3"}},
    {"b3multi", read_b3multi, {"X-B3-TraceId", "X-B3-SpanId", "X-B3-ParentSpanId", "X-B3-Sampled", "X-B3-Flags"}},
    {"jaeger", read_jaeger, {"uber-trace-id"}},
    {"cloudtrace", read_cloudtrace, {"X-Cloud-Trace-Context"}},
    {"xray", read_xray, {"X-Amzn-Trace-Id"}},
};

// ---- the span tree, names, traceresponse ----------------------------------------------

TEST_F(tracing, a_request_without_context_gets_a_root_server_span_and_a_client_span_that_is_injected) {
    ASSERT_NO_FATAL_FAILURE(start());
    const auto r = get("/users/1");
    ASSERT_EQ(r.status, 200u) << r.describe();
    const auto spans = spans_for({"/users/1"});
    const auto* server = find_server_span(spans, "/users/1");
    ASSERT_TRUE(server);
    const auto clients = client_spans_of(spans, *server);
    ASSERT_EQ(clients.size(), 1u) << describe_spans(spans);
    const auto& client = *clients[0];

    EXPECT_TRUE(is_hex(server->trace_id, 32) && server->trace_id != std::string(32, '0')) << server->line;
    EXPECT_TRUE(is_hex(server->span_id, 16) && server->span_id != std::string(16, '0')) << server->line;
    EXPECT_EQ(server->parent_span_id, "") << "a request without context must start a root";
    EXPECT_EQ(server->name, "GET users");
    EXPECT_EQ(client.kind, "CLIENT");
    EXPECT_NE(client.span_id, server->span_id);
    EXPECT_LE(server->start_ns, client.start_ns);
    EXPECT_LE(client.start_ns, client.end_ns);
    EXPECT_LE(client.end_ns, server->end_ns) << "the client span must end within the server span";
    EXPECT_GT(server->start_ns, 1'600'000'000'000'000'000ull) << "start is not wall-clock nanoseconds";

    const auto ctx = read_traceparent(seen("/users/1").headers);
    ASSERT_TRUE(ctx) << "no valid traceparent upstream: " << seen("/users/1").header("traceparent").value_or("(none)");
    EXPECT_EQ(ctx->trace, server->trace_id);
    EXPECT_EQ(ctx->span, client.span_id) << "the upstream must be told the CLIENT span is its parent";
    EXPECT_TRUE(ctx->sampled);
    // A new root's flags may add W3C Level 2 `random` (02) to sampled (01); both ways agree.
    EXPECT_EQ(ctx->flags, server->trace_flags);
    const auto back = parse_traceparent(r.header("traceresponse").value_or(""));
    ASSERT_TRUE(back) << "no valid traceresponse: " << r.describe();
    EXPECT_EQ(back->trace, server->trace_id);
    EXPECT_EQ(back->span, server->span_id) << "traceresponse must name the SERVER span";
    EXPECT_EQ(back->flags, server->trace_flags);
}

TEST_F(tracing, span_names_follow_the_route_template) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_EQ(get("/stats/today").status, 200u);
    ASSERT_EQ(client_->request("POST", "/users/9", {}, "x").status, 200u);
    const auto spans = spans_for({"/stats/today", "/users/9"});
    if (auto* s = find_server_span(spans, "/stats/today")) { EXPECT_EQ(s->name, "TaskQueue.Stats /stats/today"); }
    if (auto* s = find_server_span(spans, "/users/9")) { EXPECT_EQ(s->name, "POST users"); }
}

TEST_F(tracing, without_upstream_span_the_server_span_is_injected_and_no_client_span_recorded) {
    ASSERT_NO_FATAL_FAILURE(start({.upstream_span = false}));
    ASSERT_EQ(get("/solo").status, 200u);
    const auto spans = spans_for({"/solo"}, false);
    const auto* server = find_server_span(spans, "/solo");
    ASSERT_TRUE(server);
    EXPECT_TRUE(client_spans_of(spans, *server).empty()) << describe_spans(spans);
    const auto ctx = read_traceparent(seen("/solo").headers);
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->trace, server->trace_id);
    EXPECT_EQ(ctx->span, server->span_id);
}

// ---- every format in, the same context out ---------------------------------------------

struct format_case {
    std::string name;
    header_list in;
    std::string_view format;     ///< The format that arrived (besides tracecontext out).
    std::string native_trace;    ///< The trace id as that format must carry it on.
    std::string parent;          ///< The incoming span id.
};
void PrintTo(const format_case& c, std::ostream* out) { *out << c.name; }

class tracing_formats : public tracing, public ::testing::WithParamInterface<format_case> {};

TEST_P(tracing_formats, the_upstream_gets_traceparent_and_the_arrived_format_naming_the_client_span) {
    const auto& c = GetParam();
    ASSERT_NO_FATAL_FAILURE(start());
    const auto r = get("/fmt", c.in);
    ASSERT_EQ(r.status, 200u) << r.describe();
    const auto spans = spans_for({"/fmt"});
    const auto* server = find_server_span(spans, "/fmt");
    ASSERT_TRUE(server);
    const auto clients = client_spans_of(spans, *server);
    ASSERT_EQ(clients.size(), 1u) << describe_spans(spans);
    const std::string trace32 = pad_hex(c.native_trace, 32);
    EXPECT_EQ(server->trace_id, trace32) << "the incoming trace was not continued";
    EXPECT_EQ(server->parent_span_id, c.parent) << "the server span is not a child of the incoming span";
    EXPECT_EQ(r.header("traceresponse"), "00-" + trace32 + "-" + server->span_id + "-01");

    const auto up = seen("/fmt");
    for (const auto& f : formats) {
        SCOPED_TRACE(std::string(f.name));
        for (auto h : f.headers) EXPECT_LE(count_header(up.headers, h), 1u) << h << " sent more than once";
        if (f.name != "tracecontext" && f.name != c.format) {
            for (auto h : f.headers) { EXPECT_FALSE(up.has_header(h)) << h << ": " << up.header(h).value_or(""); }
            continue;
        }
        const auto ctx = f.read(up.headers);
        ASSERT_TRUE(ctx) << "missing or malformed upstream header(s) of " << f.name;
        EXPECT_EQ(ctx->trace, f.name == c.format ? c.native_trace : trace32);
        EXPECT_EQ(ctx->span, clients[0]->span_id);
        EXPECT_TRUE(ctx->sampled);
    }
    if (c.format == "tracecontext") { EXPECT_EQ(up.header("tracestate"), tracestate); }
    if (auto parent = up.header("X-B3-ParentSpanId")) { EXPECT_EQ(*parent, server->span_id); }
}

INSTANTIATE_TEST_SUITE_P(
    tracing_by_format, tracing_formats,
    ::testing::Values(
        format_case{"tracecontext", {{"traceparent", "00-" + in_trace + "-" + in_span + "-01"}, {"tracestate", tracestate}}, "tracecontext", in_trace, in_span},
        format_case{"b3_single", {{"b3", in_trace + "-" + in_span + "-1"}}, "b3", in_trace, in_span},
        format_case{"b3_single_64bit", {{"b3", in_trace64 + "-" + in_span + "-1"}}, "b3", in_trace64, in_span},
        format_case{"b3multi", {{"X-B3-TraceId", in_trace}, {"X-B3-SpanId", in_span}, {"X-B3-Sampled", "1"}}, "b3multi", in_trace, in_span},
        format_case{"b3multi_64bit", {{"X-B3-TraceId", in_trace64}, {"X-B3-SpanId", in_span}, {"X-B3-Sampled", "1"}}, "b3multi", in_trace64, in_span},
        format_case{"jaeger", {{"uber-trace-id", in_trace + ":" + in_span + ":0:1"}}, "jaeger", in_trace, in_span},
        format_case{"cloudtrace_unsigned_decimal", {{"X-Cloud-Trace-Context", in_trace + "/13235353014750950193;o=1"}}, "cloudtrace", in_trace, "b7ad6b7169203331"},
        format_case{"xray", {{"X-Amzn-Trace-Id", "Root=1-" + in_trace.substr(0, 8) + "-" + in_trace.substr(8) + ";Parent=" + in_span + ";Sampled=1"}}, "xray", in_trace, in_span}),
    [](const auto& info) { return info.param.name; });

TEST_F(tracing, conflicting_trace_headers_are_all_replaced_by_one_context) {
    ASSERT_NO_FATAL_FAILURE(start());
    const std::string other = "11111111111111111111111111111111";
    ASSERT_EQ(get("/mixed", {{"traceparent", "00-" + in_trace + "-" + in_span + "-01"},
                             {"b3", other + "-2222222222222222-1"},
                             {"X-B3-TraceId", other}, {"X-B3-SpanId", "3333333333333333"},
                             {"X-B3-ParentSpanId", "1111111111111111"}, {"X-B3-Sampled", "1"},
                             {"uber-trace-id", other + ":4444444444444444:0:1"}})
                  .status, 200u);
    const auto spans = spans_for({"/mixed"});
    const auto* server = find_server_span(spans, "/mixed");
    ASSERT_TRUE(server);
    EXPECT_EQ(server->trace_id, in_trace) << "tracecontext is first in extract: it must win";
    const auto clients = client_spans_of(spans, *server);
    ASSERT_EQ(clients.size(), 1u);
    const auto up = seen("/mixed");
    for (const auto& f : formats) {
        if (f.name == "cloudtrace" || f.name == "xray") continue;
        SCOPED_TRACE(std::string(f.name));
        const auto ctx = f.read(up.headers);
        ASSERT_TRUE(ctx);
        EXPECT_EQ(ctx->trace, in_trace);
        EXPECT_EQ(ctx->span, clients[0]->span_id);
    }
    for (const auto& [name, value] : up.headers)
        EXPECT_EQ(value.find("1111111111111111"), std::string::npos) << "stale context upstream: " << name << ": " << value;
}

// ---- an invalid traceparent starts a new trace ------------------------------------------

class tracing_invalid_traceparent : public tracing,
                                    public ::testing::WithParamInterface<std::pair<std::string, std::string>> {};

TEST_P(tracing_invalid_traceparent, starts_a_new_trace_without_tracestate) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_EQ(get("/bad", {{"traceparent", GetParam().second}, {"tracestate", tracestate}}).status, 200u);
    const auto spans = spans_for({"/bad"});
    const auto* server = find_server_span(spans, "/bad");
    ASSERT_TRUE(server);
    EXPECT_EQ(server->parent_span_id, "");
    EXPECT_NE(server->trace_id, in_trace);
    const auto up = seen("/bad");
    const auto ctx = read_traceparent(up.headers);
    ASSERT_TRUE(ctx) << up.header("traceparent").value_or("(none)");
    EXPECT_EQ(ctx->trace, server->trace_id);
    EXPECT_NE(ctx->trace, in_trace);
    EXPECT_FALSE(up.has_header("tracestate")) << *up.header("tracestate");
}

INSTANTIATE_TEST_SUITE_P(
    tracing_by_defect, tracing_invalid_traceparent,
    ::testing::Values(std::pair{"uppercase_hex", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"},
                      std::pair{"zero_trace_id", "00-00000000000000000000000000000000-" + in_span + "-01"},
                      std::pair{"zero_span_id", "00-" + in_trace + "-0000000000000000-01"},
                      std::pair{"version_ff", "ff-" + in_trace + "-" + in_span + "-01"},
                      std::pair{"short_trace_id", "00-" + in_trace.substr(1) + "-" + in_span + "-01"},
                      std::pair{"version_00_with_extra_field", "00-" + in_trace + "-" + in_span + "-01-extra"}),
    [](const auto& info) { return info.param.first; });

// ---- request ids, attributes, tags -------------------------------------------------------

TEST_F(tracing, a_request_id_is_generated_forwarded_returned_and_recorded) {
    ASSERT_NO_FATAL_FAILURE(start());
    for (const std::string& sent : {std::string(), std::string("req-abc-123")}) {
        SCOPED_TRACE(sent.empty() ? "generated" : "kept");
        const std::string path = sent.empty() ? "/rid/new" : "/rid/kept";
        const auto r = get(path, sent.empty() ? header_list{} : header_list{{"x-request-id", sent}});
        const auto id = r.header("x-request-id").value_or("");
        EXPECT_FALSE(id.empty()) << r.describe();
        if (!sent.empty()) { EXPECT_EQ(id, sent); }
        EXPECT_EQ(seen(path).header("x-request-id"), id);
        const auto spans = spans_for({path});
        const auto* server = find_server_span(spans, path);
        ASSERT_TRUE(server);
        EXPECT_EQ(server->attr("http.request.header.x-request-id"), id) << server->line;
    }
}

TEST_F(tracing, the_server_span_carries_http_semantic_conventions_and_tags) {
    ASSERT_NO_FATAL_FAILURE(start());
    const auto r = get("/users/42?token=secret", {{"Host", "shop.example.test"}, {"User-Agent", "itest/1.0"},
                                                 {"x-tenant", "acme"}, {"x-user-id", "u-7"}});
    ASSERT_EQ(r.status, 200u) << r.describe();
    const auto spans = spans_for({"/users/42"});
    const auto* s = find_server_span(spans, "/users/42");
    ASSERT_TRUE(s);
    const std::vector<std::pair<std::string, std::string>> expected{
        {"http.request.method", "GET"},   {"url.path", "/users/42"},        {"url.scheme", "http"},
        {"server.address", "shop.example.test"}, {"client.address", "127.0.0.1"},
        {"network.protocol.version", "1.1"},     {"user_agent.original", "itest/1.0"},
        {"http.response.status_code", "200"},    {"http.route", "users"},  {"tracegate.route", "users"},
        {"tracegate.upstream", "app"},    {"tenant", "acme"},               {"region", "eu"},
        {"user", "u-7"}};
    for (const auto& [key, value] : expected) EXPECT_EQ(s->attr(key), value) << key << " in " << s->line;
    EXPECT_FALSE(s->attr("url.query")) << "url.query is off by default: " << *s->attr("url.query");
    EXPECT_EQ(s->line.find("secret"), std::string::npos) << "the query leaked into the span: " << s->line;
}

// ---- status ----------------------------------------------------------------------------

TEST_F(tracing, a_5xx_is_an_error_and_a_4xx_is_not) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_EQ(get("/status/503").status, 503u);
    ASSERT_EQ(get("/status/404").status, 404u);
    const auto spans = spans_for({"/status/503", "/status/404"});
    if (auto* s = find_server_span(spans, "/status/503")) {
        EXPECT_EQ(s->status_code, "ERROR") << s->line;
        EXPECT_FALSE(s->attr("error.type").value_or("").empty()) << s->line;
        EXPECT_EQ(s->attr("http.response.status_code"), "503");
    }
    if (auto* s = find_server_span(spans, "/status/404")) {
        EXPECT_NE(s->status_code, "ERROR") << s->line;
        EXPECT_FALSE(s->attr("error.type")) << s->line;
        EXPECT_EQ(s->attr("http.response.status_code"), "404");
    }
}

TEST_F(tracing, a_refused_connect_is_an_error_on_the_server_and_client_span) {
    refused_port refused;
    ASSERT_NO_FATAL_FAILURE(start({.endpoint = refused.address()}));
    const auto r = get("/refused");
    EXPECT_GE(r.status, 500u) << r.describe();
    const auto spans = spans_for({"/refused"});
    const auto* server = find_server_span(spans, "/refused");
    ASSERT_TRUE(server);
    EXPECT_EQ(server->status_code, "ERROR") << server->line;
    EXPECT_EQ(server->attr("error.type"), "connect_refused") << server->line;
    const auto clients = client_spans_of(spans, *server);
    ASSERT_FALSE(clients.empty()) << "a failed attempt must still leave a CLIENT span; " << describe_spans(spans);
    for (const auto* c : clients) {
        EXPECT_EQ(c->status_code, "ERROR") << c->line;
        EXPECT_EQ(c->attr("error.type"), "connect_refused") << c->line;
    }
}

// ---- sampling ----------------------------------------------------------------------------

struct sampling_case {
    std::string path;
    header_list headers;
    bool recorded;
    std::string upstream_flags;  ///< Flags of the traceparent the upstream must get.
};

TEST_F(tracing, under_ratio_0_only_sampled_parents_errors_and_slow_requests_are_recorded) {
    ASSERT_NO_FATAL_FAILURE(start({.ratio = "0", .slower_than = "200ms"}));
    const std::vector<sampling_case> cases{
        {"/fast", {}, false, "00"},
        {"/status/404", {}, false, "00"},
        {"/status/503", {}, true, "00"},
        {"/delay/400", {}, true, "00"},
        {"/parent-sampled", {{"traceparent", "00-" + in_trace + "-" + in_span + "-01"}}, true, "01"},
        {"/parent-unsampled", {{"traceparent", "00-" + in_trace + "-" + in_span + "-00"}}, false, "00"},
    };
    std::vector<std::string> expected{"/status/500"};  // the marker, last: it is kept as an error
    for (const auto& c : cases) {
        const auto r = get(c.path, c.headers);
        EXPECT_NE(r.status, 0u) << c.path;
        const auto ctx = read_traceparent(seen(c.path).headers);
        EXPECT_TRUE(ctx) << c.path << ": an unsampled request must still propagate a valid traceparent";
        if (ctx) { EXPECT_EQ(ctx->sampled ? "01" : "00", c.upstream_flags) << c.path; }
        if (ctx && !c.headers.empty()) { EXPECT_EQ(ctx->trace, in_trace) << c.path; }
        if (c.recorded) expected.push_back(c.path);
    }
    ASSERT_EQ(get("/status/500").status, 500u);
    const auto spans = spans_for(expected, false);
    for (const auto& c : cases) {
        const auto* s = find_server_span(spans, c.path);
        EXPECT_EQ(s != nullptr, c.recorded) << c.path << (c.recorded ? " was not" : " was") << " recorded; "
                                            << describe_spans(spans);
    }
    if (auto* s = find_server_span(spans, "/parent-sampled")) { EXPECT_EQ(s->trace_id, in_trace); }
}

// ---- untrusted ingress -----------------------------------------------------------------

class tracing_untrusted : public tracing, public ::testing::WithParamInterface<format_case> {};

TEST_P(tracing_untrusted, an_incoming_context_becomes_a_link_of_a_new_root) {
    ASSERT_NO_FATAL_FAILURE(start({.trust = false}));
    ASSERT_EQ(get("/edge", GetParam().in).status, 200u);
    const auto spans = spans_for({"/edge"});
    const auto* server = find_server_span(spans, "/edge");
    ASSERT_TRUE(server) << "the outside's flag 00 must not stop recording under ratio 1";
    EXPECT_NE(server->trace_id, in_trace) << "an outsider chose the trace id";
    EXPECT_EQ(server->parent_span_id, "");
    const std::pair<std::string, std::string> link{in_trace, in_span};
    EXPECT_NE(std::find(server->links.begin(), server->links.end(), link), server->links.end())
        << "no link to the incoming context: " << server->line;
    const auto up = seen("/edge");
    const auto ctx = read_traceparent(up.headers);
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->trace, server->trace_id);
    EXPECT_TRUE(ctx->sampled);
    for (const auto& [name, value] : up.headers)
        EXPECT_EQ(value.find(in_trace), std::string::npos) << "the outside trace id went upstream: " << name << ": " << value;
}

INSTANTIATE_TEST_SUITE_P(
    tracing_unsampled_outside, tracing_untrusted,
    ::testing::Values(format_case{"tracecontext", {{"traceparent", "00-" + in_trace + "-" + in_span + "-00"}}, "tracecontext", in_trace, in_span},
                      format_case{"b3multi", {{"X-B3-TraceId", in_trace}, {"X-B3-SpanId", in_span}, {"X-B3-Sampled", "0"}}, "b3multi", in_trace, in_span}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tracegate::test
