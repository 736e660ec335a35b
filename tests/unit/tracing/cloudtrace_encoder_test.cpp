#include "tracing/cloudtrace_encoder.hpp"

#include "tests/unit/tracing/encoder_samples.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace tracegate::tracing {
namespace {

namespace json = boost::json;

json::array encode(const std::vector<span_data>& spans, const resource& res = test::sample_resource()) {
    std::string out = "left over";
    encode_cloudtrace_v2(spans, res, "my-project", out);
    const auto body = json::parse(out).as_object();  // parse also rejects ill-formed UTF-8
    EXPECT_EQ(body.size(), 1u);
    return body.at("spans").as_array();
}

json::object encode_one(const span_data& span) {
    return encode({span}).at(0).as_object();
}

std::string agent_label() {
    return "tracegate " + std::string(tracegate_version());
}

TEST(cloudtrace_encoder, server_span_has_every_field) {
    const auto spans = encode({test::sample_server_span(), test::sample_client_span(), test::sample_root_span()});
    ASSERT_EQ(spans.size(), 3u);
    const auto& span = spans[0].as_object();
    EXPECT_EQ(span.at("name").as_string(),
              "projects/my-project/traces/4bf92f3577b34da6a3ce929d0e0e4736/spans/00f067aa0ba902b7");
    EXPECT_EQ(span.at("spanId").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(span.at("parentSpanId").as_string(), "53995c3f42cd8ad8");
    EXPECT_EQ(span.at("displayName"), json::parse(R"({"value":"GET /users/{id}"})"));
    EXPECT_EQ(span.at("startTime").as_string(), "2023-11-14T22:13:20.123456789Z");
    EXPECT_EQ(span.at("endTime").as_string(), "2023-11-14T22:13:20.125957788Z");
    EXPECT_EQ(span.at("spanKind").as_string(), "SERVER");
    EXPECT_EQ(span.at("sameProcessAsParentSpan").as_bool(), false);  // remote parent
    EXPECT_EQ(span.at("status"), json::parse(R"({"code":2,"message":"upstream \"users\" returned 503"})"));
    EXPECT_EQ(span.at("timeEvents"), json::parse(R"({"timeEvent":[
        {"time":"2023-11-14T22:13:20.124456789Z","annotation":{"description":{"value":"first upstream byte"}}},
        {"time":"2023-11-14T22:13:20.124956789Z","annotation":{"description":{"value":"upstream attempt failed: connect"}}},
        {"time":"2023-11-14T22:13:20.125856789Z","annotation":{"description":{"value":"response complete"}}}],
        "droppedAnnotationsCount":1})"));
    EXPECT_EQ(span.at("links"), json::parse(R"({"link":[{
        "traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","type":"TYPE_UNSPECIFIED",
        "attributes":{"attributeMap":{"link.reason":{"stringValue":{"value":"untrusted listener"}},
                                      "link.count":{"intValue":"2"}}}}]})"));
    EXPECT_EQ(span.size(), 12u);
}

TEST(cloudtrace_encoder, attributes_map_every_type_with_service_and_agent) {
    const auto span = encode_one(test::sample_server_span());
    const auto& attributes = span.at("attributes").as_object();
    EXPECT_EQ(attributes.at("droppedAttributesCount").as_int64(), 2);  // the span's own count
    const auto& map = attributes.at("attributeMap").as_object();
    json::object expected = json::parse(R"({
        "service.name": {"stringValue": {"value": "checkout"}},
        "http.request.method": {"stringValue": {"value": "GET"}},
        "url.path": {"stringValue": {"value": "/users/42"}},
        "url.query": {"stringValue": {"value": "q=\"quoted\"&path=C:\\tmp"}},
        "url.scheme": {"stringValue": {"value": "http"}},
        "server.address": {"stringValue": {"value": "api.example.com"}},
        "server.port": {"intValue": "8080"},
        "client.address": {"stringValue": {"value": "203.0.113.7"}},
        "network.peer.address": {"stringValue": {"value": "203.0.113.7"}},
        "network.peer.port": {"intValue": "51234"},
        "network.protocol.version": {"stringValue": {"value": "1.1"}},
        "user_agent.original": {"stringValue": {"value": "Mozilla/5.0 Grüße \u20ac \ud83d\ude80"}},
        "http.request.header.x-request-id": {"stringValue": {"value": "req-7f3c\n\t\u0001 end"}},
        "http.route": {"stringValue": {"value": "users"}},
        "tracegate.route": {"stringValue": {"value": "users"}},
        "tracegate.upstream": {"stringValue": {"value": "users-v2"}},
        "http.response.status_code": {"intValue": "503"},
        "http.request.body.size": {"intValue": "0"},
        "http.response.body.size": {"intValue": "1048576"},
        "test.ratio": {"stringValue": {"value": "0.25"}},
        "test.negative": {"intValue": "-42"},
        "test.retry": {"boolValue": true},
        "test.cached": {"boolValue": false}
    })").as_object();
    expected["g.co/agent"] = json::parse(R"({"stringValue":{"value":""}})");
    expected["g.co/agent"].at("stringValue").as_object()["value"] = agent_label();
    EXPECT_EQ(json::value(map), json::value(expected));
    // The resource's service name comes first.
    EXPECT_EQ(map.begin()->key(), "service.name");
}

