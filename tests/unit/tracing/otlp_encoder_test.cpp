#include "tracing/otlp_encoder.hpp"

#include "tests/unit/tracing/encoder_samples.hpp"
#include "tests/support/protobuf_wire.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace tracegate::tracing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using test::pb::message;

/// Bytes of a hex literal, e.g. "0aff" -> "\x0a\xff".
std::string unhex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

std::vector<span_data> sample_batch() {
    return {test::sample_server_span(), test::sample_client_span(), test::sample_root_span()};
}

/// The spans of a request with one ResourceSpans holding one ScopeSpans.
std::vector<message> spans_of(const std::string& bytes) {
    const auto request = message::parse(bytes);
    EXPECT_EQ(request.count(1), 1u);  // resource_spans
    const auto scope_spans = request.sub(1).sub(2);
    return scope_spans.repeated(2);
}

/// Checks an AnyValue: exactly one member set, the one of `expected`'s type, same value.
void expect_any_value(const message& value, const attribute_value& expected, const std::string& key) {
    SCOPED_TRACE(key);
    ASSERT_EQ(value.fields().size(), 1u);
    if (const auto* text = std::get_if<std::string>(&expected)) {
        EXPECT_EQ(value.bytes(1), *text);
    } else if (const auto* flag = std::get_if<bool>(&expected)) {
        EXPECT_EQ(value.varint(2), *flag ? 1u : 0u);
    } else if (const auto* number = std::get_if<std::int64_t>(&expected)) {
        EXPECT_EQ(value.int64(3), *number);
    } else {
        EXPECT_EQ(value.float64(4), std::get<double>(expected));
    }
}

/// Checks repeated KeyValue fields against `expected`, in order.
void expect_attributes(const std::vector<message>& actual, const std::vector<attribute>& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(actual[i].bytes(1), expected[i].key);
        expect_any_value(actual[i].sub(2), expected[i].value, expected[i].key);
        EXPECT_EQ(actual[i].fields().size(), 2u);
    }
}

TEST(otlp_protobuf_encoder, request_holds_the_resource_and_the_tracegate_scope) {
    std::string out;
    const auto batch = sample_batch();
    encode_otlp_protobuf(batch, test::sample_resource(), out);
    const auto request = message::parse(out);
    ASSERT_EQ(request.fields().size(), 1u);
    const auto resource_spans = request.sub(1);
    EXPECT_FALSE(resource_spans.has(3));  // no schema_url
    ASSERT_EQ(resource_spans.count(2), 1u);

    const auto resource = resource_spans.sub(1);
    EXPECT_FALSE(resource.has(2));  // dropped_attributes_count 0
    const auto attributes = resource.repeated(1);
    ASSERT_EQ(attributes.size(), 4u);
    EXPECT_EQ(attributes[0].bytes(1), "service.name");
    EXPECT_EQ(attributes[0].sub(2).bytes(1), "checkout");
    EXPECT_EQ(attributes[1].bytes(1), "host.name");
    EXPECT_EQ(attributes[1].sub(2).bytes(1), "web-1");
    EXPECT_EQ(attributes[2].bytes(1), "process.pid");
    EXPECT_EQ(attributes[2].sub(2).int64(3), 4242);
    EXPECT_EQ(attributes[3].bytes(1), "deployment.environment");
    EXPECT_EQ(attributes[3].sub(2).bytes(1), "prod");

    const auto scope_spans = resource_spans.sub(2);
    EXPECT_FALSE(scope_spans.has(3));
    const auto scope = scope_spans.sub(1);
    EXPECT_EQ(scope.bytes(1), "tracegate");
    EXPECT_EQ(scope.bytes(2), tracegate_version());
    EXPECT_EQ(scope.fields().size(), 2u);
    EXPECT_EQ(scope_spans.count(2), 3u);
}

