#include "tracing/tracer.hpp"

#include "tests/unit/tracing/tracing_fakes.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace tracegate::tracing {
namespace {

using namespace std::chrono_literals;

struct tracer_test : ::testing::Test {
    tracer make(sampler_options sampling) {
        return tracer({.service_name = "svc", .sampling = sampling}, sink, ids);
    }
    std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
    fixed_id_generator ids;
};

span_context remote_parent(std::uint8_t flags) {
    span_context parent;
    parent.trace_id = trace_id::from_uint64(0x1111, 0x2222);
    parent.span_id = span_id::from_uint64(0x3333);
    parent.trace_flags = flags;
    parent.tracestate = "vendor=x";
    parent.is_remote = true;
    return parent;
}

TEST_F(tracer_test, root_span_has_new_trace_and_no_parent) {
    auto t = make(sampling(1.0));
    auto root = t.start_server_span(std::nullopt, "GET users");
    ASSERT_TRUE(root.recording());
    EXPECT_EQ(root.context().trace_id, trace_id::from_uint64(0xabcdef, 0x1000));
    EXPECT_EQ(root.context().span_id, span_id::from_uint64(0x100));
    EXPECT_EQ(root.context().trace_flags, sampled_flag | random_flag);
    EXPECT_FALSE(root.context().parent_span_id);
    root.end();
    const auto spans = sink->spans();
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0].name, "GET users");
    EXPECT_EQ(spans[0].kind, span_kind::server);
    EXPECT_FALSE(spans[0].parent_span_id);
    EXPECT_EQ(spans[0].trace_flags, sampled_flag | random_flag);
    EXPECT_GE(spans[0].end_time_unix_nano, spans[0].start_time_unix_nano);
}

TEST_F(tracer_test, root_without_random_ids_has_no_random_flag) {
    ids.random_ = false;
    auto t = make(sampling(1.0));
    EXPECT_EQ(t.start_server_span(std::nullopt, "x").context().trace_flags, sampled_flag);
}

TEST_F(tracer_test, child_span_continues_the_parent_trace) {
    auto t = make(sampling(0.0));
    // 0x80 is a flag we do not know: it must not be sent on.
    auto child = t.start_server_span(remote_parent(sampled_flag | 0x80), "GET users");
    ASSERT_TRUE(child.recording());
    EXPECT_EQ(child.context().trace_id, trace_id::from_uint64(0x1111, 0x2222));
    EXPECT_EQ(child.context().parent_span_id, span_id::from_uint64(0x3333));
    EXPECT_EQ(child.context().span_id, span_id::from_uint64(0x100));
    EXPECT_EQ(child.context().trace_flags, sampled_flag);
    EXPECT_EQ(child.context().tracestate, "vendor=x");
    EXPECT_FALSE(child.context().is_remote);
    child.end();
    const auto spans = sink->spans();
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0].parent_span_id, span_id::from_uint64(0x3333));
    EXPECT_TRUE(spans[0].parent_is_remote);
    EXPECT_EQ(spans[0].tracestate, "vendor=x");
    EXPECT_EQ(spans[0].trace_flags, sampled_flag);
}

TEST_F(tracer_test, client_span_is_child_of_server_span) {
    auto t = make(sampling(1.0));
    auto server = t.start_server_span(remote_parent(sampled_flag | random_flag), "in");
    auto client = t.start_client_span(server, "out");
    ASSERT_TRUE(client.recording());
    EXPECT_EQ(client.context().trace_id, server.context().trace_id);
    EXPECT_EQ(client.context().parent_span_id, server.context().span_id);
    EXPECT_NE(client.context().span_id, server.context().span_id);
    EXPECT_EQ(client.context().trace_flags, sampled_flag | random_flag);
    client.end();
    server.end();
    const auto spans = sink->spans();
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_EQ(spans[0].kind, span_kind::client);
    EXPECT_EQ(spans[0].parent_span_id, spans[1].span_id);
}

TEST_F(tracer_test, unsampled_span_is_null_but_propagates_valid_context) {
    auto t = make(sampling(0.0, false));
    auto server = t.start_server_span(std::nullopt, "x");
    EXPECT_FALSE(server.recording());
    EXPECT_TRUE(server.context().is_valid());
    EXPECT_FALSE(server.context().sampled());
    EXPECT_EQ(server.context().trace_flags, random_flag);
    server.set_attribute("k", "v");  // no-ops
    server.set_error("timeout");
    auto client = t.start_client_span(server, "y");
    EXPECT_FALSE(client.recording());
    EXPECT_TRUE(client.context().is_valid());
    EXPECT_EQ(client.context().parent_span_id, server.context().span_id);
    client.end();
    server.end();
    EXPECT_TRUE(sink->spans().empty());
}

TEST_F(tracer_test, parent_not_sampled_is_honoured) {
    auto t = make(sampling(1.0, false));
    auto s = t.start_server_span(remote_parent(0), "x");
    EXPECT_FALSE(s.recording());
    EXPECT_FALSE(s.context().sampled());
    EXPECT_EQ(s.context().trace_id, trace_id::from_uint64(0x1111, 0x2222));
}