TEST(cloudtrace_encoder, client_and_root_spans) {
    const auto spans = encode({test::sample_client_span(), test::sample_root_span()});
    const auto& client = spans.at(0).as_object();
    EXPECT_EQ(client.at("spanKind").as_string(), "CLIENT");
    EXPECT_EQ(client.at("sameProcessAsParentSpan").as_bool(), true);
    EXPECT_EQ(client.at("status"), json::parse(R"({"code":0})"));
    EXPECT_FALSE(client.contains("links"));
    EXPECT_FALSE(client.at("attributes").as_object().contains("droppedAttributesCount"));

    const auto& root = spans.at(1).as_object();
    EXPECT_FALSE(root.contains("parentSpanId"));
    EXPECT_FALSE(root.contains("sameProcessAsParentSpan"));
    EXPECT_FALSE(root.contains("timeEvents"));
    EXPECT_EQ(root.at("status"), json::parse(R"({"code":0})"));  // OK
    // A leap day and a day change across the span.
    EXPECT_EQ(root.at("startTime").as_string(), "2024-02-29T23:59:59.999999999Z");
    EXPECT_EQ(root.at("endTime").as_string(), "2024-03-01T00:00:00.000000400Z");
}

TEST(cloudtrace_encoder, every_span_kind_has_its_name) {
    for (const auto& [kind, name] : {std::pair{span_kind::server, "SERVER"}, std::pair{span_kind::client, "CLIENT"},
                                    std::pair{span_kind::internal, "INTERNAL"},
                                    std::pair{span_kind::producer, "PRODUCER"},
                                    std::pair{span_kind::consumer, "CONSUMER"}}) {
        span_data s = test::sample_root_span();
        s.kind = kind;
        EXPECT_EQ(encode_one(s).at("spanKind").as_string(), name);
    }
}

TEST(cloudtrace_encoder, times_keep_nanoseconds_and_pad_digits) {
    span_data s = test::sample_root_span();
    s.start_time_unix_nano = 1;
    s.end_time_unix_nano = 4'102'444'800'000'000'010;
    const auto span = encode_one(s);
    EXPECT_EQ(span.at("startTime").as_string(), "1970-01-01T00:00:00.000000001Z");
    EXPECT_EQ(span.at("endTime").as_string(), "2100-01-01T00:00:00.000000010Z");
}

TEST(cloudtrace_encoder, display_name_is_truncated_on_a_character_boundary) {
    span_data s = test::sample_root_span();
    std::string name = "a";
    for (int i = 0; i < 100; ++i) name += "\xC3\xA9";  // é, 2 bytes: 201 bytes in all
    s.name = name;
    const auto display = encode_one(s).at("displayName").as_object();
    // 128 would split an é: 1 + 63 * 2 = 127 bytes kept, 74 left out.
    std::string kept = "a";
    for (int i = 0; i < 63; ++i) kept += "\xC3\xA9";
    EXPECT_EQ(display.at("value").as_string(), kept);
    EXPECT_EQ(display.at("truncatedByteCount").as_int64(), 74);
}

TEST(cloudtrace_encoder, long_string_values_are_truncated_to_256_bytes) {
    span_data s = test::sample_root_span();
    std::string euros;
    for (int i = 0; i < 100; ++i) euros += "\xE2\x82\xAC";  // €, 3 bytes: 300 bytes
    s.attributes = {{"euros", euros}, {"ascii", std::string(1000, 'x')}, {"exact", std::string(256, 'y')}};
    const auto span = encode_one(s);
    const auto& map = span.at("attributes").at("attributeMap").as_object();
    std::string kept;
    for (int i = 0; i < 85; ++i) kept += "\xE2\x82\xAC";  // 255 bytes: a 86th would be 258
    EXPECT_EQ(map.at("euros").at("stringValue").at("value").as_string(), kept);
    EXPECT_EQ(map.at("euros").at("stringValue").at("truncatedByteCount").as_int64(), 45);
    EXPECT_EQ(map.at("ascii").at("stringValue").at("value").as_string(), std::string(256, 'x'));
    EXPECT_EQ(map.at("ascii").at("stringValue").at("truncatedByteCount").as_int64(), 744);
    EXPECT_EQ(map.at("exact").at("stringValue"), json::parse(R"({"value":")" + std::string(256, 'y') + R"("})"));
}

