#include "proxy/metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

// Counts this thread's allocations, to check the request path does not allocate once its
// keys exist. Forwards to malloc, so the rest of the binary is unaffected.
namespace {
thread_local std::uint64_t allocations = 0;
}
// noinline: GCC would otherwise see free() against operator new at inlined call sites
// and warn (-Wmismatched-new-delete) although both sides are these replacements.
[[gnu::noinline]] void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tracegate::proxy {
namespace {
using namespace std::chrono_literals;

// ---- a strict parser of the text exposition format 0.0.4 ----------------------------

using label_set = std::map<std::string, std::string>;

struct sample {
    std::string name;
    label_set labels;
    double value = 0;
};

struct exposition {
    std::map<std::string, std::string> types;  // family -> counter | gauge | histogram
    std::set<std::string> helps;
    std::vector<sample> samples;

    /// The value of the one sample `name{labels}`, or nullopt.
    std::optional<double> get(const std::string& name, const label_set& labels = {}) const {
        for (const auto& s : samples)
            if (s.name == name && s.labels == labels) return s.value;
        return std::nullopt;
    }
    /// The sum of the samples named `name` whose labels include `subset`.
    double sum(const std::string& name, const label_set& subset = {}) const {
        double total = 0;
        for (const auto& s : samples) {
            if (s.name != name) continue;
            bool match = true;
            for (const auto& [k, v] : subset) {
                const auto it = s.labels.find(k);
                match = match && it != s.labels.end() && it->second == v;
            }
            if (match) total += s.value;
        }
        return total;
    }
};

bool is_metric_name(std::string_view n) {
    if (n.empty()) return false;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}
bool is_label_name(std::string_view n) {
    return is_metric_name(n) && n.find(':') == std::string_view::npos && n.rfind("__", 0) != 0;
}

/// Parses `text` strictly; the first violation becomes `error`.
struct parser {
    std::string error;

    std::optional<exposition> parse(const std::string& text) {
        exposition out;
        if (!text.empty() && text.back() != '\n') return fail("text does not end with a newline");
        std::set<std::string> finished;  // families whose block has ended
        std::string current;             // family of the block being read
        std::set<std::string> series;    // name + labels, for duplicates
        std::size_t pos = 0;
        while (pos < text.size()) {
            const std::size_t end = text.find('\n', pos);
            const std::string line = text.substr(pos, end - pos);
            pos = end + 1;
            std::string family;
            if (line.rfind("# ", 0) == 0) {
                const std::size_t sp1 = line.find(' ', 2);
                if (sp1 == std::string::npos) return fail("bad comment: " + line);
                const std::string keyword = line.substr(2, sp1 - 2);
                const std::size_t sp2 = line.find(' ', sp1 + 1);
                family = line.substr(sp1 + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp1 - 1);
                if (!is_metric_name(family)) return fail("bad family name: " + line);
                const std::string rest = sp2 == std::string::npos ? "" : line.substr(sp2 + 1);
                if (keyword == "HELP") {
                    if (!out.helps.insert(family).second) return fail("second HELP: " + line);
                    if (out.types.count(family)) return fail("HELP after TYPE: " + line);
                } else if (keyword == "TYPE") {
                    if (rest != "counter" && rest != "gauge" && rest != "histogram") return fail("bad TYPE: " + line);
                    if (!out.types.emplace(family, rest).second) return fail("second TYPE: " + line);
                    if (rest == "counter" && !family.ends_with("_total")) return fail("counter without _total: " + line);
                } else {
                    return fail("unexpected comment: " + line);
                }
            } else {
                sample s;
                if (!parse_sample(line, s)) return std::nullopt;
                family = family_of(out, s.name);
                if (family.empty()) return fail("sample without TYPE: " + line);
                std::string key = s.name;
                for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
                if (!series.insert(key).second) return fail("duplicate series: " + line);
                out.samples.push_back(std::move(s));
            }
            if (family != current) {
                if (finished.count(family)) return fail("family split into blocks: " + family);
                if (!current.empty()) finished.insert(current);
                current = family;
            }
        }
        for (const auto& [family, type] : out.types)
            if (!out.helps.count(family)) return fail("no HELP for " + family);
        if (!check_histograms(out)) return std::nullopt;
        return out;
    }

private:
    std::nullopt_t fail(std::string message) {
        if (error.empty()) error = std::move(message);
        return std::nullopt;
    }

    static std::string family_of(const exposition& out, const std::string& name) {
        if (out.types.count(name)) return name;
        for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
            if (!name.ends_with(suffix)) continue;
            const std::string base = name.substr(0, name.size() - suffix.size());
            const auto it = out.types.find(base);
            if (it != out.types.end() && it->second == "histogram") return base;
        }
        return {};
    }

    bool parse_sample(const std::string& line, sample& s) {
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
        s.name = line.substr(0, i);
        if (!is_metric_name(s.name)) return reject("bad metric name: " + line);
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (true) {
                if (i < line.size() && line[i] == '}') {
                    ++i;
                    break;
                }
                const std::size_t eq = line.find('=', i);
                if (eq == std::string::npos) return bad(line);
                const std::string key = line.substr(i, eq - i);
                if (!is_label_name(key) || eq + 1 >= line.size() || line[eq + 1] != '"') return bad(line);
                std::string value;
                i = eq + 2;
                for (;; ++i) {
                    if (i >= line.size()) return bad(line);
                    const char c = line[i];
                    if (c == '"') break;
                    if (c == '\\') {
                        if (++i >= line.size()) return bad(line);
                        if (line[i] == '\\') value += '\\';
                        else if (line[i] == '"') value += '"';
                        else if (line[i] == 'n') value += '\n';
                        else return bad(line);
                    } else {
                        value += c;
                    }
                }
                ++i;  // closing quote
                if (!s.labels.emplace(key, value).second) return bad(line);
                if (i < line.size() && line[i] == ',') ++i;
                else if (i >= line.size() || line[i] != '}') return bad(line);
            }
        }
        if (i >= line.size() || line[i] != ' ') return bad(line);
        const std::string value = line.substr(i + 1);
        if (value.empty() || value.find(' ') != std::string::npos) return bad(line);
        char* end = nullptr;
        s.value = std::strtod(value.c_str(), &end);
        if (end != value.c_str() + value.size()) return bad(line);
        return true;
    }
    bool bad(const std::string& line) { return reject("bad sample: " + line); }
    bool reject(std::string message) {
        fail(std::move(message));
        return false;
    }

    /// Per series (labels without le): buckets in increasing le, cumulative, the last
    /// le="+Inf" and equal to _count; _sum present.
    bool check_histograms(const exposition& out) {
        for (const auto& [family, type] : out.types) {
            if (type != "histogram") continue;
            std::map<label_set, std::vector<std::pair<double, double>>> buckets;
            for (const auto& s : out.samples) {
                if (s.name != family + "_bucket") continue;
                auto labels = s.labels;
                const auto le = labels.find("le");
                if (le == labels.end()) return reject("bucket without le");
                const double bound = std::strtod(le->second.c_str(), nullptr);
                labels.erase(le);
                buckets[labels].emplace_back(bound, s.value);
            }
            for (const auto& [labels, list] : buckets) {
                for (std::size_t i = 1; i < list.size(); ++i)
                    if (list[i].first <= list[i - 1].first || list[i].second < list[i - 1].second)
                        return reject("buckets not increasing/cumulative in " + family);
                if (list.empty() || list.back().first != std::numeric_limits<double>::infinity())
                    return reject("no +Inf bucket in " + family);
                const auto count = out.get(family + "_count", labels);
                if (!count || *count != list.back().second)
                    return reject("+Inf bucket != _count in " + family);
                if (!out.get(family + "_sum", labels)) return reject("no _sum in " + family);
            }
        }
        return true;
    }
};

