// The batch pipeline: the request path never waits, memory stays bounded, failures are
// retried or dropped as they deserve, and shutdown delivers what it can in bounded time.
// Network exporters are exercised end to end by the integration tests; here the
// exporters are the file exporter and small scripted ones.
#include "tracing/export_pipeline.hpp"
#include "tracing/exporters.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tracegate::tracing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct temp_dir {
    temp_dir() {
        path = fs::temp_directory_path() / ("tracegate-export-" + std::to_string(::getpid()) + "-" +
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
    s.trace_id = trace_id::from_uint64(0x0af7651916cd43dd, 0x8448eb211c80319c + n);
    s.span_id = span_id::from_uint64(0xb7ad6b7169203331 + n);
    s.name = "GET users";
    s.start_time_unix_nano = 1'700'000'000'000'000'000;
    s.end_time_unix_nano = 1'700'000'000'250'000'000;
    s.attributes = {{"http.request.method", std::string("GET")}, {"n", std::int64_t(n)}};
    return s;
}

/// An exporter that answers from a script (then ok) and records what it was given.
class scripted_exporter final : public exporter {
public:
    explicit scripted_exporter(std::deque<export_result> script = {}, std::chrono::milliseconds delay = 0ms)
        : script_(std::move(script)), delay_(delay) {}

    const std::string& name() const noexcept override { return name_; }

    export_result export_batch(std::span<const span_data> spans, std::chrono::milliseconds time_left) override {
        attempts.fetch_add(1);
        if (delay_ > 0ms) std::this_thread::sleep_for(std::min(delay_, time_left));
        const std::lock_guard lock(mutex);
        attempt_times.push_back(clock_type::now());
        export_result r;
        if (!script_.empty()) {
            r = std::move(script_.front());
            script_.pop_front();
            if (r.status != export_status::ok) return r;
        }
        for (const auto& s : spans) delivered.push_back(s.span_id);
        return r;
    }

    std::atomic<int> attempts{0};
    std::mutex mutex;
    std::vector<span_id> delivered;
    std::vector<clock_type::time_point> attempt_times;

private:
    std::string name_ = "scripted";
    std::deque<export_result> script_;
    std::chrono::milliseconds delay_;
};

struct log_capture {
    export_logger logger() {
        return [this](export_log_level, std::string_view line) {
            const std::lock_guard lock(mutex);
            lines.emplace_back(line);
        };
    }
    std::size_t count_containing(std::string_view text) {
        const std::lock_guard lock(mutex);
        return std::count_if(lines.begin(), lines.end(),
                             [&](const std::string& l) { return l.find(text) != std::string::npos; });
    }
    std::mutex mutex;
    std::vector<std::string> lines;
};

export_result retry(std::string message, std::optional<std::chrono::milliseconds> after = std::nullopt) {
    export_result r = export_result::failure(export_status::retry, std::move(message), "HTTP 503");
    r.retry_after = after;
    return r;
}

/// Keeps the exporter observable after the pipeline owns it.
template <typename T>
std::vector<std::unique_ptr<exporter>> exporters_of(T*& observer, std::unique_ptr<T> e) {
    observer = e.get();
    std::vector<std::unique_ptr<exporter>> out;
    out.push_back(std::move(e));
    return out;
}

TEST(export_pipeline, file_exporter_writes_every_span_as_a_json_line) {
    temp_dir dir;
    const auto file = dir.path / "spans.jsonl";
    std::vector<std::unique_ptr<exporter>> exporters;
    exporters.push_back(make_file_exporter(file.string(), make_process_resource("checkout")));
    export_pipeline pipeline({.max_batch_spans = 7, .flush_interval = 5ms}, std::move(exporters));
    for (std::uint64_t i = 0; i < 100; ++i) pipeline.submit(sample_span(i));
    ASSERT_TRUE(pipeline.flush(5s));
    const auto lines = read_lines(file);
    ASSERT_EQ(lines.size(), 100u);
    for (std::uint64_t i = 0; i < lines.size(); ++i) {
        const auto v = boost::json::parse(lines[i]).as_object();
        EXPECT_EQ(v.at("spanId").as_string(), sample_span(i).span_id.to_hex());
        EXPECT_EQ(v.at("service").as_string(), "checkout");
    }
    EXPECT_EQ(pipeline.stats().exporters.at(0).exported_spans, 100u);
}

TEST(export_pipeline, shutdown_delivers_what_is_queued) {
    temp_dir dir;
    const auto file = dir.path / "spans.jsonl";
    {
        std::vector<std::unique_ptr<exporter>> exporters;
        exporters.push_back(make_file_exporter(file.string(), make_process_resource("svc")));
        export_pipeline pipeline({.flush_interval = 10s}, std::move(exporters));
        for (std::uint64_t i = 0; i < 100; ++i) pipeline.submit(sample_span(i));
    }
    EXPECT_EQ(read_lines(file).size(), 100u);
}

TEST(export_pipeline, full_queue_drops_and_counts_without_blocking) {
    scripted_exporter* e = nullptr;
    export_pipeline pipeline({.max_queue_spans = 16, .max_batch_spans = 16, .flush_interval = 10s},
                             exporters_of(e, std::make_unique<scripted_exporter>()));
    for (std::uint64_t i = 0; i < 1000; ++i) pipeline.submit(sample_span(i));
    const auto stats = pipeline.stats();
    EXPECT_EQ(stats.queued + stats.dropped_queue_full, 1000u);
    EXPECT_GT(stats.dropped_queue_full, 0u);  // the batcher cannot keep up with a tight loop
    ASSERT_TRUE(pipeline.flush(5s));
    // What the queue accepted is delivered, or counted as dropped by an exporter that fell
    // too far behind (a slow machine, or ThreadSanitizer): never lost without a count.
    const auto after = pipeline.stats().exporters.at(0);
    EXPECT_EQ(e->delivered.size(), after.exported_spans);
    EXPECT_EQ(after.exported_spans + after.dropped_backlog, stats.queued);
    EXPECT_GT(after.exported_spans, 0u);
}

TEST(export_pipeline, concurrent_submitters_lose_nothing_the_queue_accepted) {
    temp_dir dir;
    const auto file = dir.path / "spans.jsonl";
    std::vector<std::unique_ptr<exporter>> exporters;
    exporters.push_back(make_file_exporter(file.string(), make_process_resource("svc")));
    export_pipeline pipeline({.max_batch_spans = 7, .flush_interval = 5ms}, std::move(exporters));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (std::uint64_t i = 0; i < 500; ++i) pipeline.submit(sample_span(i));
        });
    for (auto& thread : threads) thread.join();
    ASSERT_TRUE(pipeline.flush(5s));
    const auto lines = read_lines(file);
    const auto stats = pipeline.stats();
    EXPECT_EQ(lines.size(), stats.queued);
    EXPECT_EQ(stats.queued + stats.dropped_queue_full, 2000u);
    for (const auto& line : lines) ASSERT_NO_THROW(boost::json::parse(line)) << line;
}