TEST(otlp_protobuf_encoder, server_span_with_remote_parent_has_every_field) {
    std::string out;
    const auto batch = sample_batch();
    encode_otlp_protobuf(batch, test::sample_resource(), out);
    const auto spans = spans_of(out);
    ASSERT_EQ(spans.size(), 3u);
    const auto& span = spans[0];

    EXPECT_EQ(span.bytes(1), unhex("4bf92f3577b34da6a3ce929d0e0e4736"));
    EXPECT_EQ(span.bytes(2), unhex("00f067aa0ba902b7"));
    EXPECT_EQ(span.bytes(3), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    EXPECT_EQ(span.bytes(4), unhex("53995c3f42cd8ad8"));
    EXPECT_EQ(span.bytes(5), "GET /users/{id}");
    EXPECT_EQ(span.varint(6), 2u);  // SPAN_KIND_SERVER
    EXPECT_EQ(span.fixed64(7), 1'700'000'000'123'456'789u);
    EXPECT_EQ(span.fixed64(8), 1'700'000'000'125'957'788u);
    EXPECT_EQ(span.varint(10), 2u);  // dropped_attributes_count
    EXPECT_EQ(span.varint(12), 1u);  // dropped_events_count
    EXPECT_FALSE(span.has(14));      // dropped_links_count 0 is left out
    // W3C flags sampled|random, 0x100 "is-remote known", 0x200 "parent is remote".
    EXPECT_EQ(span.fixed32(16), 0x303u);

    const auto events = span.repeated(11);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].fixed64(1), 1'700'000'000'124'456'789u);
    EXPECT_EQ(events[0].bytes(2), "first upstream byte");
    EXPECT_EQ(events[1].fixed64(1), 1'700'000'000'124'956'789u);
    EXPECT_EQ(events[1].bytes(2), "upstream attempt failed: connect");
    EXPECT_EQ(events[2].fixed64(1), 1'700'000'000'125'856'789u);
    EXPECT_EQ(events[2].bytes(2), "response complete");
    for (const auto& e : events) EXPECT_EQ(e.fields().size(), 2u);

    const auto links = span.repeated(13);
    ASSERT_EQ(links.size(), 1u);
    EXPECT_EQ(links[0].bytes(1), unhex("0af7651916cd43dd8448eb211c80319c"));
    EXPECT_EQ(links[0].bytes(2), unhex("b7ad6b7169203331"));
    EXPECT_EQ(links[0].bytes(3), "vendor=1");
    EXPECT_EQ(links[0].fixed32(6), 0x301u);  // sampled, remote context
    EXPECT_FALSE(links[0].has(5));
    const auto link_attributes = links[0].repeated(4);
    ASSERT_EQ(link_attributes.size(), 2u);
    EXPECT_EQ(link_attributes[0].bytes(1), "link.reason");
    EXPECT_EQ(link_attributes[0].sub(2).bytes(1), "untrusted listener");
    EXPECT_EQ(link_attributes[1].bytes(1), "link.count");
    EXPECT_EQ(link_attributes[1].sub(2).int64(3), 2);

    const auto status = span.sub(15);
    EXPECT_FALSE(status.has(1));
    EXPECT_EQ(status.bytes(2), "upstream \"users\" returned 503");
    EXPECT_EQ(status.varint(3), 2u);  // STATUS_CODE_ERROR

    EXPECT_TRUE(span.in_field_order());
    for (const auto& f : span.fields()) EXPECT_LE(f.number, 16u);
}

