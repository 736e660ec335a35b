#include "tracing/zipkin_encoder.hpp"

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
    encode_zipkin_v2(spans, res, out);
    return json::parse(out).as_array();
}

json::object encode_one(const span_data& span, const resource& res = test::sample_resource()) {
    return encode({span}, res).at(0).as_object();
}

TEST(zipkin_encoder, server_span_has_every_field) {
    const auto spans = encode({test::sample_server_span(), test::sample_client_span(), test::sample_root_span()});
    ASSERT_EQ(spans.size(), 3u);
    const auto& span = spans[0].as_object();
    EXPECT_EQ(span.at("traceId").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(span.at("id").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(span.at("parentId").as_string(), "53995c3f42cd8ad8");
    EXPECT_EQ(span.at("kind").as_string(), "SERVER");
    EXPECT_EQ(span.at("name").as_string(), "GET /users/{id}");
    EXPECT_EQ(span.at("timestamp").as_int64(), 1'700'000'000'123'456);  // µs, truncated
    EXPECT_EQ(span.at("duration").as_int64(), 2500);                    // 2500.999 µs
    EXPECT_EQ(span.at("localEndpoint"), json::parse(R"({"serviceName":"checkout"})"));
    // The client of a SERVER span: its IP and port, no service name.
    EXPECT_EQ(span.at("remoteEndpoint"), json::parse(R"({"ipv4":"203.0.113.7","port":51234})"));
    EXPECT_EQ(span.at("annotations"), json::parse(R"([
        {"timestamp":1700000000124456,"value":"first upstream byte"},
        {"timestamp":1700000000124956,"value":"upstream attempt failed: connect"},
        {"timestamp":1700000000125856,"value":"response complete"}])"));
    EXPECT_FALSE(span.contains("shared"));
    EXPECT_FALSE(span.contains("debug"));
    EXPECT_EQ(span.size(), 11u);
}

TEST(zipkin_encoder, tags_are_every_attribute_as_a_string_plus_status) {
    const auto span = encode_one(test::sample_server_span());
    const auto& tags = span.at("tags").as_object();
    const json::value expected = json::parse(R"({
        "http.request.method": "GET",
        "url.path": "/users/42",
        "url.query": "q=\"quoted\"&path=C:\\tmp",
        "url.scheme": "http",
        "server.address": "api.example.com",
        "server.port": "8080",
        "client.address": "203.0.113.7",
        "network.peer.address": "203.0.113.7",
        "network.peer.port": "51234",
        "network.protocol.version": "1.1",
        "user_agent.original": "Mozilla/5.0 Grüße \u20ac \ud83d\ude80",
        "http.request.header.x-request-id": "req-7f3c\n\t\u0001 end",
        "http.route": "users",
        "tracegate.route": "users",
        "tracegate.upstream": "users-v2",
        "http.response.status_code": "503",
        "http.request.body.size": "0",
        "http.response.body.size": "1048576",
        "test.ratio": "0.25",
        "test.negative": "-42",
        "test.retry": "true",
        "test.cached": "false",
        "otel.dropped_attributes_count": "2",
        "otel.dropped_events_count": "1",
        "otel.status_code": "ERROR",
        "error": "upstream \"users\" returned 503"
    })");
    EXPECT_EQ(json::value(tags), expected);
}

TEST(zipkin_encoder, client_span_names_the_upstream) {
    const auto span = encode_one(test::sample_client_span());
    EXPECT_EQ(span.at("kind").as_string(), "CLIENT");
    EXPECT_EQ(span.at("parentId").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(span.at("id").as_string(), "1122334455667788");
    EXPECT_EQ(span.at("duration").as_int64(), 2200);
    // server.address as the service (the dependency link), the peer IP, server.port.
    EXPECT_EQ(span.at("remoteEndpoint"),
              json::parse(R"({"serviceName":"users.internal","ipv4":"10.1.2.3","port":9000})"));
    const auto& tags = span.at("tags").as_object();
    EXPECT_FALSE(tags.contains("error"));
    EXPECT_FALSE(tags.contains("otel.status_code"));  // status unset
    EXPECT_EQ(tags.size(), 5u);
}

TEST(zipkin_encoder, producer_and_consumer_keep_their_kind_and_name_the_broker) {
    for (const auto& [kind, name] : {std::pair{span_kind::producer, "PRODUCER"}, std::pair{span_kind::consumer, "CONSUMER"}}) {
        SCOPED_TRACE(name);
        span_data s = test::sample_client_span();
        s.kind = kind;
        s.attributes = {{"server.address", std::string("kafka-1")}, {"server.port", std::int64_t{9092}}};
        const auto span = encode_one(s);
        EXPECT_EQ(span.at("kind").as_string(), name);
        EXPECT_EQ(span.at("remoteEndpoint"), json::parse(R"({"serviceName":"kafka-1","port":9092})"));
    }
}

TEST(zipkin_encoder, internal_span_has_no_kind_and_no_remote_endpoint) {
    span_data s = test::sample_server_span();
    s.kind = span_kind::internal;
    const auto span = encode_one(s);
    EXPECT_FALSE(span.contains("kind"));
    EXPECT_FALSE(span.contains("remoteEndpoint"));
    EXPECT_EQ(span.at("id").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(span.at("name").as_string(), "GET /users/{id}");
}

TEST(zipkin_encoder, client_span_prefers_peer_service_and_takes_an_ip_server_address) {
    span_data s = test::sample_client_span();
    s.attributes = {{"server.address", std::string("2001:db8::7")},
                    {"server.port", std::int64_t{8443}},
                    {"network.peer.address", std::string("users.internal")},
                    {"peer.service", std::string("users")}};
    EXPECT_EQ(encode_one(s).at("remoteEndpoint"),
              json::parse(R"({"serviceName":"users","ipv6":"2001:db8::7","port":8443})"));
}

TEST(zipkin_encoder, root_span_has_no_parent_and_sub_microsecond_duration_is_one) {
    const auto span = encode_one(test::sample_root_span());
    EXPECT_FALSE(span.contains("parentId"));
    EXPECT_EQ(span.at("timestamp").as_int64(), 1'709'251'199'999'999);
    EXPECT_EQ(span.at("duration").as_int64(), 1);  // 401 ns
    EXPECT_FALSE(span.contains("annotations"));
    EXPECT_EQ(span.at("remoteEndpoint"), json::parse(R"({"ipv6":"2001:db8::1","port":443})"));
    EXPECT_EQ(span.at("tags").at("otel.status_code").as_string(), "OK");
    EXPECT_FALSE(span.at("tags").as_object().contains("error"));
}

TEST(zipkin_encoder, zero_duration_is_one_microsecond) {
    span_data s = test::sample_root_span();
    s.end_time_unix_nano = s.start_time_unix_nano;
    EXPECT_EQ(encode_one(s).at("duration").as_int64(), 1);
}

TEST(zipkin_encoder, server_span_with_a_host_name_client_names_it) {
    span_data s = test::sample_root_span();
    s.attributes = {{"client.address", std::string("laptop.corp")}, {"client.port", std::int64_t{5000}}};
    EXPECT_EQ(encode_one(s).at("remoteEndpoint"), json::parse(R"({"serviceName":"laptop.corp","port":5000})"));
}

TEST(zipkin_encoder, no_peer_attributes_no_remote_endpoint_no_tags) {
    span_data s = test::sample_root_span();
    s.attributes.clear();
    s.status = status_code::unset;
    const auto span = encode_one(s);
    EXPECT_FALSE(span.contains("remoteEndpoint"));
    EXPECT_FALSE(span.contains("tags"));
}

TEST(zipkin_encoder, error_attribute_never_overrides_the_status) {
    span_data s = test::sample_root_span();
    s.attributes = {{"error", false}, {"otel.status_code", std::string("UNSET")}};
    s.status = status_code::ok;
    auto tags = encode_one(s).at("tags").as_object();
    EXPECT_EQ(json::value(tags), json::parse(R"({"otel.status_code":"OK"})"));

    s.status = status_code::error;
    s.status_message.clear();
    tags = encode_one(s).at("tags").as_object();
    EXPECT_EQ(json::value(tags), json::parse(R"({"otel.status_code":"ERROR","error":""})"));
}

TEST(zipkin_encoder, non_finite_and_integral_doubles_as_tags) {
    span_data s = test::sample_root_span();
    s.attributes = {{"nan", std::numeric_limits<double>::quiet_NaN()},
                    {"inf", std::numeric_limits<double>::infinity()},
                    {"minus_inf", -std::numeric_limits<double>::infinity()},
                    {"three", 3.0},
                    {"third", 1.0 / 3.0}};
    s.status = status_code::unset;
    EXPECT_EQ(encode_one(s).at("tags"), json::parse(R"({"nan":"NaN","inf":"Infinity","minus_inf":"-Infinity",
        "three":"3","third":"0.3333333333333333"})"));
}

TEST(zipkin_encoder, service_name_comes_from_the_resource) {
    EXPECT_EQ(encode_one(test::sample_root_span(), resource{}).at("localEndpoint").at("serviceName").as_string(),
              "tracegate");
}

TEST(zipkin_encoder, empty_batch_is_an_empty_array) {
    EXPECT_TRUE(encode({}).empty());
}

}  // namespace
}  // namespace tracegate::tracing