TEST(export_pipeline, unopenable_span_file_is_a_startup_error) {
    EXPECT_THROW(make_file_exporter("/nonexistent-dir/x/spans.jsonl", make_process_resource("svc")),
                 std::system_error);
}

TEST(export_pipeline, retryable_failures_are_retried_with_growing_backoff_until_delivered) {
    scripted_exporter* e = nullptr;
    log_capture log;
    export_pipeline pipeline(
        {.flush_interval = 5ms, .initial_backoff = 20ms, .max_backoff = 1000ms, .log = log.logger()},
        exporters_of(e, std::make_unique<scripted_exporter>(
                            std::deque<export_result>{retry("HTTP 503"), retry("HTTP 503"), retry("HTTP 503")})));
    pipeline.submit(sample_span(1));
    ASSERT_TRUE(pipeline.flush(10s));
    EXPECT_EQ(e->attempts.load(), 4);
    ASSERT_EQ(e->delivered.size(), 1u);
    // Backoff with jitter in [d/2, d], d doubling: gaps of at least 10, 20, 40 ms.
    const auto& t = e->attempt_times;
    EXPECT_GE(t[1] - t[0], 10ms);
    EXPECT_GE(t[2] - t[1], 20ms);
    EXPECT_GE(t[3] - t[2], 40ms);
    const auto stats = pipeline.stats().exporters.at(0);
    EXPECT_EQ(stats.failed_requests, 3u);
    EXPECT_EQ(stats.retries, 3u);
    EXPECT_EQ(stats.exported_spans, 1u);
    // One line when it starts failing, one when it recovers; not one per attempt.
    EXPECT_EQ(log.count_containing("retrying"), 1u);
    EXPECT_EQ(log.count_containing("recovered"), 1u);
}

