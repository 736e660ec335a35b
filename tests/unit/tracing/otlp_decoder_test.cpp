#include "tracing/otlp_decoder.hpp"

#include "tracing/otlp_encoder.hpp"
#include "tests/unit/tracing/encoder_samples.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracegate::tracing {
namespace {

namespace fs = std::filesystem;

// ---- Comparing spans field by field ------------------------------------------------------

void expect_same_attributes(const std::vector<attribute>& actual, const std::vector<attribute>& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        SCOPED_TRACE(expected[i].key);
        EXPECT_EQ(actual[i].key, expected[i].key);
        EXPECT_EQ(actual[i].value.index(), expected[i].value.index());
        const auto* a = std::get_if<double>(&actual[i].value);
        const auto* e = std::get_if<double>(&expected[i].value);
        if (a != nullptr && e != nullptr && std::isnan(*e))
            EXPECT_TRUE(std::isnan(*a));
        else
            EXPECT_EQ(actual[i].value, expected[i].value);
    }
}

void expect_same_span(const span_data& actual, const span_data& expected) {
    SCOPED_TRACE("span " + expected.span_id.to_hex() + " \"" + expected.name + "\"");
    EXPECT_EQ(actual.trace_id, expected.trace_id);
    EXPECT_EQ(actual.span_id, expected.span_id);
    EXPECT_EQ(actual.parent_span_id, expected.parent_span_id);
    EXPECT_EQ(actual.parent_is_remote, expected.parent_is_remote);
    EXPECT_EQ(actual.trace_flags, expected.trace_flags);
    EXPECT_EQ(actual.tracestate, expected.tracestate);
    EXPECT_EQ(actual.name, expected.name);
    EXPECT_EQ(actual.kind, expected.kind);
    EXPECT_EQ(actual.start_time_unix_nano, expected.start_time_unix_nano);
    EXPECT_EQ(actual.end_time_unix_nano, expected.end_time_unix_nano);
    expect_same_attributes(actual.attributes, expected.attributes);
    ASSERT_EQ(actual.events.size(), expected.events.size());
    for (std::size_t i = 0; i < expected.events.size(); ++i) {
        EXPECT_EQ(actual.events[i].name, expected.events[i].name);
        EXPECT_EQ(actual.events[i].time_unix_nano, expected.events[i].time_unix_nano);
    }
    ASSERT_EQ(actual.links.size(), expected.links.size());
    for (std::size_t i = 0; i < expected.links.size(); ++i) {
        const span_context& a = actual.links[i].context;
        const span_context& e = expected.links[i].context;
        EXPECT_EQ(a.trace_id, e.trace_id);
        EXPECT_EQ(a.span_id, e.span_id);
        EXPECT_EQ(a.trace_flags, e.trace_flags);
        EXPECT_EQ(a.tracestate, e.tracestate);
        EXPECT_EQ(a.is_remote, e.is_remote);
        expect_same_attributes(actual.links[i].attributes, expected.links[i].attributes);
    }
    EXPECT_EQ(actual.status, expected.status);
    EXPECT_EQ(actual.status_message, expected.status_message);
    EXPECT_EQ(actual.dropped_attributes_count, expected.dropped_attributes_count);
    EXPECT_EQ(actual.dropped_events_count, expected.dropped_events_count);
    EXPECT_EQ(actual.dropped_links_count, expected.dropped_links_count);
}

using grouped = std::vector<std::pair<std::string, std::vector<span_data>>>;

void expect_same_groups(const decoded_spans& actual, const grouped& expected) {
    ASSERT_EQ(actual.by_service.size(), expected.size());
    for (std::size_t g = 0; g < expected.size(); ++g) {
        SCOPED_TRACE("service " + expected[g].first);
        EXPECT_EQ(actual.by_service[g].first, expected[g].first);
        ASSERT_EQ(actual.by_service[g].second.size(), expected[g].second.size());
        for (std::size_t i = 0; i < expected[g].second.size(); ++i)
            expect_same_span(actual.by_service[g].second[i], expected[g].second[i]);
    }
}

/// A message of otlp_decode_error, or "" when `decode` succeeds.
template <typename Decode>
std::string error_of(Decode decode) {
    try {
        decode();
    } catch (const otlp_decode_error& e) {
        return e.what();
    }
    return "";
}

// ---- Round trips through our encoders -----------------------------------------------------

/// Spans covering every field and kind, as span_data can hold them after a decode (trace
/// flags within sampled|random).
std::vector<span_data> round_trip_batch() {
    std::vector<span_data> batch = {test::sample_server_span(), test::sample_client_span(), test::sample_root_span()};
    span_data internal = test::sample_root_span();
    internal.span_id = span_id::from_uint64(0x1001);
    internal.parent_span_id = span_id::from_uint64(0xa1a2a3a4a5a6a7a8);
    internal.kind = span_kind::internal;
    internal.name = "render";
    internal.dropped_links_count = 9;
    span_data producer = internal;
    producer.span_id = span_id::from_uint64(0x1002);
    producer.kind = span_kind::producer;
    producer.status = status_code::unset;
    span_data consumer = producer;
    consumer.span_id = span_id::from_uint64(0x1003);
    consumer.kind = span_kind::consumer;
    consumer.parent_is_remote = true;
    consumer.trace_flags = 0;
    batch.insert(batch.end(), {internal, producer, consumer});
    return batch;
}

