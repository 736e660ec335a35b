#include "tracing/trace_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tracegate::tracing {
namespace {

trace_id tid(std::uint64_t n) { return trace_id::from_uint64(0xabc, n); }

/// A span of trace `trace` with id `id`, its parent (0: none) and its times.
span_data make_span(std::uint64_t trace, std::uint64_t id, std::uint64_t parent, std::uint64_t start,
                    std::uint64_t end, std::string name = "op", span_kind kind = span_kind::server) {
    span_data span;
    span.trace_id = tid(trace);
    span.span_id = span_id::from_uint64(id);
    if (parent != 0) span.parent_span_id = span_id::from_uint64(parent);
    span.name = std::move(name);
    span.kind = kind;
    span.start_time_unix_nano = start;
    span.end_time_unix_nano = end;
    return span;
}

/// A query without designated initializers (GCC warns about the fields left out).
trace_query query(std::size_t limit, std::optional<std::uint64_t> min_duration_nanos = {},
                  bool errors_only = false) {
    trace_query out;
    out.limit = limit;
    out.min_duration_nanos = min_duration_nanos;
    out.errors_only = errors_only;
    return out;
}

/// The service the helpers add spans under unless told otherwise.
constexpr std::string_view default_service = "svc";

void add(trace_store& store, std::vector<span_data> batch, std::string_view service = default_service) {
    store.add(batch, service);
}

/// What a span added by add() costs in the store.
std::size_t cost(const span_data& span) { return trace_store::estimated_bytes(span, default_service); }

/// The trace ids listed by recent(), newest first, as the low 64 bits.
std::vector<std::uint64_t> listed(const trace_store& store, const trace_query& filter = {}) {
    std::vector<std::uint64_t> ids;
    for (const trace_summary& summary : store.recent(filter)) ids.push_back(summary.trace_id.low());
    return ids;
}

std::vector<std::uint64_t> span_ids(const std::vector<stored_span>& spans) {
    std::vector<std::uint64_t> ids;
    for (const stored_span& stored : spans) ids.push_back(stored.span.span_id.to_uint64());
    return ids;
}

trace_summary summary_of(const trace_store& store, std::uint64_t trace) {
    for (const trace_summary& summary : store.recent(query(1000))) {
        if (summary.trace_id == tid(trace)) return summary;
    }
    ADD_FAILURE() << "trace " << trace << " not listed";
    return {};
}

trace_store_options bounds(std::size_t max_traces, std::size_t max_bytes) {
    trace_store_options options;
    options.max_traces = max_traces;
    options.max_bytes = max_bytes;
    return options;
}

TEST(trace_store, groups_spans_of_a_trace_across_batches) {
    trace_store store;
    add(store, {make_span(1, 0x11, 0x10, 110, 190, "client", span_kind::client), make_span(2, 0x20, 0, 100, 200)});
    add(store, {make_span(1, 0x10, 0, 100, 200, "GET /users")});

    EXPECT_EQ(listed(store), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(summary_of(store, 1).span_count, 2u);
    const auto spans = store.find(tid(1));
    ASSERT_TRUE(spans);
    EXPECT_EQ(span_ids(*spans), (std::vector<std::uint64_t>{0x10, 0x11}));
    const auto stats = store.stats();
    EXPECT_EQ(stats.traces, 2u);
    EXPECT_EQ(stats.spans, 3u);
}

TEST(trace_store, lists_newest_first_and_a_late_span_moves_its_trace_to_the_front) {
    trace_store store;
    add(store, {make_span(1, 0x11, 0x10, 10, 20)});
    add(store, {make_span(2, 0x21, 0x20, 10, 20)});
    add(store, {make_span(3, 0x31, 0x30, 10, 20)});
    EXPECT_EQ(listed(store), (std::vector<std::uint64_t>{3, 2, 1}));

    add(store, {make_span(1, 0x10, 0, 5, 25)});  // the server span of trace 1 ends last
    EXPECT_EQ(listed(store), (std::vector<std::uint64_t>{1, 3, 2}));
}

TEST(trace_store, evicts_the_least_recently_added_trace_past_max_traces) {
    trace_store store(bounds(3, 1u << 20));
    add(store, {make_span(1, 0x11, 0x10, 10, 20)});
    add(store, {make_span(2, 0x21, 0x20, 10, 20)});
    add(store, {make_span(3, 0x31, 0x30, 10, 20)});
    add(store, {make_span(1, 0x10, 0, 5, 25)});  // trace 1 is now newer than 2 and 3
    add(store, {make_span(4, 0x40, 0, 10, 20)});

    EXPECT_EQ(listed(store), (std::vector<std::uint64_t>{4, 1, 3}));
    EXPECT_FALSE(store.find(tid(2)));
    ASSERT_TRUE(store.find(tid(1)));
    EXPECT_EQ(store.find(tid(1))->size(), 2u);
    const auto stats = store.stats();
    EXPECT_EQ(stats.traces, 3u);
    EXPECT_EQ(stats.spans, 4u);
    EXPECT_EQ(stats.evicted_traces, 1u);
}

TEST(trace_store, evicts_oldest_traces_to_stay_within_max_bytes) {
    const std::size_t unit = cost(make_span(1, 1, 0, 0, 1));
    trace_store store(bounds(100, 3 * unit + unit / 2));
    for (std::uint64_t trace = 1; trace <= 5; ++trace) {
        add(store, {make_span(trace, 0x10 * trace, 0, 0, 1)});
        EXPECT_LE(store.stats().bytes, 3 * unit + unit / 2);
    }
    EXPECT_EQ(listed(store), (std::vector<std::uint64_t>{5, 4, 3}));

    // Trace 6 grows to two spans: the two oldest traces must go to make room.
    add(store, {make_span(6, 0x60, 0, 0, 1)});
    add(store, {make_span(6, 0x61, 0x60, 0, 1)});
    EXPECT_EQ(listed(store), (std::vector<std::uint64_t>{6, 5}));
    const auto stats = store.stats();
    EXPECT_EQ(stats.bytes, 3 * unit);
    EXPECT_EQ(stats.spans, 3u);
    EXPECT_EQ(stats.evicted_traces, 4u);
    EXPECT_FALSE(store.find(tid(4)));
}

TEST(trace_store, rejects_and_counts_a_span_larger_than_max_bytes) {
    const std::size_t unit = cost(make_span(1, 1, 0, 0, 1));
    trace_store store(bounds(100, 2 * unit));
    add(store, {make_span(1, 0x10, 0, 0, 1), make_span(2, 0x20, 0, 0, 1, std::string(3 * unit, 'x'))});
    span_data no_trace = make_span(3, 0x30, 0, 0, 1);
    no_trace.trace_id = trace_id{};
    add(store, {no_trace});

    EXPECT_EQ(listed(store), (std::vector<std::uint64_t>{1}));
    EXPECT_FALSE(store.find(tid(2)));
    EXPECT_FALSE(store.find(trace_id{}));
    const auto stats = store.stats();
    EXPECT_EQ(stats.rejected_spans, 2u);
    EXPECT_EQ(stats.spans, 1u);
    EXPECT_EQ(stats.bytes, unit);
}

TEST(trace_store, trace_larger_than_max_bytes_keeps_its_newest_spans) {
    const std::size_t unit = cost(make_span(1, 1, 0, 0, 1, "s1"));
    trace_store store(bounds(100, 8 * unit));
    add(store, {make_span(2, 0x20, 0, 0, 1, "s1")});
    std::vector<span_data> chain;  // span 1 is the root, span n the child of n - 1
    for (std::uint64_t id = 1; id <= 9; ++id)
        chain.push_back(make_span(1, id, id - 1, id * 10, id * 10 + 5, "s" + std::to_string(id)));
    add(store, chain);

    // Span 8 filled max_bytes and pushed trace 2 out; span 9 overflowed the trace itself,
    // which dropped its oldest spans down to 3/4 of max_bytes.
    const auto spans = store.find(tid(1));
    ASSERT_TRUE(spans);
    EXPECT_EQ(span_ids(*spans), (std::vector<std::uint64_t>{4, 5, 6, 7, 8, 9}));
    EXPECT_FALSE(store.find(tid(2)));
    const auto summary = summary_of(store, 1);
    EXPECT_EQ(summary.span_count, 6u);
    EXPECT_EQ(summary.root_name, "s4");  // its parent was dropped
    EXPECT_TRUE(summary.truncated);
    EXPECT_EQ(summary.start_time_unix_nano, 40u);
    const auto stats = store.stats();
    EXPECT_EQ(stats.bytes, 6 * unit);
    EXPECT_EQ(stats.spans, 6u);
    EXPECT_EQ(stats.trimmed_spans, 3u);
    EXPECT_EQ(stats.evicted_traces, 1u);
}

TEST(trace_store, root_is_the_parentless_span_even_when_it_arrives_last) {
    trace_store store;
    span_data client = make_span(1, 0x11, 0x10, 110, 190, "GET users-svc", span_kind::client);
    client.attributes.push_back({"http.response.status_code", std::int64_t{502}});
    add(store, {client});
    EXPECT_EQ(summary_of(store, 1).root_name, "GET users-svc");  // best guess until the root comes

    span_data server = make_span(1, 0x10, 0, 100, 200, "GET /users");
    server.attributes.push_back({"http.request.method", std::string("GET")});
    server.attributes.push_back({"http.response.status_code", std::int64_t{503}});
    add(store, {make_span(1, 0x12, 0x10, 120, 130, "retry", span_kind::client), server});

    const auto summary = summary_of(store, 1);
    EXPECT_EQ(summary.root_name, "GET /users");
    EXPECT_EQ(summary.status_code, 503);
    EXPECT_EQ(summary.span_count, 3u);
}

TEST(trace_store, root_is_the_span_whose_parent_is_not_in_the_store) {
    trace_store store;
    // An ingress: the server span's parent is the caller's span, reported elsewhere. The
    // wall clock stepped back between the two starts, so the root is not the earliest span.
    add(store, {make_span(1, 0x11, 0x10, 90, 190, "client", span_kind::client)});
    EXPECT_EQ(summary_of(store, 1).root_name, "client");
    span_data server = make_span(1, 0x10, 0x999, 100, 200, "server");
    server.parent_is_remote = true;
    add(store, {server});

    const auto summary = summary_of(store, 1);
    EXPECT_EQ(summary.root_name, "server");
    EXPECT_FALSE(summary.status_code);
}

TEST(trace_store, root_falls_back_to_the_earliest_span_when_every_parent_is_present) {
    trace_store store;
    add(store, {make_span(1, 0xa, 0xb, 20, 30, "late"), make_span(1, 0xb, 0xa, 10, 30, "early")});
    EXPECT_EQ(summary_of(store, 1).root_name, "early");
}

TEST(trace_store, duration_spans_the_earliest_start_to_the_latest_end) {
    trace_store store;
    add(store, {make_span(1, 0x11, 0x10, 100, 150)});
    add(store, {make_span(1, 0x12, 0x10, 120, 400), make_span(1, 0x10, 0, 90, 130)});
    const auto summary = summary_of(store, 1);
    EXPECT_EQ(summary.start_time_unix_nano, 90u);
    EXPECT_EQ(summary.end_time_unix_nano, 400u);
    EXPECT_EQ(summary.duration_nanos(), 310u);
}

TEST(trace_store, filters_by_error_and_min_duration_and_limits_newest_first) {
    trace_store store;
    add(store, {make_span(1, 0x10, 0, 0, 10)});
    span_data failed = make_span(2, 0x21, 0x20, 100, 900, "upstream", span_kind::client);
    failed.status = status_code::error;
    add(store, {failed, make_span(2, 0x20, 0, 0, 1000)});
    add(store, {make_span(3, 0x30, 0, 0, 500)});
    add(store, {make_span(4, 0x40, 0, 0, 2000)});

    EXPECT_EQ(listed(store, query(50, {}, true)), (std::vector<std::uint64_t>{2}));
    EXPECT_TRUE(summary_of(store, 2).has_error);
    EXPECT_EQ(listed(store, query(50, 500)), (std::vector<std::uint64_t>{4, 3, 2}));
    EXPECT_EQ(listed(store, query(2)), (std::vector<std::uint64_t>{4, 3}));
    EXPECT_EQ(listed(store, query(1, 501)), (std::vector<std::uint64_t>{4}));
    EXPECT_TRUE(listed(store, query(50, 1500, true)).empty());
    EXPECT_TRUE(listed(store, query(0)).empty());
}

TEST(trace_store, find_orders_by_start_then_server_before_client_then_span_id) {
    trace_store store;
    add(store, {make_span(1, 0x05, 0x09, 100, 110, "c", span_kind::client),
                make_span(1, 0x09, 0x01, 100, 120, "s9"), make_span(1, 0x03, 0x01, 100, 120, "s3")});
    add(store, {make_span(1, 0x02, 0x01, 300, 310), make_span(1, 0x01, 0, 50, 400)});

    const auto spans = store.find(tid(1));
    ASSERT_TRUE(spans);
    EXPECT_EQ(span_ids(*spans), (std::vector<std::uint64_t>{0x01, 0x03, 0x09, 0x05, 0x02}));
}

TEST(trace_store, find_orders_every_kind_receiving_side_first) {
    trace_store store;
    add(store, {make_span(1, 0x01, 0x09, 100, 110, "client", span_kind::client),
                make_span(1, 0x02, 0x09, 100, 110, "producer", span_kind::producer),
                make_span(1, 0x03, 0x09, 100, 110, "internal", span_kind::internal),
                make_span(1, 0x04, 0x09, 100, 110, "consumer", span_kind::consumer),
                make_span(1, 0x05, 0x09, 100, 110, "server", span_kind::server)});
    const auto spans = store.find(tid(1));
    ASSERT_TRUE(spans);
    EXPECT_EQ(span_ids(*spans), (std::vector<std::uint64_t>{0x05, 0x04, 0x03, 0x02, 0x01}));
}

TEST(trace_store, find_of_an_unknown_trace_is_nullopt) {
    trace_store store;
    add(store, {make_span(1, 0x10, 0, 0, 1)});
    EXPECT_FALSE(store.find(tid(2)));
}

TEST(trace_store, duplicate_span_is_ignored) {
    trace_store store;
    add(store, {make_span(1, 0x10, 0, 0, 100, "first")});
    add(store, {make_span(2, 0x20, 0, 0, 1)});
    const auto bytes = store.stats().bytes;
    add(store, {make_span(1, 0x10, 0, 0, 5000, "again"), make_span(2, 0x20, 0, 0, 1)});

    EXPECT_EQ(listed(store), (std::vector<std::uint64_t>{2, 1}));  // trace 1 did not move
    const auto summary = summary_of(store, 1);
    EXPECT_EQ(summary.span_count, 1u);
    EXPECT_EQ(summary.root_name, "first");
    EXPECT_EQ(summary.end_time_unix_nano, 100u);
    const auto stats = store.stats();
    EXPECT_EQ(stats.bytes, bytes);
    EXPECT_EQ(stats.spans, 2u);
    EXPECT_EQ(stats.duplicate_spans, 2u);
}

TEST(trace_store, estimated_bytes_counts_strings_and_elements_the_same_for_a_copy) {
    span_data span = make_span(1, 1, 0, 0, 1, "");
    const std::size_t empty = trace_store::estimated_bytes(span);
    EXPECT_EQ(empty, sizeof(span_data));

    span.name = "GET /users";
    span.attributes.push_back({"k", std::string("value")});
    span.attributes.push_back({"n", std::int64_t{1}});
    span.events.push_back({"upstream.connected", 5});
    EXPECT_EQ(trace_store::estimated_bytes(span),
              empty + 10 + 2 * sizeof(attribute) + 1 + 5 + 1 + sizeof(span_event) + 18);

    span.name.reserve(1000);
    span.attributes.reserve(100);
    const span_data copy = span;  // smaller capacities than the original
    EXPECT_EQ(trace_store::estimated_bytes(copy), trace_store::estimated_bytes(span));
}

TEST(trace_store, concurrent_adds_and_queries_keep_summaries_consistent) {
    constexpr std::uint64_t traces = 50'000 / 3;
    constexpr std::size_t batch_size = 500;
    trace_store_options options;  // defaults: 1000 traces
    trace_store store(options);

    // Two client spans per trace, and the server span (the root) three traces later, the
    // way an exporter sees them: children first, parent in a later batch.
    std::vector<span_data> sequence;
    sequence.reserve(3 * traces);
    constexpr std::uint64_t delay = 3;
    const auto server = [](std::uint64_t t) { return make_span(t, t << 4, 0, t * 10, t * 10 + 9, "server"); };
    for (std::uint64_t t = 1; t <= traces; ++t) {
        sequence.push_back(make_span(t, t << 4 | 1, t << 4, t * 10 + 1, t * 10 + 4, "c1", span_kind::client));
        sequence.push_back(make_span(t, t << 4 | 2, t << 4, t * 10 + 5, t * 10 + 8, "c2", span_kind::client));
        if (t > delay) sequence.push_back(server(t - delay));
    }
    for (std::uint64_t t = traces - delay + 1; t <= traces; ++t) sequence.push_back(server(t));

    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> bad{0};
    const auto reader = [&] {
        std::uint64_t queries = 0;
        while (!done.load() || queries == 0) {
            for (const trace_summary& summary : store.recent(query(20))) {
                if (summary.span_count < 1 || summary.span_count > 3 ||
                    summary.start_time_unix_nano > summary.end_time_unix_nano)
                    ++bad;
                // The trace may have grown since recent(); it cannot have shrunk.
                if (const auto spans = store.find(summary.trace_id); spans && spans->size() < summary.span_count)
                    ++bad;
            }
            const auto stats = store.stats();
            if (stats.traces > options.max_traces || stats.bytes > options.max_bytes) ++bad;
            ++queries;
        }
    };

    const auto started = std::chrono::steady_clock::now();
    std::thread reader1(reader);
    std::thread reader2(reader);
    std::thread writer([&] {
        // Two services taking turns: names are interned, released and interned again.
        for (std::size_t i = 0; i < sequence.size(); i += batch_size)
            store.add(std::span(sequence).subspan(i, std::min(batch_size, sequence.size() - i)),
                      i / batch_size % 2 == 0 ? "even" : "odd");
        done = true;
    });
    writer.join();
    reader1.join();
    reader2.join();
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    // A sanitizer build is several times slower: only the plain build's time means something.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
#endif
    EXPECT_EQ(bad.load(), 0u);

    const auto stats = store.stats();
    EXPECT_EQ(stats.traces, options.max_traces);
    EXPECT_EQ(stats.spans, 3 * options.max_traces);
    EXPECT_EQ(stats.evicted_traces, traces - options.max_traces);
    const auto summaries = store.recent(query(2000));
    ASSERT_EQ(summaries.size(), options.max_traces);
    for (const trace_summary& summary : summaries) {
        const auto spans = store.find(summary.trace_id);
        ASSERT_TRUE(spans);
        ASSERT_EQ(summary.span_count, spans->size());
        EXPECT_EQ(summary.root_name, "server");
        EXPECT_EQ(summary.start_time_unix_nano, spans->front().span.start_time_unix_nano);
        EXPECT_EQ(summary.end_time_unix_nano, spans->front().span.end_time_unix_nano);
        EXPECT_EQ(summary.root_service, spans->front().service);
    }
    EXPECT_EQ(store.services(), (std::vector<std::string>{"even", "odd"}));
}

span_data with_route(span_data span, attribute_value route) {
    span.attributes.push_back({"http.route", std::move(route)});
    return span;
}

std::vector<std::string> services_of(const std::vector<stored_span>& spans) {
    std::vector<std::string> out;
    for (const stored_span& stored : spans) out.push_back(stored.service);
    return out;
}

TEST(trace_store, keeps_the_service_of_each_span) {
    trace_store store;
    // An ingress's spans under its own name, then the backend's spans received over OTLP.
    add(store, {make_span(1, 0x10, 0, 100, 200, "GET /users"), make_span(1, 0x11, 0x10, 110, 190, "GET", span_kind::client)},
        "ingress");
    add(store, {make_span(1, 0x12, 0x11, 120, 180, "GET /users"), make_span(1, 0x13, 0x12, 130, 170, "SELECT", span_kind::client)},
        "users");
    add(store, {make_span(2, 0x20, 0, 100, 200)}, "users");

    const auto spans = store.find(tid(1));
    ASSERT_TRUE(spans);
    EXPECT_EQ(span_ids(*spans), (std::vector<std::uint64_t>{0x10, 0x11, 0x12, 0x13}));
    EXPECT_EQ(services_of(*spans), (std::vector<std::string>{"ingress", "ingress", "users", "users"}));

    const auto summary = summary_of(store, 1);
    EXPECT_EQ(summary.root_service, "ingress");
    EXPECT_EQ(summary.services, (std::vector<std::string>{"ingress", "users"}));
    EXPECT_FALSE(summary.truncated);
    EXPECT_EQ(summary_of(store, 2).services, (std::vector<std::string>{"users"}));
    EXPECT_EQ(store.services(), (std::vector<std::string>{"ingress", "users"}));
}

TEST(trace_store, root_service_follows_the_root_as_it_arrives) {
    trace_store store;
    add(store, {make_span(1, 0x11, 0x10, 110, 190, "child")}, "backend");
    EXPECT_EQ(summary_of(store, 1).root_service, "backend");
    add(store, {make_span(1, 0x10, 0, 100, 200, "root")}, "frontend");
    EXPECT_EQ(summary_of(store, 1).root_service, "frontend");
    EXPECT_EQ(summary_of(store, 1).services, (std::vector<std::string>{"backend", "frontend"}));
}

TEST(trace_store, filters_by_service_anywhere_in_the_trace) {
    trace_store store;
    add(store, {make_span(1, 0x10, 0, 0, 10)}, "frontend");
    add(store, {make_span(1, 0x11, 0x10, 1, 9)}, "billing");
    add(store, {make_span(2, 0x20, 0, 0, 10)}, "frontend");
    add(store, {make_span(3, 0x30, 0, 0, 10)}, "billing");

    trace_query by_service = query(50);
    by_service.service = "billing";
    EXPECT_EQ(listed(store, by_service), (std::vector<std::uint64_t>{3, 1}));
    by_service.service = "frontend";
    EXPECT_EQ(listed(store, by_service), (std::vector<std::uint64_t>{2, 1}));
    by_service.service = "unknown";
    EXPECT_TRUE(listed(store, by_service).empty());
    by_service.service = "billing";
    by_service.limit = 1;
    EXPECT_EQ(listed(store, by_service), (std::vector<std::uint64_t>{3}));
}

TEST(trace_store, filters_by_the_route_of_the_root_span_and_lists_routes) {
    trace_store store;
    add(store, {with_route(make_span(1, 0x10, 0, 0, 10), std::string("users"))});
    add(store, {with_route(make_span(2, 0x20, 0, 0, 10), std::string("orders")),
                with_route(make_span(2, 0x21, 0x20, 1, 9), std::string("users"))});  // not the root
    add(store, {with_route(make_span(3, 0x30, 0, 0, 10), std::int64_t{7})});          // not a string
    add(store, {with_route(make_span(4, 0x40, 0, 0, 10), std::string("users"))});
    add(store, {make_span(5, 0x50, 0, 0, 10)});

    EXPECT_EQ(summary_of(store, 1).route, "users");
    EXPECT_EQ(summary_of(store, 2).route, "orders");
    EXPECT_FALSE(summary_of(store, 3).route);
    EXPECT_FALSE(summary_of(store, 5).route);

    trace_query by_route = query(50);
    by_route.route = "users";
    EXPECT_EQ(listed(store, by_route), (std::vector<std::uint64_t>{4, 1}));
    by_route.route = "orders";
    EXPECT_EQ(listed(store, by_route), (std::vector<std::uint64_t>{2}));
    by_route.service = "other";
    EXPECT_TRUE(listed(store, by_route).empty());
    EXPECT_EQ(store.routes(), (std::vector<std::string>{"orders", "users"}));
}

TEST(trace_store, a_service_name_goes_with_its_last_span) {
    trace_store store(bounds(2, 1u << 20));
    add(store, {make_span(1, 0x10, 0, 0, 10)}, "old");
    add(store, {make_span(2, 0x20, 0, 0, 10)}, "kept");
    add(store, {make_span(1, 0x10, 0, 0, 10)}, "duplicate");  // ignored: the name is not kept either
    EXPECT_EQ(store.services(), (std::vector<std::string>{"kept", "old"}));

    add(store, {make_span(3, 0x30, 0, 0, 10)}, "kept");  // evicts trace 1
    EXPECT_EQ(store.services(), (std::vector<std::string>{"kept"}));
    add(store, {make_span(4, 0x40, 0, 0, 10)}, "old");  // evicts trace 2; "old" is back
    EXPECT_EQ(store.services(), (std::vector<std::string>{"kept", "old"}));
    trace_query by_service = query(50);
    by_service.service = "old";
    EXPECT_EQ(listed(store, by_service), (std::vector<std::uint64_t>{4}));
}

TEST(trace_store, trimming_releases_the_names_of_the_dropped_spans) {
    const std::size_t unit = cost(make_span(1, 1, 0, 0, 1));
    trace_store store(bounds(100, 4 * unit));
    add(store, {make_span(1, 0x01, 0, 0, 1)}, "svc");
    add(store, {make_span(1, 0x02, 0x01, 0, 1)}, "abc");  // same length: same cost
    add(store, {make_span(1, 0x03, 0x01, 0, 1), make_span(1, 0x04, 0x01, 0, 1), make_span(1, 0x05, 0x01, 0, 1)});
    // The fifth span overflowed the trace: it dropped down to 3 spans, "abc"'s among them.
    EXPECT_EQ(store.services(), (std::vector<std::string>{"svc"}));
    const auto summary = summary_of(store, 1);
    EXPECT_TRUE(summary.truncated);
    EXPECT_EQ(summary.span_count, 3u);
    EXPECT_EQ(summary.services, (std::vector<std::string>{"svc"}));
}

TEST(trace_store, each_span_counts_its_service_name) {
    const span_data span = make_span(1, 0x10, 0, 0, 1);
    EXPECT_EQ(trace_store::estimated_bytes(span, "checkout"), trace_store::estimated_bytes(span) + 8);
    trace_store store;
    add(store, {span, make_span(1, 0x11, 0x10, 0, 1)}, "checkout");
    EXPECT_EQ(store.stats().bytes, 2 * trace_store::estimated_bytes(span, "checkout"));
}

}  // namespace
}  // namespace tracegate::tracing