TEST(export_pipeline, retry_after_sets_the_delay) {
    scripted_exporter* e = nullptr;
    export_pipeline pipeline({.flush_interval = 5ms, .initial_backoff = 1ms, .max_backoff = 2ms},
                             exporters_of(e, std::make_unique<scripted_exporter>(
                                                 std::deque<export_result>{retry("HTTP 429", 300ms)})));
    pipeline.submit(sample_span(1));
    ASSERT_TRUE(pipeline.flush(10s));
    ASSERT_EQ(e->attempt_times.size(), 2u);
    EXPECT_GE(e->attempt_times[1] - e->attempt_times[0], 300ms);
}

TEST(export_pipeline, permanent_failures_drop_the_batch_and_are_logged_once_per_kind) {
    scripted_exporter* e = nullptr;
    log_capture log;
    std::deque<export_result> script;
    for (int i = 0; i < 5; ++i)
        script.push_back(export_result::failure(export_status::fail, "HTTP 400 from the collector", "HTTP 400"));
    script.push_back(export_result::failure(export_status::fail, "HTTP 413 from the collector", "HTTP 413"));
    export_pipeline pipeline({.max_batch_spans = 1, .flush_interval = 5ms, .log = log.logger()},
                             exporters_of(e, std::make_unique<scripted_exporter>(std::move(script))));
    for (std::uint64_t i = 0; i < 7; ++i) pipeline.submit(sample_span(i));
    ASSERT_TRUE(pipeline.flush(10s));
    EXPECT_EQ(e->attempts.load(), 7);  // never retried
    EXPECT_EQ(e->delivered.size(), 1u);
    const auto stats = pipeline.stats().exporters.at(0);
    EXPECT_EQ(stats.dropped_failed, 6u);
    EXPECT_EQ(stats.exported_spans, 1u);
    EXPECT_EQ(log.count_containing("HTTP 400"), 1u);
    EXPECT_EQ(log.count_containing("HTTP 413"), 1u);
}

TEST(export_pipeline, partial_success_counts_the_rejected_spans_and_is_logged) {
    scripted_exporter* e = nullptr;
    log_capture log;
    export_result partial;
    partial.rejected_spans = 2;
    partial.partial_message = "attribute too long";
    export_pipeline pipeline({.flush_interval = 5ms, .log = log.logger()},
                             exporters_of(e, std::make_unique<scripted_exporter>(std::deque{partial})));
    for (std::uint64_t i = 0; i < 5; ++i) pipeline.submit(sample_span(i));
    ASSERT_TRUE(pipeline.flush(10s));
    const auto stats = pipeline.stats().exporters.at(0);
    EXPECT_EQ(stats.rejected_spans, 2u);
    EXPECT_EQ(stats.exported_spans, 3u);
    EXPECT_EQ(log.count_containing("attribute too long"), 1u);
}

TEST(export_pipeline, a_collectors_partial_success_messages_are_logged_as_bounded_single_lines) {
    scripted_exporter* e = nullptr;
    log_capture log;
    std::deque<export_result> answers;
    for (int i = 0; i < 200; ++i) {
        export_result partial;
        partial.rejected_spans = 1;
        partial.partial_message = "line one\nforged log line " + std::to_string(i) + std::string(10000, 'x');
        answers.push_back(partial);
    }
    export_pipeline pipeline({.max_batch_spans = 1, .flush_interval = 1ms, .log = log.logger()},
                             exporters_of(e, std::make_unique<scripted_exporter>(std::move(answers))));
    for (std::uint64_t i = 0; i < 200; ++i) pipeline.submit(sample_span(i));
    ASSERT_TRUE(pipeline.flush(20s));
    EXPECT_EQ(pipeline.stats().exporters.at(0).rejected_spans, 200u);
    const std::lock_guard lock(log.mutex);
    std::size_t partial_lines = 0;
    for (const auto& line : log.lines) {
        if (line.find("collector rejected") == std::string::npos) continue;
        ++partial_lines;
        EXPECT_EQ(line.find('\n'), std::string::npos) << "a collector can forge log lines";
        EXPECT_LT(line.size(), 1024u);
    }
    EXPECT_GT(partial_lines, 0u);
    EXPECT_LE(partial_lines, 64u) << "every distinct message logged and remembered";
}