TEST(otlp_decoder, protobuf_round_trip_keeps_every_field) {
    const auto batch = round_trip_batch();
    std::string body;
    encode_otlp_protobuf(batch, test::sample_resource(), body);
    expect_same_groups(decode_otlp_protobuf(body), {{"checkout", batch}});
}

TEST(otlp_decoder, json_round_trip_keeps_every_field) {
    const auto batch = round_trip_batch();
    std::string body;
    encode_otlp_json(batch, test::sample_resource(), body);
    expect_same_groups(decode_otlp_json(body), {{"checkout", batch}});
}

TEST(otlp_decoder, round_trips_keep_non_finite_doubles_and_extreme_integers) {
    span_data span = test::sample_root_span();
    span.attributes = {{"nan", std::numeric_limits<double>::quiet_NaN()},
                       {"inf", std::numeric_limits<double>::infinity()},
                       {"-inf", -std::numeric_limits<double>::infinity()},
                       {"min", std::numeric_limits<std::int64_t>::min()},
                       {"max", std::numeric_limits<std::int64_t>::max()},
                       {"pi", 3.141592653589793}};
    span.end_time_unix_nano = std::numeric_limits<std::uint64_t>::max();
    std::string body;
    encode_otlp_protobuf(std::span(&span, 1), test::sample_resource(), body);
    expect_same_groups(decode_otlp_protobuf(body), {{"checkout", {span}}});
    encode_otlp_json(std::span(&span, 1), test::sample_resource(), body);
    expect_same_groups(decode_otlp_json(body), {{"checkout", {span}}});
}

TEST(otlp_decoder, empty_requests_hold_no_spans) {
    std::string body;
    encode_otlp_protobuf({}, test::sample_resource(), body);
    EXPECT_EQ(decode_otlp_protobuf(body).span_count(), 0u);
    encode_otlp_json({}, test::sample_resource(), body);
    EXPECT_EQ(decode_otlp_json(body).span_count(), 0u);
    EXPECT_TRUE(decode_otlp_json(R"({"resourceSpans":[]})").by_service.empty());
    EXPECT_TRUE(decode_otlp_json(R"({"resourceSpans":null})").by_service.empty());
}

// ---- An independent producer: protoc --encode of a text-format request --------------------

/// Every kind of value and field, three resources (one without service.name, two of the
/// same service), an explicit all-zero parent, a missing kind, an end before the start.
constexpr std::string_view text_fixture = R"pb(
resource_spans {
  resource {
    attributes { key: "service.name" value { string_value: "frontend" } }
    attributes { key: "host.name" value { string_value: "web-1" } }
  }
  scope_spans {
    scope { name: "io.opentelemetry.http" version: "1.0" }
    spans {
      trace_id: "\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36"
      span_id: "\x00\xf0\x67\xaa\x0b\xa9\x02\xb7"
      trace_state: "rojo=00f067aa0ba902b7"
      parent_span_id: "\x53\x99\x5c\x3f\x42\xcd\x8a\xd8"
      flags: 769
      name: "GET /users/{id}"
      kind: SPAN_KIND_SERVER
      start_time_unix_nano: 1700000000123456789
      end_time_unix_nano: 1700000000125957788
      attributes { key: "http.route" value { string_value: "/users/{id}" } }
      attributes { key: "http.response.status_code" value { int_value: 503 } }
      attributes { key: "ratio" value { double_value: 0.25 } }
      attributes { key: "cached" value { bool_value: false } }
      attributes { key: "negative" value { int_value: -42 } }
      attributes { key: "tags" value { array_value {
        values { string_value: "a" } values { int_value: 1 } values { bool_value: true }
        values { double_value: 2.5 } values { array_value { } } values { } } } }
      attributes { key: "labels" value { kvlist_value {
        values { key: "k" value { string_value: "v\"q" } }
        values { key: "n" value { int_value: -3 } }
        values { key: "none" } } } }
      attributes { key: "raw" value { bytes_value: "\x01\x02\xff" } }
      attributes { key: "empty" value { } }
      attributes { key: "negative" value { int_value: -43 } }
      dropped_attributes_count: 4
      events {
        time_unix_nano: 1700000000124456789
        name: "first byte"
        attributes { key: "ignored" value { int_value: 1 } }
      }
      events { name: "no time" }
      dropped_events_count: 2
      links {
        trace_id: "\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c"
        span_id: "\xb7\xad\x6b\x71\x69\x20\x33\x31"
        trace_state: "vendor=1"
        attributes { key: "link.reason" value { string_value: "ingress" } }
        flags: 769
      }
      dropped_links_count: 3
      status { message: "upstream failed" code: STATUS_CODE_ERROR }
    }
  }
}
resource_spans {
  resource { attributes { key: "host.name" value { string_value: "batch-1" } } }
  scope_spans {
    spans {
      trace_id: "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
      span_id: "\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8"
      parent_span_id: "\x00\x00\x00\x00\x00\x00\x00\x00"
      name: "nightly"
      start_time_unix_nano: 1000
      end_time_unix_nano: 500
      status { code: STATUS_CODE_OK }
    }
    spans {
      trace_id: "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
      span_id: "\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8"
      parent_span_id: "\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8"
      flags: 259
      name: "enqueue"
      kind: SPAN_KIND_PRODUCER
      start_time_unix_nano: 2000
      end_time_unix_nano: 3000
    }
  }
}
resource_spans {
  resource { attributes { key: "service.name" value { string_value: "frontend" } } }
  scope_spans {
    spans {
      trace_id: "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
      span_id: "\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8"
      parent_span_id: "\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8"
      flags: 769
      name: "dequeue"
      kind: SPAN_KIND_CONSUMER
      start_time_unix_nano: 4000
      end_time_unix_nano: 5000
    }
  }
}
)pb";