TEST_F(tracer_test, unsampled_error_span_is_kept) {
    auto t = make(sampling(0.0));
    auto s = t.start_server_span(std::nullopt, "x");
    ASSERT_TRUE(s.recording());
    EXPECT_FALSE(s.context().sampled());
    s.set_error("upstream_reset");
    s.end();
    const auto spans = sink->spans();
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0].status, status_code::error);
    EXPECT_FALSE(spans[0].sampled());
    ASSERT_EQ(spans[0].attributes.size(), 1u);
    EXPECT_EQ(spans[0].attributes[0], (attribute{"error.type", std::string("upstream_reset")}));
}

TEST_F(tracer_test, unsampled_slow_span_is_kept_and_fast_ok_one_is_not) {
    auto t = make(sampling(0.0, true, 5ms));
    {
        auto fast = t.start_server_span(std::nullopt, "fast");
        fast.set_status(status_code::ok);
    }
    EXPECT_TRUE(sink->spans().empty());
    {
        auto slow = t.start_server_span(std::nullopt, "slow");
        std::this_thread::sleep_for(10ms);
    }
    const auto spans = sink->spans();
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0].name, "slow");
    EXPECT_GE(spans[0].duration_nanos(), 10'000'000u);
}

TEST_F(tracer_test, kept_client_span_brings_its_server_span) {
    auto t = make(sampling(0.0));
    auto server = t.start_server_span(std::nullopt, "in");
    {
        auto first = t.start_client_span(server, "attempt 1");  // ok: parked
    }
    {
        auto second = t.start_client_span(server, "attempt 2");
        second.set_error("timeout");  // kept: the parked attempt is exported too
    }
    EXPECT_EQ(sink->spans().size(), 2u);
    server.end();  // ok and fast, but its group was kept
    EXPECT_EQ(sink->spans().size(), 3u);
}

TEST_F(tracer_test, unkept_group_is_dropped_whole) {
    auto t = make(sampling(0.0));
    auto server = t.start_server_span(std::nullopt, "in");
    t.start_client_span(server, "out").end();
    server.end();
    EXPECT_TRUE(sink->spans().empty());
}

TEST_F(tracer_test, span_ended_twice_is_exported_once) {
    auto t = make(sampling(1.0));
    auto s = t.start_server_span(std::nullopt, "x");
    s.end();
    s.end();
    EXPECT_FALSE(s.recording());
    EXPECT_TRUE(s.context().is_valid());
    span moved = std::move(s);
    moved.end();
    EXPECT_EQ(sink->spans().size(), 1u);
}

TEST_F(tracer_test, destructor_ends_and_move_does_not_duplicate) {
    auto t = make(sampling(1.0));
    {
        auto s = t.start_server_span(std::nullopt, "x");
        span other = std::move(s);
        span third;
        third = std::move(other);
    }
    EXPECT_EQ(sink->spans().size(), 1u);
}

TEST_F(tracer_test, attributes_events_links_and_name) {
    auto t = make(sampling(1.0));
    const auto linked = remote_parent(0);
    auto s = t.start_server_span(std::nullopt, "GET", std::span(&linked, 1));
    s.set_attribute("http.request.method", "GET");
    s.set_attribute("http.response.status_code", 200);
    s.set_attribute("http.response.status_code", 503);  // replaces
    s.set_attribute("ratio", 0.5);
    s.set_attribute("flag", true);
    s.set_attribute("size", std::size_t{42});
    s.set_attribute("url.path", std::string("/a"));
    s.add_event("upstream.connected");
    s.set_name("GET users");
    s.end();
    const auto d = sink->spans().at(0);
    EXPECT_EQ(d.name, "GET users");
    ASSERT_EQ(d.attributes.size(), 6u);
    EXPECT_EQ(d.attributes[0].value, attribute_value(std::string("GET")));
    EXPECT_EQ(d.attributes[1].value, attribute_value(std::int64_t{503}));
    EXPECT_EQ(d.attributes[2].value, attribute_value(0.5));
    EXPECT_EQ(d.attributes[3].value, attribute_value(true));
    EXPECT_EQ(d.attributes[4].value, attribute_value(std::int64_t{42}));
    ASSERT_EQ(d.events.size(), 1u);
    EXPECT_GE(d.events[0].time_unix_nano, d.start_time_unix_nano);
    EXPECT_LE(d.events[0].time_unix_nano, d.end_time_unix_nano);
    ASSERT_EQ(d.links.size(), 1u);
    EXPECT_EQ(d.links[0].context.span_id, linked.span_id);
}

TEST_F(tracer_test, attribute_limit_counts_drops) {
    auto t = make(sampling(1.0));
    auto s = t.start_server_span(std::nullopt, "x");
    for (std::size_t i = 0; i < span_max_attributes + 3; ++i) s.set_attribute("k" + std::to_string(i), true);
    s.end();
    const auto d = sink->spans().at(0);
    EXPECT_EQ(d.attributes.size(), span_max_attributes);
    EXPECT_EQ(d.dropped_attributes_count, 3u);
}

TEST_F(tracer_test, without_a_sink_nothing_records_but_context_propagates) {
    tracer t({}, nullptr, ids);
    auto s = t.start_server_span(std::nullopt, "x");
    EXPECT_FALSE(s.recording());
    EXPECT_TRUE(s.context().sampled());
}

}  // namespace
}  // namespace tracegate::tracing