TEST(export_pipeline, a_slow_exporter_neither_blocks_the_others_nor_grows_without_bound) {
    scripted_exporter* slow = nullptr;
    auto exporters = exporters_of(slow, std::make_unique<scripted_exporter>(std::deque<export_result>{}, 200ms));
    auto fast_owned = std::make_unique<scripted_exporter>();
    scripted_exporter* fast = fast_owned.get();
    exporters.push_back(std::move(fast_owned));
    export_pipeline pipeline({.max_queue_spans = 64, .max_batch_spans = 8, .flush_interval = 1ms,
                              .shutdown_timeout = 500ms},
                             std::move(exporters));
    std::uint64_t submitted = 0;
    const auto until = clock_type::now() + 1s;
    while (clock_type::now() < until) {
        for (int i = 0; i < 8; ++i) pipeline.submit(sample_span(submitted++));
        std::this_thread::sleep_for(2ms);
    }
    pipeline.shutdown();
    const auto stats = pipeline.stats();
    // The fast exporter got (nearly) everything the queue accepted...
    EXPECT_EQ(stats.exporters[1].exported_spans, stats.queued);
    EXPECT_EQ(fast->delivered.size(), stats.queued);
    // ...while the slow one, ~5 batches a second, fell behind and dropped, its backlog bounded.
    EXPECT_GT(stats.exporters[0].dropped_backlog, 0u);
    EXPECT_LT(stats.exporters[0].exported_spans, stats.queued / 2);
    EXPECT_EQ(stats.exporters[0].exported_spans + stats.exporters[0].dropped_backlog +
                  stats.exporters[0].dropped_shutdown,
              stats.queued);
}

TEST(export_pipeline, shutdown_with_a_dead_backend_ends_within_the_timeout_and_counts_the_loss) {
    scripted_exporter* e = nullptr;
    std::deque<export_result> script;
    for (int i = 0; i < 1000; ++i) script.push_back(retry("connection refused"));
    export_pipeline pipeline({.flush_interval = 5ms, .shutdown_timeout = 300ms, .initial_backoff = 50ms},
                             exporters_of(e, std::make_unique<scripted_exporter>(std::move(script))));
    for (std::uint64_t i = 0; i < 10; ++i) pipeline.submit(sample_span(i));
    const auto start = clock_type::now();
    pipeline.shutdown();
    EXPECT_LT(clock_type::now() - start, 2s);
    const auto stats = pipeline.stats().exporters.at(0);
    EXPECT_EQ(stats.exported_spans, 0u);
    EXPECT_EQ(stats.dropped_shutdown, 10u);
}

TEST(export_pipeline, spans_submitted_after_shutdown_are_dropped_and_counted) {
    export_pipeline pipeline({}, {});
    pipeline.shutdown();
    pipeline.submit(sample_span(1));
    EXPECT_EQ(pipeline.stats().dropped_queue_full, 1u);
}

TEST(export_pipeline, retry_after_parses_seconds_and_http_dates) {
    EXPECT_EQ(parse_retry_after("120", 0), std::chrono::milliseconds(120'000));
    EXPECT_EQ(parse_retry_after(" 0 ", 0), std::chrono::milliseconds(0));
    // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30), std::chrono::milliseconds(30'000));
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 30), std::chrono::milliseconds(0));
    EXPECT_FALSE(parse_retry_after("soon", 0));
    EXPECT_FALSE(parse_retry_after("", 0));
    EXPECT_FALSE(parse_retry_after("-5", 0));
}

}  // namespace
}  // namespace tracegate::tracing