/// What text_fixture and json_fixture decode to, written out by hand.
grouped expected_fixture() {
    span_data server;
    server.trace_id = trace_id::from_uint64(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736);
    server.span_id = span_id::from_uint64(0x00f067aa0ba902b7);
    server.parent_span_id = span_id::from_uint64(0x53995c3f42cd8ad8);
    server.parent_is_remote = true;  // flags 0x301
    server.trace_flags = sampled_flag;
    server.tracestate = "rojo=00f067aa0ba902b7";
    server.name = "GET /users/{id}";
    server.kind = span_kind::server;
    server.start_time_unix_nano = 1'700'000'000'123'456'789;
    server.end_time_unix_nano = 1'700'000'000'125'957'788;
    server.attributes = {
        {"http.route", std::string("/users/{id}")},
        {"http.response.status_code", std::int64_t{503}},
        {"ratio", 0.25},
        {"cached", false},
        {"negative", std::int64_t{-43}},  // the key repeated: first place, last value
        {"tags", std::string(R"(["a",1,true,2.5,[],null])")},
        {"labels", std::string(R"({"k":"v\"q","n":-3,"none":null})")},
        {"raw", std::string("AQL/")},  // base64 of 01 02 ff
        // "empty" has no value: left out
    };
    server.dropped_attributes_count = 4;
    server.events = {{"first byte", 1'700'000'000'124'456'789}, {"no time", 0}};
    server.dropped_events_count = 2;
    span_link link;
    link.context.trace_id = trace_id::from_uint64(0x0af7651916cd43dd, 0x8448eb211c80319c);
    link.context.span_id = span_id::from_uint64(0xb7ad6b7169203331);
    link.context.trace_flags = sampled_flag;
    link.context.tracestate = "vendor=1";
    link.context.is_remote = true;
    link.attributes = {{"link.reason", std::string("ingress")}};
    server.links = {link};
    server.dropped_links_count = 3;
    server.status = status_code::error;
    server.status_message = "upstream failed";

    const trace_id batch_trace = trace_id::from_uint64(0x0102030405060708, 0x090a0b0c0d0e0f10);
    span_data nightly;
    nightly.trace_id = batch_trace;
    nightly.span_id = span_id::from_uint64(0xa1a2a3a4a5a6a7a8);
    nightly.name = "nightly";
    nightly.kind = span_kind::internal;  // SPAN_KIND_UNSPECIFIED
    nightly.start_time_unix_nano = 1000;
    nightly.end_time_unix_nano = 1000;  // was 500: before the start
    nightly.status = status_code::ok;

    span_data enqueue;
    enqueue.trace_id = batch_trace;
    enqueue.span_id = span_id::from_uint64(0xb1b2b3b4b5b6b7b8);
    enqueue.parent_span_id = span_id::from_uint64(0xa1a2a3a4a5a6a7a8);
    enqueue.trace_flags = sampled_flag | random_flag;  // flags 0x103: parent known to be local
    enqueue.name = "enqueue";
    enqueue.kind = span_kind::producer;
    enqueue.start_time_unix_nano = 2000;
    enqueue.end_time_unix_nano = 3000;

    span_data dequeue;
    dequeue.trace_id = batch_trace;
    dequeue.span_id = span_id::from_uint64(0xc1c2c3c4c5c6c7c8);
    dequeue.parent_span_id = span_id::from_uint64(0xb1b2b3b4b5b6b7b8);
    dequeue.parent_is_remote = true;
    dequeue.trace_flags = sampled_flag;
    dequeue.name = "dequeue";
    dequeue.kind = span_kind::consumer;
    dequeue.start_time_unix_nano = 4000;
    dequeue.end_time_unix_nano = 5000;

    return {{"frontend", {server, dequeue}}, {"unknown_service", {nightly, enqueue}}};
}

