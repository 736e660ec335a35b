#include "tracing/jsonl_encoder.hpp"


#include "tests/unit/tracing/encoder_samples.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tracegate::tracing {
namespace {

namespace json = boost::json;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(text.substr(start, nl - start));
    EXPECT_EQ(start, text.size()) << "the last line has no newline";
    return lines;
}

TEST(jsonl_encoder, one_line_per_span_with_every_field) {
    std::string out;
    const std::vector<span_data> spans = {test::sample_server_span(), test::sample_client_span(),
                                          test::sample_root_span()};
    encode_jsonl(spans, test::sample_resource(), out);
    const auto lines = lines_of(out);
    ASSERT_EQ(lines.size(), 3u);

    const auto v = json::parse(lines[0]).as_object();
    EXPECT_EQ(v.at("traceId").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(v.at("spanId").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(v.at("parentSpanId").as_string(), "53995c3f42cd8ad8");
    EXPECT_EQ(v.at("name").as_string(), "GET /users/{id}");
    EXPECT_EQ(v.at("kind").as_string(), "SERVER");
    EXPECT_EQ(json::value_to<std::uint64_t>(v.at("startTimeUnixNano")), 1'700'000'000'123'456'789u);
    EXPECT_EQ(json::value_to<std::uint64_t>(v.at("endTimeUnixNano")), 1'700'000'000'125'957'788u);
    const auto& attributes = v.at("attributes").as_object();
    EXPECT_EQ(attributes.size(), 22u);
    EXPECT_EQ(attributes.at("http.request.method").as_string(), "GET");
    EXPECT_EQ(attributes.at("url.query").as_string(), "q=\"quoted\"&path=C:\\tmp");
    EXPECT_EQ(attributes.at("user_agent.original").as_string(), "Mozilla/5.0 Grüße \xE2\x82\xAC \xF0\x9F\x9A\x80");
    EXPECT_EQ(attributes.at("http.request.header.x-request-id").as_string(), "req-7f3c\n\t\x01 end");
    EXPECT_EQ(attributes.at("http.response.status_code").as_int64(), 503);
    EXPECT_EQ(attributes.at("http.request.body.size").as_int64(), 0);
    EXPECT_EQ(attributes.at("test.negative").as_int64(), -42);
    EXPECT_EQ(attributes.at("test.ratio").as_double(), 0.25);
    EXPECT_EQ(attributes.at("test.retry").as_bool(), true);
    EXPECT_EQ(attributes.at("test.cached").as_bool(), false);
    EXPECT_EQ(v.at("events"), json::parse(R"([
        {"name":"first upstream byte","timeUnixNano":1700000000124456789},
        {"name":"upstream attempt failed: connect","timeUnixNano":1700000000124956789},
        {"name":"response complete","timeUnixNano":1700000000125856789}])"));
    EXPECT_EQ(v.at("links"), json::parse(R"([{"traceId":"0af7651916cd43dd8448eb211c80319c",
        "spanId":"b7ad6b7169203331","attributes":{"link.reason":"untrusted listener","link.count":2}}])"));
    EXPECT_EQ(v.at("status"), json::parse(R"({"code":"ERROR","message":"upstream \"users\" returned 503"})"));
    EXPECT_EQ(v.at("traceFlags").as_int64(), 3);
    EXPECT_EQ(v.at("traceState").as_string(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    EXPECT_EQ(v.at("service").as_string(), "checkout");
    EXPECT_EQ(v.size(), 14u);

    const auto client = json::parse(lines[1]).as_object();
    EXPECT_EQ(client.at("kind").as_string(), "CLIENT");
    EXPECT_EQ(client.at("status"), json::parse(R"({"code":"UNSET","message":""})"));
    EXPECT_EQ(client.at("links"), json::array());
    EXPECT_EQ(client.at("traceState").as_string(), "");
}

TEST(jsonl_encoder, every_span_kind_has_its_otlp_name) {
    for (const auto& [kind, name] : {std::pair{span_kind::server, "SERVER"}, std::pair{span_kind::client, "CLIENT"},
                                    std::pair{span_kind::internal, "INTERNAL"},
                                    std::pair{span_kind::producer, "PRODUCER"},
                                    std::pair{span_kind::consumer, "CONSUMER"}}) {
        span_data s = test::sample_root_span();
        s.kind = kind;
        std::string out;
        encode_jsonl(std::span(&s, 1), test::sample_resource(), out);
        EXPECT_EQ(json::parse(out).at("kind").as_string(), name);
    }
}

TEST(jsonl_encoder, root_span_has_an_empty_parent_and_status_ok) {
    std::string out;
    const auto root = test::sample_root_span();
    encode_jsonl(std::span(&root, 1), test::sample_resource(), out);
    const auto v = json::parse(lines_of(out).at(0)).as_object();
    EXPECT_EQ(v.at("parentSpanId").as_string(), "");
    EXPECT_EQ(v.at("status").at("code").as_string(), "OK");
    EXPECT_EQ(v.at("events"), json::array());
}

TEST(jsonl_encoder, appends_to_what_is_there) {
    std::string out = "previous\n";
    const auto root = test::sample_root_span();
    encode_jsonl(std::span(&root, 1), test::sample_resource(), out);
    encode_jsonl(std::span(&root, 1), test::sample_resource(), out);
    const auto lines = lines_of(out);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "previous");
    EXPECT_EQ(lines[1], lines[2]);
}

TEST(jsonl_encoder, every_line_is_valid_json_even_for_nan_and_bad_utf8) {
    span_data s = test::sample_root_span();
    s.attributes = {{"nan", std::numeric_limits<double>::quiet_NaN()},
                    {"inf", std::numeric_limits<double>::infinity()},
                    {"three", 3.0},
                    {"bytes", std::string("ok\xFF\xFE")},
                    {"newline", std::string("a\nb")}};
    std::string out;
    encode_jsonl(std::span(&s, 1), resource{}, out);
    const auto lines = lines_of(out);
    ASSERT_EQ(lines.size(), 1u);  // the newline in a value is escaped
    const auto v = json::parse(lines[0]).as_object();
    const auto& attributes = v.at("attributes").as_object();
    EXPECT_EQ(attributes.at("nan").as_string(), "NaN");
    EXPECT_EQ(attributes.at("inf").as_string(), "Infinity");
    EXPECT_TRUE(attributes.at("three").is_double());
    EXPECT_EQ(attributes.at("bytes").as_string(), "ok\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(attributes.at("newline").as_string(), "a\nb");
    EXPECT_EQ(v.at("service").as_string(), "tracegate");
}

TEST(jsonl_encoder, empty_batch_writes_nothing) {
    std::string out;
    encode_jsonl({}, test::sample_resource(), out);
    EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace tracegate::tracing