exposition parse_ok(const std::string& text) {
    parser p;
    auto result = p.parse(text);
    EXPECT_TRUE(result.has_value()) << p.error << "\n--- text:\n" << text;
    return result ? *result : exposition{};
}

std::string render(const metrics& m) { return m.render({}, {}); }

// ---- tests ------------------------------------------------------------------------------

TEST(metrics, every_family_has_help_and_type_when_nothing_was_recorded) {
    metrics m(2);
    const exposition e = parse_ok(render(m));
    for (const char* family :
         {"tracegate_requests_total", "tracegate_request_duration_seconds", "tracegate_upstream_errors_total",
          "tracegate_connections_active", "tracegate_connections_total", "tracegate_request_bytes_total",
          "tracegate_response_bytes_total", "tracegate_spans_started_total", "tracegate_spans_sampled_total",
          "tracegate_spans_exported_total", "tracegate_spans_dropped_total", "tracegate_export_failures_total",
          "tracegate_export_retries_total", "tracegate_export_queue_spans", "tracegate_spans_queued_total",
          "tracegate_trace_store_traces", "tracegate_trace_store_spans", "tracegate_trace_store_bytes",
          "tracegate_trace_store_evicted_traces_total", "tracegate_config_reloads_total",
          "process_start_time_seconds", "tracegate_build_info"})
        EXPECT_TRUE(e.types.count(family)) << family;
    EXPECT_EQ(e.types.at("tracegate_request_duration_seconds"), "histogram");
    EXPECT_EQ(e.types.at("tracegate_connections_active"), "gauge");
    EXPECT_EQ(e.get("tracegate_build_info", {{"version", std::string(metrics::version())}}), 1.0);
    EXPECT_FALSE(metrics::version().empty());
}