/// protoc --encode of `text` as an ExportTraceServiceRequest.
std::string protoc_encode(std::string_view text) {
    const fs::path dir = fs::temp_directory_path() / ("tracegate-otlp-decode-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path input = dir / "request.txt";
    const fs::path output = dir / "request.bin";
    const fs::path errors = dir / "protoc.err";
    std::ofstream(input) << text;
    const std::string command =
        std::string("'") + TRACEGATE_PROTOC +
        "' --encode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"
        " --proto_path='" TRACEGATE_SOURCE_DIR "/tests/proto' otlp_trace.proto < '" +
        input.string() + "' > '" + output.string() + "' 2> '" + errors.string() + "'";
    const int status = std::system(command.c_str());
    std::stringstream bytes, error_text;
    bytes << std::ifstream(output, std::ios::binary).rdbuf();
    error_text << std::ifstream(errors).rdbuf();
    fs::remove_all(dir);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\n" << error_text.str();
    return bytes.str();
}

TEST(otlp_decoder, protobuf_from_protoc_decodes_every_field) {
    const std::string body = protoc_encode(text_fixture);
    ASSERT_FALSE(body.empty());
    const decoded_spans decoded = decode_otlp_protobuf(body);
    EXPECT_EQ(decoded.span_count(), 4u);
    expect_same_groups(decoded, expected_fixture());
}

// ---- JSON as an OpenTelemetry Collector sends it -----------------------------------------

/// text_fixture in OTLP JSON as the Collector's otlphttp exporter writes it: lowerCamelCase,
/// hex ids, enums as integers, 64-bit integers as strings, defaults left out; plus members
/// tracegate does not know (schemaUrl, scope attributes, event attributes).
constexpr std::string_view json_fixture = R"({"resourceSpans":[
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}},
                            {"key":"host.name","value":{"stringValue":"web-1"}}]},
  "scopeSpans":[{"scope":{"name":"io.opentelemetry.http","version":"1.0",
                          "attributes":[{"key":"x","value":{"intValue":"1"}}]},
    "spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",
      "traceState":"rojo=00f067aa0ba902b7","parentSpanId":"53995c3f42cd8ad8","flags":769,
      "name":"GET /users/{id}","kind":2,
      "startTimeUnixNano":"1700000000123456789","endTimeUnixNano":"1700000000125957788",
      "attributes":[
        {"key":"http.route","value":{"stringValue":"/users/{id}"}},
        {"key":"http.response.status_code","value":{"intValue":"503"}},
        {"key":"ratio","value":{"doubleValue":0.25}},
        {"key":"cached","value":{"boolValue":false}},
        {"key":"negative","value":{"intValue":"-42"}},
        {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"},
          {"boolValue":true},{"doubleValue":2.5},{"arrayValue":{}},{}]}}},
        {"key":"labels","value":{"kvlistValue":{"values":[
          {"key":"k","value":{"stringValue":"v\"q"}},{"key":"n","value":{"intValue":"-3"}},{"key":"none"}]}}},
        {"key":"raw","value":{"bytesValue":"AQL/"}},
        {"key":"empty","value":{}},
        {"key":"negative","value":{"intValue":"-43"}}],
      "droppedAttributesCount":4,
      "events":[{"timeUnixNano":"1700000000124456789","name":"first byte",
                 "attributes":[{"key":"ignored","value":{"intValue":"1"}}]},
                {"name":"no time"}],
      "droppedEventsCount":2,
      "links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
                "traceState":"vendor=1","attributes":[{"key":"link.reason","value":{"stringValue":"ingress"}}],
                "flags":769}],
      "droppedLinksCount":3,
      "status":{"message":"upstream failed","code":2}}]}],
  "schemaUrl":"https://opentelemetry.io/schemas/1.21.0"},
 {"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"batch-1"}}]},
  "scopeSpans":[{"scope":{},"spans":[
    {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a1a2a3a4a5a6a7a8",
     "parentSpanId":"0000000000000000","name":"nightly",
     "startTimeUnixNano":"1000","endTimeUnixNano":"500","status":{"code":1}},
    {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"b1b2b3b4b5b6b7b8",
     "parentSpanId":"a1a2a3a4a5a6a7a8","flags":259,"name":"enqueue","kind":4,
     "startTimeUnixNano":"2000","endTimeUnixNano":"3000","status":{}}]}]},
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},
  "scopeSpans":[{"spans":[
    {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"c1c2c3c4c5c6c7c8",
     "parentSpanId":"b1b2b3b4b5b6b7b8","flags":769,"name":"dequeue","kind":5,
     "startTimeUnixNano":"4000","endTimeUnixNano":"5000"}]}]}]})";

TEST(otlp_decoder, json_as_the_collector_sends_it_decodes_every_field) {
    expect_same_groups(decode_otlp_json(json_fixture), expected_fixture());
}