TEST(cloudtrace_encoder, at_most_32_attributes_the_rest_counted) {
    span_data s = test::sample_root_span();
    s.attributes.clear();
    for (int i = 0; i < 40; ++i) s.attributes.push_back({"attr." + std::to_string(i), std::int64_t{i}});
    s.dropped_attributes_count = 3;
    const auto span = encode_one(s);
    const auto& attributes = span.at("attributes").as_object();
    const auto& map = attributes.at("attributeMap").as_object();
    ASSERT_EQ(map.size(), 32u);
    EXPECT_TRUE(map.contains("service.name"));
    for (int i = 0; i < 31; ++i) EXPECT_TRUE(map.contains("attr." + std::to_string(i))) << i;
    EXPECT_FALSE(map.contains("attr.31"));
    EXPECT_FALSE(map.contains("g.co/agent"));  // no room left
    EXPECT_EQ(attributes.at("droppedAttributesCount").as_int64(), 9 + 3);
}

TEST(cloudtrace_encoder, keys_over_128_bytes_are_dropped) {
    span_data s = test::sample_root_span();
    s.attributes = {{std::string(129, 'k'), std::string("v")}, {std::string(128, 'k'), std::string("w")}};
    const auto span = encode_one(s);
    const auto& map = span.at("attributes").at("attributeMap").as_object();
    EXPECT_FALSE(map.contains(std::string(129, 'k')));
    EXPECT_TRUE(map.contains(std::string(128, 'k')));
    EXPECT_EQ(span.at("attributes").at("droppedAttributesCount").as_int64(), 1);
}

TEST(cloudtrace_encoder, doubles_are_strings_and_non_finite_ones_are_named) {
    span_data s = test::sample_root_span();
    s.attributes = {{"nan", std::numeric_limits<double>::quiet_NaN()},
                    {"inf", -std::numeric_limits<double>::infinity()},
                    {"big", 1e300}};
    const auto span = encode_one(s);
    const auto& map = span.at("attributes").at("attributeMap").as_object();
    EXPECT_EQ(map.at("nan").at("stringValue").at("value").as_string(), "NaN");
    EXPECT_EQ(map.at("inf").at("stringValue").at("value").as_string(), "-Infinity");
    EXPECT_EQ(map.at("big").at("stringValue").at("value").as_string(), "1e+300");
}

TEST(cloudtrace_encoder, more_than_32_events_and_128_links_are_counted) {
    span_data s = test::sample_root_span();
    for (int i = 0; i < 40; ++i) s.events.push_back({"event " + std::to_string(i), s.start_time_unix_nano});
    span_link link;
    link.context.trace_id = trace_id::from_uint64(1, 2);
    link.context.span_id = span_id::from_uint64(3);
    s.links.assign(130, link);
    s.dropped_links_count = 1;
    const auto span = encode_one(s);
    EXPECT_EQ(span.at("timeEvents").at("timeEvent").as_array().size(), 32u);
    EXPECT_EQ(span.at("timeEvents").at("droppedAnnotationsCount").as_int64(), 8);
    EXPECT_EQ(span.at("links").at("link").as_array().size(), 128u);
    EXPECT_EQ(span.at("links").at("droppedLinksCount").as_int64(), 3);
    EXPECT_FALSE(span.at("links").at("link").at(0).as_object().contains("attributes"));
}

TEST(cloudtrace_encoder, ill_formed_utf8_is_replaced) {
    span_data s = test::sample_root_span();
    s.name = "bad\xFF";
    const auto span = encode_one(s);
    EXPECT_EQ(span.at("displayName").at("value").as_string(), "bad\xEF\xBF\xBD");
}

TEST(cloudtrace_encoder, empty_batch) {
    std::string out;
    encode_cloudtrace_v2({}, test::sample_resource(), "p", out);
    EXPECT_EQ(json::parse(out), json::parse(R"({"spans":[]})"));
}

}  // namespace
}  // namespace tracegate::tracing