TEST(metrics, counts_by_route_method_and_status_class_from_concurrent_workers) {
    constexpr unsigned workers = 4;
    constexpr int per_worker = 20000;
    const std::vector<std::string> routes = {"api", "static", ""};
    const std::vector<std::string> methods = {"GET", "POST", "DELETE", "PATCH"};
    const std::vector<unsigned> statuses = {200, 204, 301, 404, 503, 101};
    const auto route_of = [&](int i) { return routes[i % routes.size()]; };
    const auto method_of = [&](int i) { return methods[(i / 3) % methods.size()]; };
    const auto status_of = [&](int i) { return statuses[(i / 7) % statuses.size()]; };

    metrics m(workers);
    std::atomic<bool> done{false};
    int scrapes = 0;
    std::thread scraper([&] {  // renders while the workers record; every scrape must parse
        while (!done.load()) {
            parse_ok(m.render({}, {}));
            ++scrapes;
        }
    });
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w)
        threads.emplace_back([&, w] {
            for (int i = 0; i < per_worker; ++i) {
                m.connection_opened(w);
                m.span_started(w, i % 2 == 0);
                m.request_finished(w, route_of(i), method_of(i), status_of(i), 3ms, 10, 100);
                m.connection_closed(w);
            }
        });
    for (auto& t : threads) t.join();
    done = true;
    scraper.join();
    EXPECT_GT(scrapes, 0);

    std::map<label_set, double> expected;
    for (int i = 0; i < per_worker; ++i)
        expected[{{"route", route_of(i)},
                  {"method", method_of(i)},
                  {"status_class", std::to_string(status_of(i) / 100) + "xx"}}] += workers;

    const exposition e = parse_ok(render(m));
    double total = 0;
    for (const auto& s : e.samples) {
        if (s.name != "tracegate_requests_total") continue;
        ASSERT_TRUE(expected.count(s.labels)) << "unexpected series";
        EXPECT_EQ(s.value, expected.at(s.labels));
        total += s.value;
    }
    EXPECT_EQ(total, workers * per_worker);
    EXPECT_EQ(e.sum("tracegate_requests_total", {{"route", ""}}), workers * (per_worker / 3));  // i % 3 == 2
    EXPECT_EQ(e.get("tracegate_request_duration_seconds_count", {{"route", "api"}}),
              workers * ((per_worker + 2) / 3));
    EXPECT_EQ(e.get("tracegate_connections_total"), workers * per_worker);
    EXPECT_EQ(e.get("tracegate_connections_active"), 0.0);
    EXPECT_EQ(e.get("tracegate_request_bytes_total"), 10.0 * workers * per_worker);
    EXPECT_EQ(e.get("tracegate_response_bytes_total"), 100.0 * workers * per_worker);
    EXPECT_EQ(e.get("tracegate_spans_started_total"), workers * per_worker);
    EXPECT_EQ(e.get("tracegate_spans_sampled_total"), workers * per_worker / 2);
}

TEST(metrics, unknown_methods_and_statuses_fold_into_other) {
    metrics m(1);
    for (const char* method : {"PROPFIND", "get", "BREW", ""}) m.request_finished(0, "r", method, 200, 1ms, 0, 0);
    m.request_finished(0, "r", "GET", 200, 1ms, 0, 0);
    m.request_finished(0, "r", "GET", 999, 1ms, 0, 0);
    const exposition e = parse_ok(render(m));
    EXPECT_EQ(e.get("tracegate_requests_total", {{"route", "r"}, {"method", "other"}, {"status_class", "2xx"}}), 4.0);
    EXPECT_EQ(e.get("tracegate_requests_total", {{"route", "r"}, {"method", "GET"}, {"status_class", "2xx"}}), 1.0);
    EXPECT_EQ(e.get("tracegate_requests_total", {{"route", "r"}, {"method", "GET"}, {"status_class", "other"}}),
              1.0);
    std::set<std::string> methods;
    for (const auto& s : e.samples)
        if (s.name == "tracegate_requests_total") methods.insert(s.labels.at("method"));
    EXPECT_EQ(methods, (std::set<std::string>{"GET", "other"}));
}