TEST(otlp_decoder, json_takes_snake_case_names_enum_names_numbers_and_uppercase_hex) {
    // The proto field names, enum names, 64-bit integers as JSON numbers, ids in capitals,
    // a double as a string: all allowed by the proto3 JSON mapping.
    const decoded_spans decoded = decode_otlp_json(R"({"resource_spans":[{
      "resource":{"attributes":[{"key":"service.name","value":{"string_value":"billing"}}]},
      "scope_spans":[{"spans":[{
        "trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","span_id":"00F067AA0BA902B7",
        "parent_span_id":"","trace_state":"a=1","flags":"1","name":"charge",
        "kind":"SPAN_KIND_CLIENT","start_time_unix_nano":1700000000000000000,
        "end_time_unix_nano":1.7000000001234568e18,
        "attributes":[{"key":"n","value":{"int_value":7}},{"key":"d","value":{"double_value":"NaN"}},
                      {"key":"e","value":{"double_value":"1e3"}},{"key":"b","value":{"bytes_value":"_-8="}},
                      {"key":"l","value":{"kvlist_value":{"values":[{"key":"x","value":{"int_value":"-1"}}]}}}],
        "dropped_attributes_count":"1","dropped_events_count":2,"dropped_links_count":3,
        "events":[{"time_unix_nano":"5","name":"e1"}],
        "links":[{"trace_id":"0AF7651916CD43DD8448EB211C80319C","span_id":"B7AD6B7169203331","flags":"256"}],
        "status":{"code":"STATUS_CODE_ERROR","message":"declined"}}]}]}]})");
    ASSERT_EQ(decoded.by_service.size(), 1u);
    EXPECT_EQ(decoded.by_service[0].first, "billing");
    ASSERT_EQ(decoded.by_service[0].second.size(), 1u);
    const span_data& s = decoded.by_service[0].second[0];
    EXPECT_EQ(s.trace_id.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(s.span_id.to_hex(), "00f067aa0ba902b7");
    EXPECT_FALSE(s.parent_span_id);  // "" is a root
    EXPECT_FALSE(s.parent_is_remote);
    EXPECT_EQ(s.trace_flags, sampled_flag);
    EXPECT_EQ(s.tracestate, "a=1");
    EXPECT_EQ(s.name, "charge");
    EXPECT_EQ(s.kind, span_kind::client);
    EXPECT_EQ(s.start_time_unix_nano, 1'700'000'000'000'000'000u);
    EXPECT_EQ(s.end_time_unix_nano, 1'700'000'000'123'456'768u);  // the nearest double
    ASSERT_EQ(s.attributes.size(), 5u);
    EXPECT_EQ(s.attributes[0].value, attribute_value{std::int64_t{7}});
    EXPECT_TRUE(std::isnan(std::get<double>(s.attributes[1].value)));
    EXPECT_EQ(s.attributes[2].value, attribute_value{1000.0});
    EXPECT_EQ(s.attributes[3].value, attribute_value{std::string("/+8=")});  // URL-safe in, standard out
    EXPECT_EQ(s.attributes[4].value, attribute_value{std::string(R"({"x":-1})")});
    EXPECT_EQ(s.dropped_attributes_count, 1u);
    EXPECT_EQ(s.dropped_events_count, 2u);
    EXPECT_EQ(s.dropped_links_count, 3u);
    ASSERT_EQ(s.events.size(), 1u);
    EXPECT_EQ(s.events[0].time_unix_nano, 5u);
    ASSERT_EQ(s.links.size(), 1u);
    EXPECT_EQ(s.links[0].context.span_id.to_hex(), "b7ad6b7169203331");
    EXPECT_EQ(s.links[0].context.trace_flags, 0);
    EXPECT_FALSE(s.links[0].context.is_remote);  // 0x100: known to be local
    EXPECT_EQ(s.status, status_code::error);
    EXPECT_EQ(s.status_message, "declined");
}

TEST(otlp_decoder, a_resource_without_a_string_service_name_is_unknown_service) {
    const auto service_of = [](std::string_view resource) {
        const std::string body = R"({"resourceSpans":[{)" + std::string(resource) +
                                 R"("scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
                                 "spanId":"0102030405060708"}]}]}]})";
        return decode_otlp_json(body).by_service.at(0).first;
    };
    EXPECT_EQ(service_of(""), "unknown_service");
    EXPECT_EQ(service_of(R"("resource":{},)"), "unknown_service");
    EXPECT_EQ(service_of(R"("resource":{"attributes":[{"key":"service.name","value":{"intValue":"3"}}]},)"),
              "unknown_service");
    EXPECT_EQ(service_of(R"("resource":{"attributes":[{"key":"service.name","value":{"stringValue":""}}]},)"),
              "unknown_service");
}

// ---- Malformed protobuf --------------------------------------------------------------------

/// Protobuf pieces for hand-made messages.
std::string varint(std::uint64_t v) {
    std::string out;
    for (; v >= 0x80; v >>= 7) out += static_cast<char>(v | 0x80);
    out += static_cast<char>(v);
    return out;
}
std::string tag(std::uint32_t field, std::uint32_t type) { return varint(std::uint64_t{field} << 3 | type); }
std::string len(std::uint32_t field, std::string_view payload) {
    return tag(field, 2) + varint(payload.size()) + std::string(payload);
}
std::string fixed64(std::uint32_t field, std::uint64_t v) {
    std::string out = tag(field, 1);
    for (int i = 0; i < 8; ++i) out += static_cast<char>(v >> (8 * i));
    return out;
}
std::string fixed32(std::uint32_t field, std::uint32_t v) {
    std::string out = tag(field, 5);
    for (int i = 0; i < 4; ++i) out += static_cast<char>(v >> (8 * i));
    return out;
}
std::string varint_field(std::uint32_t field, std::uint64_t v) { return tag(field, 0) + varint(v); }

/// A valid Span with these extra fields appended.
std::string span_bytes(std::string_view extra = {}) {
    return len(1, std::string(15, '\x01') + '\x02') + len(2, std::string(7, '\0') + '\x09') + len(5, "op") +
           std::string(extra);
}

/// A request of one resource, one scope and these Span messages.
std::string request_of(const std::vector<std::string>& spans, std::string_view resource_extra = {}) {
    std::string scope;
    for (const auto& s : spans) scope += len(2, s);
    return len(1, len(2, scope) + std::string(resource_extra));
}