TEST(otlp_protobuf_encoder, attributes_keep_order_type_and_value) {
    std::string out;
    const auto server = test::sample_server_span();
    encode_otlp_protobuf(std::span(&server, 1), test::sample_resource(), out);
    const auto span = spans_of(out).at(0);
    const auto attributes = span.repeated(9);
    expect_attributes(attributes, server.attributes);

    // Spot checks against literals, independent of the fixture's own values.
    ASSERT_EQ(attributes.size(), 22u);
    EXPECT_EQ(attributes[15].bytes(1), "http.response.status_code");
    EXPECT_EQ(attributes[15].sub(2).varint(3), 503u);
    // A zero int64 and a false bool are still written: AnyValue is a oneof.
    EXPECT_EQ(attributes[16].sub(2).varint(3), 0u);
    EXPECT_EQ(attributes[21].sub(2).varint(2), 0u);
    EXPECT_EQ(attributes[20].sub(2).varint(2), 1u);
    // Negative int64: ten-byte two's-complement varint (not zigzag).
    EXPECT_EQ(attributes[19].sub(2).varint(3), 0xFFFF'FFFF'FFFF'FFD6u);
    EXPECT_EQ(attributes[19].one(2, test::pb::wire::len).payload.size(), 11u);  // tag + 10 bytes
}

TEST(otlp_protobuf_encoder, client_span_has_a_local_parent) {
    std::string out;
    const auto batch = sample_batch();
    encode_otlp_protobuf(batch, test::sample_resource(), out);
    const auto span = spans_of(out).at(1);
    EXPECT_EQ(span.bytes(2), unhex("1122334455667788"));
    EXPECT_EQ(span.bytes(4), unhex("00f067aa0ba902b7"));
    EXPECT_EQ(span.varint(6), 3u);  // SPAN_KIND_CLIENT
    EXPECT_EQ(span.fixed32(16), 0x101u);  // sampled, parent known to be local
    EXPECT_FALSE(span.has(3));   // no tracestate
    EXPECT_FALSE(span.has(15));  // status unset: no Status message
    EXPECT_FALSE(span.has(10));
    EXPECT_FALSE(span.has(12));
    EXPECT_FALSE(span.has(13));
    expect_attributes(span.repeated(9), test::sample_client_span().attributes);
}

TEST(otlp_protobuf_encoder, root_span_has_no_parent_and_status_ok) {
    std::string out;
    const auto root = test::sample_root_span();
    encode_otlp_protobuf(std::span(&root, 1), test::sample_resource(), out);
    const auto span = spans_of(out).at(0);
    EXPECT_FALSE(span.has(4));
    EXPECT_FALSE(span.has(3));
    EXPECT_FALSE(span.has(11));
    EXPECT_FALSE(span.has(13));
    EXPECT_EQ(span.fixed32(16), 0x101u);
    EXPECT_EQ(span.fixed64(7), 1'709'251'199'999'999'999u);
    EXPECT_EQ(span.fixed64(8), 1'709'251'200'000'000'400u);
    const auto status = span.sub(15);
    EXPECT_EQ(status.varint(3), 1u);  // STATUS_CODE_OK
    EXPECT_FALSE(status.has(2));
    EXPECT_EQ(status.fields().size(), 1u);
}

TEST(otlp_protobuf_encoder, empty_name_and_zero_times_are_still_written) {
    span_data s;
    s.trace_id = trace_id::from_uint64(1, 2);
    s.span_id = span_id::from_uint64(3);
    std::string out;
    encode_otlp_protobuf(std::span(&s, 1), resource{}, out);
    const auto span = spans_of(out).at(0);
    EXPECT_EQ(span.bytes(5), "");
    EXPECT_EQ(span.varint(6), 2u);
    EXPECT_EQ(span.fixed64(7), 0u);
    EXPECT_EQ(span.fixed64(8), 0u);
    EXPECT_EQ(span.fixed32(16), 0x100u);
    EXPECT_EQ(span.fields().size(), 7u);  // trace_id, span_id, name, kind, start, end, flags
}

TEST(otlp_protobuf_encoder, empty_batch_is_an_empty_request) {
    std::string out = "left over";
    encode_otlp_protobuf({}, test::sample_resource(), out);
    EXPECT_EQ(out, "");
}

TEST(otlp_protobuf_encoder, ill_formed_utf8_is_replaced_so_collectors_accept_it) {
    span_data s = test::sample_client_span();
    s.name = "bad \xFF name \xC3";  // a stray byte and a truncated sequence
    s.attributes = {{"ua", std::string("x\xED\xA0\x80y")}};  // an encoded surrogate
    std::string out;
    encode_otlp_protobuf(std::span(&s, 1), resource{}, out);
    const auto span = spans_of(out).at(0);
    EXPECT_EQ(span.bytes(5), "bad \xEF\xBF\xBD name \xEF\xBF\xBD");
    EXPECT_EQ(span.repeated(9).at(0).sub(2).bytes(1), "x\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDy");
}

TEST(otlp_protobuf_encoder, large_batches_and_long_values_have_right_lengths) {
    // Lengths that need two and three varint bytes: long values, 512 spans.
    std::vector<span_data> batch(512, test::sample_server_span());
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].span_id = span_id::from_uint64(i + 1);
    batch[7].attributes.push_back({"long", std::string(20'000, 'x')});
    std::string out = std::string(100, 'z');
    encode_otlp_protobuf(batch, test::sample_resource(), out);
    const auto spans = spans_of(out);
    ASSERT_EQ(spans.size(), 512u);
    for (std::size_t i = 0; i < spans.size(); ++i) {
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016zx", i + 1);
        ASSERT_EQ(spans[i].bytes(2), unhex(hex)) << i;
        ASSERT_EQ(spans[i].repeated(9).size(), i == 7 ? 23u : 22u) << i;
    }
    EXPECT_EQ(spans[7].repeated(9).back().sub(2).bytes(1).size(), 20'000u);
}

TEST(otlp_protobuf_encoder, protoc_decodes_the_request) {
    std::string out;
    const auto batch = sample_batch();
    encode_otlp_protobuf(batch, test::sample_resource(), out);

    const fs::path dir = fs::temp_directory_path() / ("tracegate-otlp-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path input = dir / "request.bin";
    const fs::path output = dir / "request.txt";
    const fs::path errors = dir / "protoc.err";
    std::ofstream(input, std::ios::binary).write(out.data(), static_cast<std::streamsize>(out.size()));
    const std::string command =
        std::string("'") + TRACEGATE_PROTOC +
        "' --decode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"
        " --proto_path='" TRACEGATE_SOURCE_DIR "/tests/proto' otlp_trace.proto < '" +
        input.string() + "' > '" + output.string() + "' 2> '" + errors.string() + "'";
    const int status = std::system(command.c_str());
    std::stringstream text, error_text;
    text << std::ifstream(output).rdbuf();
    error_text << std::ifstream(errors).rdbuf();
    fs::remove_all(dir);

    ASSERT_TRUE(WIFEXITED(status)) << command;
    ASSERT_EQ(WEXITSTATUS(status), 0) << error_text.str();
    const std::string decoded = text.str();
    for (const char* expected : {
             "kind: SPAN_KIND_SERVER",
             "kind: SPAN_KIND_CLIENT",
             "name: \"GET /users/{id}\"",
             "name: \"tracegate\"",
             "string_value: \"checkout\"",
             "key: \"http.response.status_code\"",
             "int_value: 503",
             "int_value: -42",
             "bool_value: false",
             "double_value: 0.25",
             "start_time_unix_nano: 1700000000123456789",
             "flags: 771",
             "code: STATUS_CODE_ERROR",
             "code: STATUS_CODE_OK",
             "trace_state: \"congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\"",
             "dropped_events_count: 1",
         })
        EXPECT_NE(decoded.find(expected), std::string::npos) << expected << "\n" << decoded;
}

// ---- OTLP JSON --------------------------------------------------------------------------

json::object json_span(const json::value& request, std::size_t index) {
    const auto& resource_spans = request.at("resourceSpans").as_array();
    EXPECT_EQ(resource_spans.size(), 1u);
    const auto& scope_spans = resource_spans.at(0).at("scopeSpans").as_array();
    EXPECT_EQ(scope_spans.size(), 1u);
    return scope_spans.at(0).at("spans").as_array().at(index).as_object();
}

/// Checks an OTLP JSON attribute list against `expected`, in order.
void expect_json_attributes(const json::array& actual, const std::vector<attribute>& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& kv = actual[i].as_object();
        SCOPED_TRACE(expected[i].key);
        EXPECT_EQ(kv.at("key").as_string(), expected[i].key);
        const auto& value = kv.at("value").as_object();
        ASSERT_EQ(value.size(), 1u);
        if (const auto* text = std::get_if<std::string>(&expected[i].value)) {
            EXPECT_EQ(value.at("stringValue").as_string(), *text);
        } else if (const auto* flag = std::get_if<bool>(&expected[i].value)) {
            EXPECT_EQ(value.at("boolValue").as_bool(), *flag);
        } else if (const auto* number = std::get_if<std::int64_t>(&expected[i].value)) {
            // proto3 JSON: int64 as a decimal string.
            EXPECT_EQ(value.at("intValue").as_string(), std::to_string(*number));
        } else {
            EXPECT_EQ(value.at("doubleValue").to_number<double>(), std::get<double>(expected[i].value));
        }
    }
}

TEST(otlp_json_encoder, server_span_has_every_field) {
    std::string out;
    const auto batch = sample_batch();
    encode_otlp_json(batch, test::sample_resource(), out);
    const auto request = json::parse(out);
    ASSERT_EQ(request.as_object().size(), 1u);

    const auto& resource_spans = request.at("resourceSpans").as_array().at(0).as_object();
    const auto& resource_attributes = resource_spans.at("resource").at("attributes").as_array();
    expect_json_attributes(resource_attributes, test::sample_resource().attributes);
    EXPECT_EQ(resource_attributes.at(2).at("value").at("intValue").as_string(), "4242");
    const auto& scope = resource_spans.at("scopeSpans").as_array().at(0).at("scope").as_object();
    EXPECT_EQ(scope.at("name").as_string(), "tracegate");
    EXPECT_EQ(scope.at("version").as_string(), tracegate_version());

    const auto span = json_span(request, 0);
    EXPECT_EQ(span.at("traceId").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(span.at("spanId").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(span.at("parentSpanId").as_string(), "53995c3f42cd8ad8");
    EXPECT_EQ(span.at("traceState").as_string(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    EXPECT_EQ(span.at("flags").as_int64(), 0x303);
    EXPECT_EQ(span.at("name").as_string(), "GET /users/{id}");
    EXPECT_EQ(span.at("kind").as_int64(), 2);
    EXPECT_EQ(span.at("startTimeUnixNano").as_string(), "1700000000123456789");
    EXPECT_EQ(span.at("endTimeUnixNano").as_string(), "1700000000125957788");
    expect_json_attributes(span.at("attributes").as_array(), test::sample_server_span().attributes);
    EXPECT_EQ(span.at("attributes").at(18).at("value").at("doubleValue").as_double(), 0.25);
    EXPECT_EQ(span.at("attributes").at(19).at("value").at("intValue").as_string(), "-42");
    EXPECT_EQ(span.at("droppedAttributesCount").as_int64(), 2);
    const auto& events = span.at("events").as_array();
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].at("timeUnixNano").as_string(), "1700000000124456789");
    EXPECT_EQ(events[0].at("name").as_string(), "first upstream byte");
    EXPECT_EQ(events[2].at("timeUnixNano").as_string(), "1700000000125856789");
    EXPECT_EQ(events[2].at("name").as_string(), "response complete");
    EXPECT_EQ(span.at("droppedEventsCount").as_int64(), 1);
    EXPECT_FALSE(span.contains("droppedLinksCount"));
    const auto& link = span.at("links").as_array().at(0).as_object();
    EXPECT_EQ(link.at("traceId").as_string(), "0af7651916cd43dd8448eb211c80319c");
    EXPECT_EQ(link.at("spanId").as_string(), "b7ad6b7169203331");
    EXPECT_EQ(link.at("traceState").as_string(), "vendor=1");
    EXPECT_EQ(link.at("flags").as_int64(), 0x301);
    expect_json_attributes(link.at("attributes").as_array(), test::sample_server_span().links[0].attributes);
    const auto& status = span.at("status").as_object();
    EXPECT_EQ(status.at("code").as_int64(), 2);
    EXPECT_EQ(status.at("message").as_string(), "upstream \"users\" returned 503");
    EXPECT_EQ(span.size(), 15u);  // nothing else
}

TEST(otlp_json_encoder, root_and_client_spans_leave_default_fields_out) {
    std::string out;
    const auto batch = sample_batch();
    encode_otlp_json(batch, test::sample_resource(), out);
    const auto request = json::parse(out);
    const auto client = json_span(request, 1);
    EXPECT_EQ(client.at("kind").as_int64(), 3);
    EXPECT_EQ(client.at("flags").as_int64(), 0x101);
    EXPECT_EQ(client.at("parentSpanId").as_string(), "00f067aa0ba902b7");
    for (const char* absent : {"traceState", "status", "links", "droppedAttributesCount", "droppedEventsCount"})
        EXPECT_FALSE(client.contains(absent)) << absent;

    const auto root = json_span(request, 2);
    for (const char* absent : {"parentSpanId", "traceState", "links", "events"})
        EXPECT_FALSE(root.contains(absent)) << absent;
    EXPECT_EQ(root.at("status").as_object().size(), 1u);
    EXPECT_EQ(root.at("status").at("code").as_int64(), 1);
    EXPECT_EQ(root.at("startTimeUnixNano").as_string(), "1709251199999999999");
}

TEST(otlp_encoders, every_span_kind_has_its_otlp_number) {
    // Span.SpanKind: INTERNAL 1, SERVER 2, CLIENT 3, PRODUCER 4, CONSUMER 5.
    std::vector<span_data> batch(5, test::sample_root_span());
    batch[0].kind = span_kind::internal;
    batch[1].kind = span_kind::server;
    batch[2].kind = span_kind::client;
    batch[3].kind = span_kind::producer;
    batch[4].kind = span_kind::consumer;
    std::string out;
    encode_otlp_protobuf(batch, resource{}, out);
    const auto spans = spans_of(out);
    ASSERT_EQ(spans.size(), 5u);
    for (std::size_t i = 0; i < spans.size(); ++i) EXPECT_EQ(spans[i].varint(6), i + 1) << i;

    encode_otlp_json(batch, resource{}, out);
    const auto request = json::parse(out);
    for (std::size_t i = 0; i < batch.size(); ++i)
        EXPECT_EQ(json_span(request, i).at("kind").as_int64(), static_cast<std::int64_t>(i + 1)) << i;
}

TEST(otlp_json_encoder, strings_are_escaped_and_utf8_kept) {
    std::string out;
    const auto server = test::sample_server_span();
    encode_otlp_json(std::span(&server, 1), test::sample_resource(), out);
    const auto span = json_span(json::parse(out), 0);
    const auto& attributes = span.at("attributes").as_array();
    EXPECT_EQ(attributes.at(2).at("value").at("stringValue").as_string(), "q=\"quoted\"&path=C:\\tmp");
    EXPECT_EQ(attributes.at(10).at("value").at("stringValue").as_string(),
              "Mozilla/5.0 Grüße \xE2\x82\xAC \xF0\x9F\x9A\x80");
    EXPECT_EQ(attributes.at(11).at("value").at("stringValue").as_string(), "req-7f3c\n\t\x01 end");
    // Control characters never appear raw in the text.
    EXPECT_EQ(out.find('\x01'), std::string::npos);
    EXPECT_NE(out.find("\\u0001"), std::string::npos);
    EXPECT_EQ(out.find('\n'), std::string::npos);
}

TEST(otlp_json_encoder, every_character_needing_care_round_trips_at_any_position) {
    // Each special character at every offset of an 8-byte word (the escaper copies words).
    const std::vector<std::string> specials = {"\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x01", "\x1f",
                                               "\x7f", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x9A\x80"};
    span_data s = test::sample_client_span();
    s.attributes.clear();
    for (const auto& special : specials)
        for (std::size_t offset = 0; offset < 9; ++offset)
            s.attributes.push_back({"k" + std::to_string(s.attributes.size()),
                                    std::string(offset, 'a') + special + std::string(9, 'b')});
    std::string out;
    encode_otlp_json(std::span(&s, 1), resource{}, out);
    const auto span = json_span(json::parse(out), 0);
    expect_json_attributes(span.at("attributes").as_array(), s.attributes);
    for (unsigned char c = 0; c < 0x20; ++c) EXPECT_EQ(out.find(static_cast<char>(c)), std::string::npos) << int{c};
}

TEST(otlp_json_encoder, non_finite_doubles_are_proto3_json_strings) {
    span_data s = test::sample_client_span();
    s.attributes = {{"nan", std::numeric_limits<double>::quiet_NaN()},
                    {"inf", std::numeric_limits<double>::infinity()},
                    {"minus_inf", -std::numeric_limits<double>::infinity()},
                    {"integral", 3.0},
                    {"tiny", 5e-324}};
    std::string out;
    encode_otlp_json(std::span(&s, 1), resource{}, out);
    const auto span = json_span(json::parse(out), 0);
    const auto& attributes = span.at("attributes").as_array();
    EXPECT_EQ(attributes.at(0).at("value").at("doubleValue").as_string(), "NaN");
    EXPECT_EQ(attributes.at(1).at("value").at("doubleValue").as_string(), "Infinity");
    EXPECT_EQ(attributes.at(2).at("value").at("doubleValue").as_string(), "-Infinity");
    EXPECT_TRUE(attributes.at(3).at("value").at("doubleValue").is_double());
    EXPECT_EQ(attributes.at(3).at("value").at("doubleValue").as_double(), 3.0);
    EXPECT_EQ(attributes.at(4).at("value").at("doubleValue").as_double(), 5e-324);
}

TEST(otlp_json_encoder, empty_batch_is_an_empty_request) {
    std::string out = "left over";
    encode_otlp_json({}, test::sample_resource(), out);
    EXPECT_EQ(json::parse(out), json::parse("{}"));
}

}  // namespace
}  // namespace tracegate::tracing