TEST(metrics, duration_lands_in_its_bucket) {
    metrics m(1);
    m.request_finished(0, "r", "GET", 200, 30ms, 0, 0);
    const auto bucket = [](const exposition& e, const char* le) {
        return e.get("tracegate_request_duration_seconds_bucket", {{"route", "r"}, {"le", le}});
    };
    exposition e = parse_ok(render(m));
    EXPECT_EQ(bucket(e, "0.025"), 0.0);
    EXPECT_EQ(bucket(e, "0.05"), 1.0);
    EXPECT_EQ(bucket(e, "+Inf"), 1.0);
    EXPECT_DOUBLE_EQ(*e.get("tracegate_request_duration_seconds_sum", {{"route", "r"}}), 0.03);

    m.request_finished(0, "r", "GET", 200, 50ms, 0, 0);  // le is inclusive
    m.request_finished(0, "r", "GET", 200, 20s, 0, 0);   // past the last finite bound
    e = parse_ok(render(m));
    EXPECT_EQ(bucket(e, "0.05"), 2.0);
    EXPECT_EQ(bucket(e, "10"), 2.0);
    EXPECT_EQ(bucket(e, "+Inf"), 3.0);
    EXPECT_EQ(e.get("tracegate_request_duration_seconds_count", {{"route", "r"}}), 3.0);
    EXPECT_DOUBLE_EQ(*e.get("tracegate_request_duration_seconds_sum", {{"route", "r"}}), 20.08);
}

TEST(metrics, escapes_label_values) {
    metrics m(1);
    const std::string route = "a\"b\\c\nd";
    m.request_finished(0, route, "GET", 200, 1ms, 0, 0);
    export_metrics_snapshot exports;
    exports.exporters.push_back({.name = "otlp \"main\""});
    const std::string text = m.render(exports, {});
    EXPECT_NE(text.find(R"(route="a\"b\\c\nd")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"(exporter="otlp \"main\"")"), std::string::npos) << text;
    const exposition e = parse_ok(text);  // and it reads back as the original
    EXPECT_EQ(e.get("tracegate_requests_total", {{"route", route}, {"method", "GET"}, {"status_class", "2xx"}}), 1.0);
}

TEST(metrics, counts_upstream_errors_by_kind) {
    metrics m(2);
    m.upstream_error(0, "timeout");
    m.upstream_error(1, "timeout");
    m.upstream_error(1, "connect_failed");
    const exposition e = parse_ok(render(m));
    EXPECT_EQ(e.get("tracegate_upstream_errors_total", {{"kind", "timeout"}}), 2.0);
    EXPECT_EQ(e.get("tracegate_upstream_errors_total", {{"kind", "connect_failed"}}), 1.0);
}

TEST(metrics, connections_active_is_opened_minus_closed) {
    metrics m(2);
    m.connection_opened(0);
    m.connection_opened(0);
    m.connection_opened(1);
    m.connection_closed(0);
    const exposition e = parse_ok(render(m));
    EXPECT_EQ(e.get("tracegate_connections_active"), 2.0);
    EXPECT_EQ(e.get("tracegate_connections_total"), 3.0);
}

TEST(metrics, counts_config_reloads_by_result) {
    metrics m(1);
    m.config_reload(true);
    m.config_reload(true);
    m.config_reload(false);
    const exposition e = parse_ok(render(m));
    EXPECT_EQ(e.get("tracegate_config_reloads_total", {{"result", "ok"}}), 2.0);
    EXPECT_EQ(e.get("tracegate_config_reloads_total", {{"result", "failed"}}), 1.0);
}