TEST(otlp_decoder, protobuf_skips_unknown_fields_of_every_wire_type) {
    const std::string unknown = varint_field(99, 300) + fixed64(98, 1) + len(97, "junk") + fixed32(96, 2);
    const std::string plain = request_of({span_bytes()});
    std::string scope = unknown + len(2, span_bytes(unknown)) + len(1, unknown) + unknown;
    const std::string noisy = unknown + len(1, unknown + len(2, scope) + unknown + len(3, "schema")) + unknown;
    const decoded_spans a = decode_otlp_protobuf(plain);
    const decoded_spans b = decode_otlp_protobuf(noisy);
    ASSERT_EQ(b.span_count(), 1u);
    expect_same_groups(b, {{"unknown_service", a.by_service.at(0).second}});
    EXPECT_EQ(b.by_service[0].second[0].name, "op");
    EXPECT_EQ(b.by_service[0].second[0].kind, span_kind::internal);
}

TEST(otlp_decoder, malformed_protobuf_gives_a_precise_error) {
    const auto error = [](const std::string& body) { return error_of([&] { decode_otlp_protobuf(body); }); };

    EXPECT_EQ(error(tag(1, 2) + varint(900) + "abc"),
              "field 1 of ExportTraceServiceRequest: length 900 past the end of the message (3 bytes left)");
    EXPECT_EQ(error(len(1, tag(2, 2) + varint(900) + "abcd")),
              "resource_spans[0]: field 2 of ResourceSpans: length 900 past the end of the message (4 bytes left)");
    EXPECT_EQ(error(request_of({span_bytes(), span_bytes(len(1, "abc"))})),
              "resource_spans[0].scope_spans[0].spans[1]: field 1 (trace_id) of Span: must be 16 bytes, got 3");
    EXPECT_EQ(error(request_of({span_bytes(len(4, "abc"))})),
              "resource_spans[0].scope_spans[0].spans[0]: field 4 (parent_span_id) of Span: must be 8 bytes, got 3");
    EXPECT_EQ(error(request_of({len(1, std::string(16, '\x01'))})),
              "resource_spans[0].scope_spans[0].spans[0]: span_id is missing or all zero");
    EXPECT_EQ(error(request_of({span_bytes(len(1, std::string(16, '\0')))})),
              "resource_spans[0].scope_spans[0].spans[0]: trace_id is missing or all zero");
    EXPECT_EQ(error(request_of({span_bytes(varint_field(7, 5))})),
              "resource_spans[0].scope_spans[0].spans[0]: field 7 (start_time_unix_nano) of Span: wire type 0, "
              "expected 1");
    EXPECT_EQ(error(request_of({span_bytes(tag(5, 3) + tag(5, 4))})),
              "resource_spans[0].scope_spans[0].spans[0]: field 5 of Span: wire type 3 (group) is not supported");
    EXPECT_EQ(error(request_of({span_bytes(tag(20, 6))})),
              "resource_spans[0].scope_spans[0].spans[0]: field 20 of Span: invalid wire type 6");
    EXPECT_EQ(error(request_of({span_bytes(tag(0, 0) + varint(1))})),
              "resource_spans[0].scope_spans[0].spans[0]: field number 0 at byte 32 of Span");
    EXPECT_EQ(error(request_of({span_bytes(tag(10, 0) + "\xff\xff")})),
              "resource_spans[0].scope_spans[0].spans[0]: truncated varint (value) at byte 33 of Span");
    EXPECT_EQ(error(tag(1, 0) + std::string(10, '\xff') + "\x01"),
              "varint longer than 10 bytes (value) at byte 1 of ExportTraceServiceRequest");
    EXPECT_EQ(error(request_of({span_bytes(tag(8, 1) + "1234")})),
              "resource_spans[0].scope_spans[0].spans[0]: field 8 of Span: 8-byte value past the end of the message");
    EXPECT_EQ(error(request_of({span_bytes(len(13, len(1, std::string(16, '\x01'))))})),
              "resource_spans[0].scope_spans[0].spans[0].links[0]: span_id is missing or all zero");
    EXPECT_EQ(error(request_of({span_bytes(len(9, len(2, varint_field(2, 1) + tag(3, 5))))})),
              "resource_spans[0].scope_spans[0].spans[0].attributes[0]: field 3 of AnyValue: "
              "4-byte value past the end of the message");
    EXPECT_EQ(error(request_of({}, len(1, len(1, len(1, "service.name") + len(2, tag(1, 2) + "\xff\x01"))))),
              "resource_spans[0].resource.attributes[0]: field 1 of AnyValue: length 255 past the end of the "
              "message (0 bytes left)");
}

TEST(otlp_decoder, protobuf_values_nested_too_deep_are_an_error) {
    const auto nested = [](std::size_t levels) {
        std::string value = varint_field(3, 1);  // AnyValue{int_value: 1}
        for (std::size_t i = 0; i < levels; ++i) value = len(5, len(1, value));  // {array_value {values {...}}}
        return request_of({span_bytes(len(9, len(1, "deep") + len(2, value)))});
    };
    const decoded_spans ok = decode_otlp_protobuf(nested(otlp_max_value_depth - 1));
    const std::string& text = std::get<std::string>(ok.by_service.at(0).second.at(0).attributes.at(0).value);
    EXPECT_EQ(text, std::string(otlp_max_value_depth - 1, '[') + "1" + std::string(otlp_max_value_depth - 1, ']'));
    const std::string message = error_of([&] { decode_otlp_protobuf(nested(otlp_max_value_depth)); });
    EXPECT_NE(message.find("values nested deeper than 32 levels"), std::string::npos) << message;
    EXPECT_EQ(message.rfind("resource_spans[0].scope_spans[0].spans[0].attributes[0].values[0]", 0), 0u) << message;
}

