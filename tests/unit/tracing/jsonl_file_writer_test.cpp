#include "tracing/jsonl_file_writer.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tracegate::tracing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct temp_dir {
    temp_dir() {
        path = fs::temp_directory_path() / ("tracegate-jsonl-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(counter++));
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
    static inline int counter = 0;
    fs::path path;
};

std::vector<std::string> read_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

span_data sample_span(std::uint64_t n) {
    span_data s;
    s.trace_id = trace_id::from_uint64(0x0af7651916cd43dd, 0x8448eb211c80319c);
    s.span_id = span_id::from_uint64(0xb7ad6b7169203331 + n);
    s.parent_span_id = span_id::from_uint64(0x00f067aa0ba902b7);
    s.trace_flags = sampled_flag | random_flag;
    s.tracestate = "congo=t61rcWkgMzE";
    s.name = "GET users";
    s.kind = span_kind::client;
    s.start_time_unix_nano = 1'700'000'000'000'000'000;
    s.end_time_unix_nano = 1'700'000'000'250'000'000;
    s.attributes = {{"http.request.method", std::string("GET")},
                    {"http.response.status_code", std::int64_t{503}},
                    {"ratio", 0.25},
                    {"retry", true}};
    s.events = {{"upstream.connected", 1'700'000'000'100'000'000}};
    span_context linked;
    linked.trace_id = trace_id::from_uint64(1, 2);
    linked.span_id = span_id::from_uint64(3);
    s.links = {{linked, {}}};
    s.status = status_code::error;
    s.status_message = "upstream reset";
    return s;
}

TEST(jsonl_file_writer, lines_parse_as_json_with_every_field) {
    temp_dir dir;
    const auto file = dir.path / "spans.jsonl";
    {
        jsonl_file_writer writer({.path = file.string(), .service_name = "checkout"});
        for (std::uint64_t i = 0; i < 3; ++i) writer.submit(sample_span(i));
        ASSERT_TRUE(writer.flush(5s));
        EXPECT_EQ(writer.written(), 3u);
        EXPECT_EQ(writer.dropped(), 0u);
        const auto lines = read_lines(file);
        ASSERT_EQ(lines.size(), 3u);  // written by flush(), before the destructor
    }
    const auto lines = read_lines(file);
    ASSERT_EQ(lines.size(), 3u);
    const auto v = boost::json::parse(lines[1]).as_object();
    EXPECT_EQ(v.at("traceId").as_string(), "0af7651916cd43dd8448eb211c80319c");
    EXPECT_EQ(v.at("spanId").as_string(), "b7ad6b7169203332");
    EXPECT_EQ(v.at("parentSpanId").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(v.at("name").as_string(), "GET users");
    EXPECT_EQ(v.at("kind").as_string(), "CLIENT");
    EXPECT_EQ(boost::json::value_to<std::uint64_t>(v.at("startTimeUnixNano")), 1'700'000'000'000'000'000u);
    EXPECT_EQ(boost::json::value_to<std::uint64_t>(v.at("endTimeUnixNano")), 1'700'000'000'250'000'000u);
    const auto& attributes = v.at("attributes").as_object();
    EXPECT_EQ(attributes.at("http.request.method").as_string(), "GET");
    EXPECT_EQ(attributes.at("http.response.status_code").as_int64(), 503);
    EXPECT_EQ(attributes.at("ratio").as_double(), 0.25);
    EXPECT_EQ(attributes.at("retry").as_bool(), true);
    const auto& event = v.at("events").as_array().at(0).as_object();
    EXPECT_EQ(event.at("name").as_string(), "upstream.connected");
    EXPECT_EQ(boost::json::value_to<std::uint64_t>(event.at("timeUnixNano")), 1'700'000'000'100'000'000u);
    const auto& link = v.at("links").as_array().at(0).as_object();
    EXPECT_EQ(link.at("traceId").as_string(), "00000000000000010000000000000002");
    EXPECT_EQ(link.at("spanId").as_string(), "0000000000000003");
    EXPECT_EQ(v.at("status").at("code").as_string(), "ERROR");
    EXPECT_EQ(v.at("status").at("message").as_string(), "upstream reset");
    EXPECT_EQ(boost::json::value_to<int>(v.at("traceFlags")), 3);
    EXPECT_EQ(v.at("traceState").as_string(), "congo=t61rcWkgMzE");
    EXPECT_EQ(v.at("service").as_string(), "checkout");
}

TEST(jsonl_file_writer, root_span_has_empty_parent_and_server_kind) {
    span_data s = sample_span(0);
    s.parent_span_id.reset();
    s.kind = span_kind::server;
    s.status = status_code::unset;
    s.status_message.clear();
    const auto v = boost::json::parse(jsonl_file_writer::encode(s, "svc")).as_object();
    EXPECT_EQ(v.at("parentSpanId").as_string(), "");
    EXPECT_EQ(v.at("kind").as_string(), "SERVER");
    EXPECT_EQ(v.at("status").at("code").as_string(), "UNSET");
}

TEST(jsonl_file_writer, destructor_drains_the_queue) {
    temp_dir dir;
    const auto file = dir.path / "spans.jsonl";
    {
        jsonl_file_writer writer({.path = file.string(), .flush_interval = 10s});
        for (std::uint64_t i = 0; i < 100; ++i) writer.submit(sample_span(i));
    }
    EXPECT_EQ(read_lines(file).size(), 100u);
}

TEST(jsonl_file_writer, full_queue_drops_and_counts_without_blocking) {
    temp_dir dir;
    const auto file = dir.path / "spans.jsonl";
    jsonl_file_writer writer({.path = file.string(),
                              .max_queue_spans = 16,
                              .max_batch_spans = 1000,  // never woken by a full batch
                              .flush_interval = 10s});
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < 1000; ++i) writer.submit(sample_span(i));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(writer.queued() + writer.dropped(), 1000u);
    EXPECT_GE(writer.dropped(), 1000u - 16u);
    ASSERT_TRUE(writer.flush(5s));
    const auto lines = read_lines(file);
    EXPECT_EQ(lines.size(), writer.queued());
    for (const auto& line : lines) EXPECT_NO_THROW(boost::json::parse(line));
}

TEST(jsonl_file_writer, concurrent_writers_produce_whole_lines) {
    temp_dir dir;
    const auto file = dir.path / "spans.jsonl";
    jsonl_file_writer writer({.path = file.string(), .max_batch_spans = 7, .flush_interval = 5ms});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (std::uint64_t i = 0; i < 500; ++i) writer.submit(sample_span(i));
        });
    for (auto& thread : threads) thread.join();
    ASSERT_TRUE(writer.flush(5s));
    const auto lines = read_lines(file);
    EXPECT_EQ(lines.size() + writer.dropped(), 2000u);
    for (const auto& line : lines) ASSERT_NO_THROW(boost::json::parse(line)) << line;
}

TEST(jsonl_file_writer, unopenable_path_throws) {
    EXPECT_THROW(jsonl_file_writer({.path = "/nonexistent-dir/x/spans.jsonl"}), std::system_error);
}

}  // namespace
}  // namespace tracegate::tracing
