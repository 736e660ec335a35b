#include "tracing/composite_propagator.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

#include <tuple>

namespace tracegate::tracing {
namespace {

using test::map_carrier;

const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const std::string b3_value = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0";

composite_propagator make(std::initializer_list<std::string_view> names) {
    auto result = composite_propagator::create(names);
    EXPECT_TRUE(result) << (result.error ? result.error->message : "");
    return std::move(*result.value);
}

TEST(composite, names_round_trip_through_the_registry) {
    for (const auto format : all_propagation_formats) {
        EXPECT_EQ(parse_propagation_format(to_string(format)), format);
        EXPECT_EQ(propagator_for(format).name(), to_string(format));
        const auto made = make_propagator(to_string(format));
        ASSERT_TRUE(made);
        EXPECT_EQ(made->name(), to_string(format));
    }
}

TEST(composite, unknown_names_make_no_propagator) {
    EXPECT_FALSE(make_propagator("zipkin"));
    EXPECT_FALSE(make_propagator("B3"));
    EXPECT_FALSE(make_propagator("baggage"));  // not a trace context
    EXPECT_FALSE(parse_propagation_format(""));
}

TEST(composite, keeps_the_configured_order_and_fields) {
    const auto composite = make({"b3multi", "tracecontext", "baggage"});
    ASSERT_EQ(composite.order().size(), 2u);
    EXPECT_EQ(composite.order()[0], propagation_format::b3multi);
    EXPECT_EQ(composite.order()[1], propagation_format::tracecontext);
    EXPECT_EQ(composite.formats(),
              (format_set{propagation_format::tracecontext, propagation_format::b3multi}));
    EXPECT_TRUE(composite.baggage_enabled());
    EXPECT_EQ(composite.fields().size(), 7u);
    EXPECT_EQ(composite.fields().back(), "tracestate");
}

TEST(composite, unknown_name_is_an_error_naming_it_and_its_position) {
    const auto result = composite_propagator::create({"tracecontext", "zipkin"});
    ASSERT_FALSE(result);
    ASSERT_TRUE(result.error);
    EXPECT_EQ(result.error->index, 1u);
    EXPECT_EQ(result.error->name, "zipkin");
    EXPECT_NE(result.error->message.find("unknown propagator \"zipkin\""), std::string::npos);
    EXPECT_NE(result.error->message.find("b3multi"), std::string::npos);
}

TEST(composite, repeated_name_is_an_error) {
    const std::vector<std::string> names = {"b3", "jaeger", "b3"};
    const auto result = composite_propagator::create(names);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error->index, 2u);
    EXPECT_NE(result.error->message.find("twice"), std::string::npos);
}

TEST(composite, none_alone_is_empty_and_combined_is_an_error) {
    const auto none = make({"none"});
    EXPECT_TRUE(none.order().empty());
    EXPECT_FALSE(none.extract(map_carrier{{"traceparent", traceparent}}));
    EXPECT_FALSE(composite_propagator::create({"none", "b3"}));
}

TEST(composite, first_configured_format_wins_when_both_are_valid) {
    const map_carrier headers{{"traceparent", traceparent}, {"b3", b3_value}};
    const auto w3c_first = make({"tracecontext", "b3"}).extract_with_source(headers);
    ASSERT_TRUE(w3c_first.context);
    EXPECT_EQ(w3c_first.source, propagation_format::tracecontext);
    EXPECT_EQ(w3c_first.context->trace_id.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");

    const auto b3_first = make({"b3", "tracecontext"}).extract_with_source(headers);
    ASSERT_TRUE(b3_first.context);
    EXPECT_EQ(b3_first.source, propagation_format::b3);
    EXPECT_EQ(b3_first.context->trace_id.to_hex(), "80f198ee56343ba864fe8b2a57d3eff7");
}

TEST(composite, bad_header_of_an_earlier_format_does_not_hide_a_good_later_one) {
    const map_carrier headers{
        {"traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"},
        {"b3", b3_value}};
    const auto found = make({"tracecontext", "b3"}).extract_with_source(headers);
    ASSERT_TRUE(found.context);
    EXPECT_EQ(found.source, propagation_format::b3);
    EXPECT_EQ(found.context->sampling_decision(), false);
}

TEST(composite, valid_context_beats_an_earlier_sampling_only_one) {
    const map_carrier headers{
        {"b3", "0"},
        {"X-Amzn-Trace-Id",
         "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}};
    const auto found = make({"b3", "xray"}).extract_with_source(headers);
    ASSERT_TRUE(found.context);
    EXPECT_EQ(found.source, propagation_format::xray);
    EXPECT_TRUE(found.context->sampled());
}

TEST(composite, sampling_only_context_is_returned_when_nothing_better_came) {
    const auto found = make({"tracecontext", "b3"}).extract_with_source(map_carrier{{"b3", "0"}});
    ASSERT_TRUE(found.context);
    EXPECT_FALSE(found.context->is_valid());
    EXPECT_EQ(found.context->sampling_decision(), false);
    EXPECT_EQ(found.source, propagation_format::b3);
}

TEST(composite, formats_not_configured_are_not_extracted) {
    const auto found = make({"tracecontext"}).extract_with_source(map_carrier{{"b3", b3_value}});
    EXPECT_FALSE(found.context);
    EXPECT_FALSE(found.source);
}

TEST(composite, formats_present_counts_malformed_headers_too) {
    const map_carrier headers{
        {"traceparent", "garbage"}, {"X-B3-Sampled", "1"}, {"baggage", "a=1"}};
    EXPECT_EQ(formats_present(headers),
              (format_set{propagation_format::tracecontext, propagation_format::b3multi}));
    EXPECT_TRUE(formats_present(map_carrier{{"baggage", "a=1"}}).empty());
}

TEST(composite, remove_trace_fields_removes_every_format_but_not_baggage) {
    map_carrier headers{
        {"traceparent", traceparent},   {"tracestate", "a=1"},    {"b3", b3_value},
        {"X-B3-TraceId", "1"},          {"X-B3-SpanId", "1"},     {"X-B3-ParentSpanId", "1"},
        {"X-B3-Sampled", "1"},          {"X-B3-Flags", "1"},      {"uber-trace-id", "1:1:0:1"},
        {"X-Cloud-Trace-Context", "x"}, {"X-Amzn-Trace-Id", "x"}, {"baggage", "a=1"},
        {"uberctx-user", "alice"},      {"host", "example.com"}};
    remove_trace_fields(headers);
    EXPECT_EQ(headers.size(), 3u);
    EXPECT_TRUE(headers.get("baggage"));
    EXPECT_TRUE(headers.get("uberctx-user"));
    EXPECT_TRUE(headers.get("host"));
}

TEST(composite, inject_formats_writes_exactly_the_given_set) {
    const auto ctx = test::remote_context("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    map_carrier headers;
    inject_formats(ctx, headers, {propagation_format::tracecontext, propagation_format::jaeger});
    EXPECT_EQ(headers.get("traceparent"), traceparent);
    EXPECT_EQ(headers.get("uber-trace-id"),
              "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1");
    EXPECT_EQ(headers.size(), 2u);
}

TEST(composite, inject_writes_every_configured_format) {
    const auto ctx = test::remote_context("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    map_carrier headers;
    make({"b3", "tracecontext"}).inject(ctx, headers);
    EXPECT_EQ(headers.get("b3"), "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1");
    EXPECT_EQ(headers.get("traceparent"), traceparent);
    EXPECT_EQ(headers.size(), 2u);
}

TEST(composite, rewrite_gives_the_service_one_agreeing_context_per_format) {
    // What proxy/ does: extract, remove every trace header, inject the new span everywhere.
    map_carrier headers{{"X-B3-TraceId", "48485a3953bb6124"},
                        {"X-B3-SpanId", "a2fb4a1d1a96d312"},
                        {"X-B3-Sampled", "1"},
                        {"traceparent", "stale"}};
    const auto composite = make({"tracecontext", "b3multi"});
    auto ctx = composite.extract(headers).value();
    const format_set inject_into =
        format_set{propagation_format::tracecontext} | formats_present(headers);
    ctx.parent_span_id = ctx.span_id;
    ctx.span_id = span_id::from_uint64(0x1234);
    remove_trace_fields(headers);
    inject_formats(ctx, headers, inject_into);
    EXPECT_EQ(headers.get("traceparent"),
              "00-000000000000000048485a3953bb6124-0000000000001234-01");
    EXPECT_EQ(headers.get("x-b3-traceid"), "48485a3953bb6124");
    EXPECT_EQ(headers.get("x-b3-spanid"), "0000000000001234");
    EXPECT_EQ(headers.get("x-b3-parentspanid"), "a2fb4a1d1a96d312");
    EXPECT_EQ(headers.count("traceparent"), 1u);
}

// Every format carries a 128-bit trace id, a span id and a sampling decision, so a context
// received in one format and sent on in another keeps them.
class cross_format
    : public ::testing::TestWithParam<std::tuple<propagation_format, propagation_format>> {};

TEST_P(cross_format, round_trip_keeps_ids_and_decision) {
    const auto [from, to] = GetParam();
    for (const bool sampled : {true, false}) {
        const auto original =
            test::remote_context("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", sampled);
        map_carrier first;
        propagator_for(from).inject(original, first);
        const auto received = propagator_for(from).extract(first);
        ASSERT_TRUE(received);
        map_carrier second;
        propagator_for(to).inject(*received, second);
        const auto sent_on = propagator_for(to).extract(second);
        ASSERT_TRUE(sent_on) << to_string(from) << " -> " << to_string(to);
        EXPECT_EQ(sent_on->trace_id, original.trace_id);
        EXPECT_EQ(sent_on->span_id, original.span_id);
        EXPECT_EQ(sent_on->sampling_decision(), sampled);
    }
}

INSTANTIATE_TEST_SUITE_P(composite, cross_format,
                         ::testing::Combine(::testing::ValuesIn(all_propagation_formats),
                                            ::testing::ValuesIn(all_propagation_formats)),
                         [](const auto& info) {
                             return std::string(to_string(std::get<0>(info.param))) + "_to_" +
                                    std::string(to_string(std::get<1>(info.param)));
                         });

TEST(composite, b3_64_bit_trace_id_goes_into_traceparent_zero_padded_and_back) {
    const auto b3 = propagator_for(propagation_format::b3)
                        .extract(map_carrier{{"b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1"}});
    ASSERT_TRUE(b3);
    map_carrier headers;
    propagator_for(propagation_format::tracecontext).inject(*b3, headers);
    EXPECT_EQ(headers.get("traceparent"),
              "00-000000000000000064fe8b2a57d3eff7-e457b5a2e4d86bd1-01");
    const auto w3c = propagator_for(propagation_format::tracecontext).extract(headers);
    ASSERT_TRUE(w3c);
    EXPECT_EQ(w3c->trace_id, b3->trace_id);
    EXPECT_EQ(w3c->span_id, b3->span_id);
}

}  // namespace
}  // namespace tracegate::tracing