TEST(otlp_decoder, more_spans_than_max_spans_is_an_error) {
    const std::string body = request_of({span_bytes(), span_bytes(), span_bytes()});
    EXPECT_EQ(decode_otlp_protobuf(body, 3).span_count(), 3u);
    EXPECT_EQ(error_of([&] { decode_otlp_protobuf(body, 2); }),
              "resource_spans[0].scope_spans[0].spans[2]: the request holds more than 2 spans (the limit)");

    std::string json;
    std::vector<span_data> spans(3, test::sample_root_span());
    for (std::size_t i = 0; i < spans.size(); ++i) spans[i].span_id = span_id::from_uint64(i + 1);
    encode_otlp_json(spans, test::sample_resource(), json);
    EXPECT_EQ(decode_otlp_json(json, 3).span_count(), 3u);
    EXPECT_EQ(error_of([&] { decode_otlp_json(json, 2); }),
              "resourceSpans[0].scopeSpans[0].spans[2]: the request holds more than 2 spans (the limit)");
}

// ---- Malformed JSON --------------------------------------------------------------------------

/// A request with one span whose members are `members` (after valid ids unless replaced).
std::string json_span_request(std::string_view members, bool with_ids = true) {
    std::string span = with_ids ? R"("traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708")" : "";
    if (!members.empty()) span += (with_ids ? "," : "") + std::string(members);
    return R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)" + span + "}]}]}]}";
}

TEST(otlp_decoder, malformed_json_gives_a_precise_error) {
    const auto error = [](const std::string& body) { return error_of([&] { decode_otlp_json(body); }); };
    constexpr std::string_view at = "resourceSpans[0].scopeSpans[0].spans[0]";
    const auto expect = [&](std::string_view members, std::string_view message, bool with_ids = true) {
        EXPECT_EQ(error(json_span_request(members, with_ids)), std::string(at) + std::string(message)) << members;
    };

    expect(R"("traceId":"abc","spanId":"0102030405060708")", R"(.traceId: must be 32 hex digits, got "abc")", false);
    // base64 of a 16-byte id: OTLP JSON says hex.
    expect(R"("traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"0102030405060708")",
           R"(.traceId: must be 32 hex digits, got "AQIDBAUGBwgJCgsMDQ4PEA==")", false);
    expect(R"("traceId":"0102030405060708090a0b0c0d0e0f1g","spanId":"0102030405060708")",
           R"(.traceId: must be 32 hex digits, got "0102030405060708090a0b0c0d0e0f1g")", false);
    expect(R"("spanId":"0102030405060708")", ": traceId is missing", false);
    expect(R"("traceId":"00000000000000000000000000000000","spanId":"0102030405060708")", ".traceId: all zero", false);
    expect(R"("parentSpanId":"01020304")", R"(.parentSpanId: must be 16 hex digits, got "01020304")");
    expect(R"("kind":"SPAN_KIND_FOO")", R"(.kind: unknown enum value "SPAN_KIND_FOO")");
    expect(R"("kind":true)", ".kind: expected an enum name or number, got true");
    expect(R"("startTimeUnixNano":"12x")", R"(.startTimeUnixNano: expected a uint64 (a number or a decimal string), got "12x")");
    expect(R"("startTimeUnixNano":"-1")", R"(.startTimeUnixNano: expected a uint64 (a number or a decimal string), got "-1")");
    expect(R"("startTimeUnixNano":1.5)", ".startTimeUnixNano: expected a uint64 (a number or a decimal string), got 1.5E0");
    expect(R"("flags":4294967296)", ".flags: out of range for a uint32: 4294967296");
    expect(R"("name":7)", ".name: expected a string, got 7");
    expect(R"("attributes":{})", ".attributes: expected an array, got {}");
    expect(R"("attributes":[{"key":"k","value":{"intValue":"x"}}])",
           R"(.attributes[0].value.intValue: expected an int64 (a number or a decimal string), got "x")");
    expect(R"("attributes":[{"key":"k","value":{"boolValue":"true"}}])",
           R"(.attributes[0].value.boolValue: expected true or false, got "true")");
    expect(R"("attributes":[{"key":"k","value":{"bytesValue":"a$=="}}])",
           R"(.attributes[0].value.bytesValue: bytesValue is not base64: "a$==")");
    expect(R"("attributes":[{"key":"k","value":{"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":"x"}]}}}])",
           R"(.attributes[0].value.arrayValue.values[1].doubleValue: expected a double, got "x")");
    expect(R"("links":[{"traceId":"0102030405060708090a0b0c0d0e0f10"}])", ".links[0]: spanId is missing");
    expect(R"("events":[{"timeUnixNano":{}}])",
           ".events[0].timeUnixNano: expected a uint64 (a number or a decimal string), got {}");
    expect(R"("status":{"code":"OK"})", R"(.status.code: unknown enum value "OK")");

    EXPECT_EQ(error(R"({"resourceSpans":{}})"), "resourceSpans: expected an array, got {}");
    EXPECT_EQ(error("[]"), "expected an object, got []");
    EXPECT_EQ(error(R"({"resourceSpans":[{"scopeSpans":[{"spans":[7]}]}]})"),
              "resourceSpans[0].scopeSpans[0].spans[0]: expected an object, got 7");
    const std::string not_json = error(R"({"resourceSpans":[)");
    EXPECT_EQ(not_json.rfind("not JSON at byte 18: ", 0), 0u) << not_json;
    EXPECT_EQ(error("").rfind("not JSON at byte 0: ", 0), 0u);
}

