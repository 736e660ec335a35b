// Spans of exchanges that went wrong (a failed attempt a retry recovered from, a response
// cut off after its header), and what tracing does per listener: traceresponse, the force
// header, baggage passed through.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/span_file.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {
namespace {

std::string config(const std::string& endpoints, const std::string& spans_path,
                   std::string_view upstream_span = "true") {
    return fill(R"(service_name: itest
workers: 1
listeners:
  - name: main
    address: 127.0.0.1:0
upstreams:
  - name: app
    endpoints: [${endpoints}]
    lb: round_robin
tracing:
  upstream_span: ${upstream_span}
  file: ${file}
)",
                {{"endpoints", endpoints}, {"file", spans_path},
                 {"upstream_span", std::string(upstream_span)}});
}

TEST(tracing_failures, an_attempt_a_retry_recovered_from_leaves_an_error_client_span_only) {
    temp_dir dir;
    const std::string spans_path = dir.path() + "/spans.jsonl";
    refused_port refused;
    upstream_server up("app");
    auto proxy = start_proxy(config(refused.address() + ", " + up.address(), spans_path));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    // Round robin starts at the refused endpoint for one of the first two requests.
    for (const auto* path : {"/first", "/second"}) ASSERT_EQ(client.get(path).status, 200u);

    const auto spans = wait_for_spans(spans_path, [](const auto& s) {
        for (const auto* path : {"/first", "/second"}) {
            const auto* server = find_server_span(s, path);
            if (!server || client_spans_of(s, *server).empty()) return false;
        }
        return true;
    });
    bool saw_retry = false;
    for (const auto* path : {"/first", "/second"}) {
        const auto* server = find_server_span(spans, path);
        ASSERT_TRUE(server) << describe_spans(spans);
        EXPECT_NE(server->status_code, "ERROR") << "the client got its 200: " << server->line;
        const auto clients = client_spans_of(spans, *server);
        if (clients.size() == 2) {
            saw_retry = true;
            EXPECT_EQ(clients[0]->status_code, "ERROR") << clients[0]->line;
            EXPECT_EQ(clients[0]->attr("error.type"), "connect_refused") << clients[0]->line;
            EXPECT_NE(clients[1]->status_code, "ERROR") << clients[1]->line;
        }
    }
    EXPECT_TRUE(saw_retry) << "one request should have tried the refused endpoint first: "
                           << describe_spans(spans);
}

TEST(tracing_failures, a_response_cut_after_its_header_is_an_error_on_the_server_span) {
    for (std::string_view upstream_span : {"true", "false"}) {
        SCOPED_TRACE(std::string("upstream_span: ") + std::string(upstream_span));
        temp_dir dir;
        const std::string spans_path = dir.path() + "/spans.jsonl";
        upstream_server up("app");
        auto proxy = start_proxy(config(up.address(), spans_path, upstream_span));
        ASSERT_TRUE(proxy);
        http_client client(proxy->port("main"), io_timeout);
        client.get("/close-after-headers");  // the body is cut short: the client sees a close

        const auto spans = wait_for_spans(spans_path, [](const auto& s) {
            return find_server_span(s, "/close-after-headers") != nullptr;
        });
        const auto* server = find_server_span(spans, "/close-after-headers");
        ASSERT_TRUE(server) << describe_spans(spans);
        EXPECT_EQ(server->status_code, "ERROR") << server->line;
        EXPECT_EQ(server->attr("error.type"), "upstream_reset") << server->line;
    }
}

TEST(tracing_listeners, untrusted_listeners_send_traceresponse_only_when_configured) {
    upstream_server up("app");
    auto proxy = start_proxy(fill(R"(service_name: itest
workers: 1
listeners:
  - {name: edge, address: 127.0.0.1:0, trust_incoming_trace: false}
  - {name: edge_debug, address: 127.0.0.1:0, trust_incoming_trace: false, response_header: true}
  - {name: inside, address: 127.0.0.1:0}
  - {name: inside_quiet, address: 127.0.0.1:0, response_header: false}
upstreams:
  - name: app
    endpoints: [${endpoint}]
)",
                                  {{"endpoint", up.address()}}),
                             4);
    ASSERT_TRUE(proxy);
    auto traceresponse = [&](const std::string& listener) {
        http_client client(proxy->port(listener), io_timeout);
        const auto r = client.get("/" + listener);
        EXPECT_EQ(r.status, 200u) << r.describe();
        return r.header("traceresponse");
    };
    EXPECT_EQ(traceresponse("edge"), std::nullopt) << "outsiders learn no trace ids by default";
    EXPECT_TRUE(traceresponse("edge_debug").has_value());
    const auto inside = traceresponse("inside");
    ASSERT_TRUE(inside.has_value());
    EXPECT_TRUE(parse_traceparent(*inside).has_value()) << *inside;
    EXPECT_EQ(traceresponse("inside_quiet"), std::nullopt);
}