TEST(metrics, renders_export_and_store_snapshots) {
    metrics m(1);
    export_metrics_snapshot exports{.queued = 100, .dropped_queue_full = 7, .queue_depth = 12, .exporters = {}};
    exports.exporters.push_back({.name = "otlp",
                                 .exported = 80,
                                 .rejected = 1,
                                 .dropped_failed = 2,
                                 .dropped_backlog = 3,
                                 .dropped_shutdown = 4,
                                 .failed_requests = 5,
                                 .retries = 6});
    exports.exporters.push_back({.name = "zipkin", .exported = 90});
    const store_metrics_snapshot store{
        .traces = 11, .spans = 22, .bytes = 3333, .evicted_traces = 44, .rejected_spans = 55};
    const exposition e = parse_ok(m.render(exports, store));
    EXPECT_EQ(e.get("tracegate_spans_queued_total"), 100.0);
    EXPECT_EQ(e.get("tracegate_export_queue_spans"), 12.0);
    EXPECT_EQ(e.get("tracegate_spans_dropped_total", {{"reason", "queue_full"}}), 7.0);
    EXPECT_EQ(e.get("tracegate_spans_exported_total", {{"exporter", "otlp"}}), 80.0);
    EXPECT_EQ(e.get("tracegate_spans_exported_total", {{"exporter", "zipkin"}}), 90.0);
    EXPECT_EQ(e.get("tracegate_spans_dropped_total", {{"reason", "rejected"}, {"exporter", "otlp"}}), 1.0);
    EXPECT_EQ(e.get("tracegate_spans_dropped_total", {{"reason", "export_failed"}, {"exporter", "otlp"}}), 2.0);
    EXPECT_EQ(e.get("tracegate_spans_dropped_total", {{"reason", "backlog_full"}, {"exporter", "otlp"}}), 3.0);
    EXPECT_EQ(e.get("tracegate_spans_dropped_total", {{"reason", "shutdown"}, {"exporter", "otlp"}}), 4.0);
    EXPECT_EQ(e.get("tracegate_export_failures_total", {{"exporter", "otlp"}}), 5.0);
    EXPECT_EQ(e.get("tracegate_export_retries_total", {{"exporter", "otlp"}}), 6.0);
    EXPECT_EQ(e.get("tracegate_export_retries_total", {{"exporter", "zipkin"}}), 0.0);
    EXPECT_EQ(e.get("tracegate_trace_store_traces"), 11.0);
    EXPECT_EQ(e.get("tracegate_trace_store_spans"), 22.0);
    EXPECT_EQ(e.get("tracegate_trace_store_bytes"), 3333.0);
    EXPECT_EQ(e.get("tracegate_trace_store_evicted_traces_total"), 44.0);
    EXPECT_EQ(e.get("tracegate_trace_store_rejected_spans_total"), 55.0);
}

TEST(metrics, process_metrics_are_present_and_plausible) {
    metrics m(1);
    const exposition e = parse_ok(render(m));
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto start = e.get("process_start_time_seconds");
    ASSERT_TRUE(start);
    EXPECT_LE(*start, now + 1);  // btime has whole-second resolution
    EXPECT_GT(*start, now - 3600);
    ASSERT_TRUE(e.get("process_resident_memory_bytes"));
    EXPECT_GT(*e.get("process_resident_memory_bytes"), 0.0);
    ASSERT_TRUE(e.get("process_open_fds"));
    EXPECT_GE(*e.get("process_open_fds"), 3.0);  // stdin, stdout, stderr at least
    ASSERT_TRUE(e.get("process_cpu_seconds_total"));
    EXPECT_GE(*e.get("process_cpu_seconds_total"), 0.0);
    EXPECT_EQ(e.types.at("process_cpu_seconds_total"), "counter");
}

TEST(metrics, recording_does_not_allocate_once_keys_exist) {
    metrics m(1);
    m.request_finished(0, "api", "GET", 200, 1ms, 1, 1);
    m.upstream_error(0, "timeout");
    const std::string route = "api";  // made before counting starts
    const std::uint64_t before = allocations;
    for (int i = 0; i < 1000; ++i) {
        m.connection_opened(0);
        m.span_started(0, true);
        m.request_finished(0, std::string_view(route), "PROPFIND", 503, 2ms, 10, 20);
        m.upstream_error(0, "timeout");
        m.connection_closed(0);
    }
    EXPECT_EQ(allocations, before);
    m.request_finished(0, "new route", "GET", 200, 1ms, 0, 0);  // the counter does see a first use
    EXPECT_GT(allocations, before);
}

}  // namespace
}  // namespace tracegate::proxy