TEST(otlp_decoder, json_values_nested_too_deep_are_an_error) {
    const auto nested = [](std::size_t levels) {
        // Built front to back: wrapping a 10,000-level value over and over is quadratic, and
        // minutes under AddressSanitizer.
        std::string value;
        for (std::size_t i = 0; i < levels; ++i) value += R"({"arrayValue":{"values":[)";
        value += R"({"intValue":"1"})";
        for (std::size_t i = 0; i < levels; ++i) value += "]}}";
        return json_span_request(R"("attributes":[{"key":"deep","value":)" + value + "}]");
    };
    const decoded_spans ok = decode_otlp_json(nested(otlp_max_value_depth - 1));
    EXPECT_EQ(std::get<std::string>(ok.by_service.at(0).second.at(0).attributes.at(0).value),
              std::string(otlp_max_value_depth - 1, '[') + "1" + std::string(otlp_max_value_depth - 1, ']'));
    for (std::size_t levels : {otlp_max_value_depth, otlp_max_value_depth + 1}) {
        const std::string message = error_of([&] { decode_otlp_json(nested(levels)); });
        EXPECT_NE(message.find("values nested deeper than 32 levels"), std::string::npos) << message;
    }
    // Deeper than the parser's own limit: still an error, never a deep recursion.
    const std::string message = error_of([&] { decode_otlp_json(nested(10'000)); });
    EXPECT_EQ(message.rfind("not JSON at byte ", 0), 0u) << message;
}

// ---- Any input: an error or spans, never a crash -------------------------------------------

/// Truncates, flips, inserts, deletes and duplicates bytes of `valid` `rounds` times and
/// decodes each result: every decode must return or throw otlp_decode_error.
template <typename Decode>
void mutate_and_decode(const std::string& valid, int rounds, Decode decode) {
    std::mt19937_64 random(20240229);  // fixed: a failure reproduces
    const auto below = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(random() % n); };
    std::size_t decoded = 0, rejected = 0;
    for (int round = 0; round < rounds; ++round) {
        std::string input = valid;
        const int edits = 1 + static_cast<int>(below(4));
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = below(input.size());
            switch (below(6)) {
                case 0: input.resize(at); break;
                case 1: if (!input.empty()) input[at] = static_cast<char>(random()); break;
                case 2: if (!input.empty()) input[at] = static_cast<char>(input[at] ^ (1 << below(8))); break;
                case 3: input.insert(at, 1, static_cast<char>(random())); break;
                case 4: input.erase(at, 1 + below(8)); break;
                default: input.insert(at, input.substr(below(input.size()), below(64))); break;
            }
        }
        try {
            decoded += decode(input).span_count() > 0 ? 1 : 0;
        } catch (const otlp_decode_error&) {
            ++rejected;
        }
    }
    // Both outcomes happen: the mutations reach past the first byte.
    EXPECT_GT(decoded, 0u);
    EXPECT_GT(rejected, 0u);
}

std::string fuzz_seed_protobuf() {
    const auto batch = round_trip_batch();
    std::string body;
    encode_otlp_protobuf(batch, test::sample_resource(), body);
    // Values the encoder never writes: arrays, lists, bytes, nested.
    const std::string values =
        len(9, len(1, "arr") + len(2, len(5, len(1, varint_field(3, 1)) + len(1, len(6, len(1, len(1, "k")))))));
    return body + request_of({span_bytes(values + len(9, len(1, "b") + len(2, len(7, "\x01\x02"))))});
}

TEST(otlp_decoder, every_truncation_of_a_protobuf_request_is_an_error_or_spans) {
    const std::string valid = fuzz_seed_protobuf();
    for (std::size_t size = 0; size <= valid.size(); ++size) {
        try {
            decode_otlp_protobuf(std::string_view(valid).substr(0, size));
        } catch (const otlp_decode_error&) {
        }
    }
}

TEST(otlp_decoder, random_mutations_of_a_protobuf_request_are_an_error_or_spans) {
    mutate_and_decode(fuzz_seed_protobuf(), 20'000, [](std::string_view body) { return decode_otlp_protobuf(body); });
}

TEST(otlp_decoder, random_mutations_of_a_json_request_are_an_error_or_spans) {
    std::string body;
    encode_otlp_json(round_trip_batch(), test::sample_resource(), body);
    mutate_and_decode(body, 5'000, [](std::string_view text) { return decode_otlp_json(text); });
    mutate_and_decode(std::string(json_fixture), 5'000, [](std::string_view text) { return decode_otlp_json(text); });
}

}  // namespace
}  // namespace tracegate::tracing