std::string two_listener_config(const std::string& endpoint, const std::string& spans_path) {
    return fill(R"(service_name: itest
workers: 1
listeners:
  - {name: inside, address: 127.0.0.1:0}
  - {name: edge, address: 127.0.0.1:0, trust_incoming_trace: false}
upstreams:
  - name: app
    endpoints: [${endpoint}]
tracing:
  sampling: {ratio: 0, force_header: x-force-trace, keep: {errors: false}}
  file: ${file}
)",
                {{"endpoint", endpoint}, {"file", spans_path}});
}

TEST(tracing_listeners, force_header_samples_only_on_trusted_listeners) {
    temp_dir dir;
    const std::string spans_path = dir.path() + "/spans.jsonl";
    upstream_server up("app");
    auto proxy = start_proxy(two_listener_config(up.address(), spans_path), 2);
    ASSERT_TRUE(proxy);
    http_client inside(proxy->port("inside"), io_timeout);
    http_client edge(proxy->port("edge"), io_timeout);
    ASSERT_EQ(edge.request("GET", "/edge-forced", {{"x-force-trace", "1"}}).status, 200u);
    ASSERT_EQ(inside.request("GET", "/inside-plain", {}).status, 200u);
    ASSERT_EQ(inside.request("GET", "/inside-forced", {{"x-force-trace", "1"}}).status, 200u);

    // The last request is the marker: once it is in the file, the earlier ones would be too.
    const auto spans = wait_for_spans(spans_path, [](const auto& s) {
        return find_server_span(s, "/inside-forced") != nullptr;
    });
    EXPECT_TRUE(find_server_span(spans, "/inside-forced")) << describe_spans(spans);
    EXPECT_FALSE(find_server_span(spans, "/inside-plain")) << "ratio 0 without the header";
    EXPECT_FALSE(find_server_span(spans, "/edge-forced"))
        << "an outsider forced recording: " << describe_spans(spans);
}

TEST(tracing_listeners, baggage_and_jaeger_baggage_pass_through_and_oversized_baggage_is_dropped) {
    temp_dir dir;
    upstream_server up("app");
    auto proxy = start_proxy(two_listener_config(up.address(), dir.path() + "/spans.jsonl"), 2);
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("inside"), io_timeout);
    const std::string baggage = "userId=alice,isProduction=false";
    ASSERT_EQ(client.request("GET", "/bag", {{"baggage", baggage}, {"uberctx-tenant", "blue"}}).status,
              200u);
    ASSERT_EQ(client.request("GET", "/big-bag", {{"baggage", "k=" + std::string(9000, 'v')}}).status,
              200u);
    ASSERT_TRUE(up.wait_for_requests(2, io_timeout));
    const auto requests = up.requests();
    EXPECT_EQ(find_header(requests.at(0).headers, "baggage"), baggage);
    EXPECT_EQ(find_header(requests.at(0).headers, "uberctx-tenant"), "blue");
    EXPECT_EQ(find_header(requests.at(1).headers, "baggage"), std::nullopt)
        << "baggage over the W3C 8192-byte limit must not be passed on";
}

TEST(tracing_listeners, the_client_span_has_the_exchange_events_in_order) {
    temp_dir dir;
    const std::string spans_path = dir.path() + "/spans.jsonl";
    upstream_server up("app");
    auto proxy = start_proxy(config(up.address(), spans_path));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    ASSERT_EQ(client.get("/events").status, 200u);
    const auto spans = wait_for_spans(spans_path, [](const auto& s) {
        const auto* server = find_server_span(s, "/events");
        return server && !client_spans_of(s, *server).empty();
    });
    const auto* server = find_server_span(spans, "/events");
    ASSERT_TRUE(server) << describe_spans(spans);
    const auto clients = client_spans_of(spans, *server);
    ASSERT_EQ(clients.size(), 1u) << describe_spans(spans);
    EXPECT_EQ(clients[0]->events, (std::vector<std::string>{"upstream connected",
                                                            "first upstream byte",
                                                            "response complete"}))
        << clients[0]->line;
    EXPECT_LE(server->start_ns, clients[0]->start_ns);
    EXPECT_GE(server->end_ns, clients[0]->end_ns) << "the server span ends after its client span";
}

}  // namespace
}  // namespace tracegate::test
