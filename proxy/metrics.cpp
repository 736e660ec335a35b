#include "proxy/metrics.hpp"

#include "tracing/resource.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <utility>

namespace tracegate::proxy {
namespace {

/// Bounded `method` label values; index method_names.size() is "other".
constexpr std::array<std::string_view, 9> method_names = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                          "PATCH",   "OPTIONS", "CONNECT", "TRACE"};
constexpr std::size_t method_count = method_names.size() + 1;

/// "1xx".."5xx", then "other" for a status outside 100-599.
constexpr std::array<std::string_view, 6> status_class_names = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
constexpr std::size_t status_class_count = status_class_names.size();

/// Upper bounds of tracegate_request_duration_seconds, in nanoseconds and as `le` labels
/// (Prometheus client defaults plus 10 s); the last bucket is +Inf.
constexpr std::array<std::int64_t, 11> bucket_bounds_ns = {
    5'000'000, 10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
constexpr std::array<std::string_view, 12> bucket_labels = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                                            "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
constexpr std::size_t bucket_count = bucket_labels.size();
static_assert(bucket_count == bucket_bounds_ns.size() + 1);

std::size_t method_index(std::string_view method) noexcept {
    for (std::size_t i = 0; i < method_names.size(); ++i)
        if (method_names[i] == method) return i;
    return method_names.size();
}

std::size_t status_class_index(unsigned status) noexcept {
    if (status < 100 || status > 599) return status_class_count - 1;
    return status / 100 - 1;
}

/// The bucket a duration falls in: the first whose bound is >= it (`le` is inclusive).
std::size_t bucket_index(std::int64_t ns) noexcept {
    std::size_t i = 0;
    while (i < bucket_bounds_ns.size() && ns > bucket_bounds_ns[i]) ++i;
    return i;
}

/// A counter with exactly one writing thread. The writer adds with load + store instead
/// of fetch_add (no lock prefix); release/acquire makes a reader that sees a later counter
/// of the same shard also see the earlier ones (connections: closed <= opened).
struct counter {
    std::atomic<std::uint64_t> value{0};
    void add(std::uint64_t n) noexcept {
        value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_release);
    }
    std::uint64_t get() const noexcept { return value.load(std::memory_order_acquire); }
};

/// std::hash over string_view for std::string keys, so find(string_view) does not
/// allocate a temporary key (C++20 heterogeneous lookup).
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

/// One route's series in one shard.
struct route_series {
    std::array<counter, method_count * status_class_count> requests;  // [method][status class]
    std::array<counter, bucket_count> buckets;                        // not cumulative
    counter duration_sum_ns;
};

/// Summed over the shards at render time.
struct route_totals {
    std::array<std::uint64_t, method_count * status_class_count> requests{};
    std::array<std::uint64_t, bucket_count> buckets{};
    std::uint64_t duration_sum_ns = 0;
};

// ---- /proc (Linux) ------------------------------------------------------------------

/// The fields of /proc/self/stat after "(comm)", so fields()[0] is field 3 (state);
/// see proc(5). comm may hold spaces and parentheses, hence the last ')'.
std::optional<std::vector<std::string>> proc_self_stat() {
    std::ifstream in("/proc/self/stat");
    std::string text;
    if (!in || !std::getline(in, text)) return std::nullopt;
    const auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(text.substr(close + 1));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(std::move(f));
    if (fields.size() < 22) return std::nullopt;  // up to field 24 (rss)
    return fields;
}
/// Field `n` of proc(5)'s numbering (1-based, pid = 1).
std::uint64_t stat_field(const std::vector<std::string>& fields, std::size_t n) {
    std::uint64_t v = 0;
    const std::string& f = fields[n - 3];
    std::from_chars(f.data(), f.data() + f.size(), v);
    return v;
}

/// Unix seconds of this process's start: boot time (/proc/stat btime) plus field 22
/// (starttime, in clock ticks after boot). Falls back to now.
double read_process_start_time() {
    const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto fields = proc_self_stat();
    std::ifstream stat("/proc/stat");
    std::uint64_t btime = 0;
    for (std::string line; std::getline(stat, line);)
        if (line.rfind("btime ", 0) == 0) {
            std::from_chars(line.data() + 6, line.data() + line.size(), btime);
            break;
        }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (!fields || btime == 0 || ticks <= 0) return now;
    return static_cast<double>(btime) + static_cast<double>(stat_field(*fields, 22)) / static_cast<double>(ticks);
}

// ---- text format writer ---------------------------------------------------------------

using labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// Appends to `out` a label value escaped per the exposition format: \ " and newline.
void append_escaped(std::string& out, std::string_view value) {
    for (const char c : value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
}

class writer {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        // HELP text is ours and holds no backslash or newline, so it needs no escaping.
        out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }
    void sample(std::string_view name, labels ls, std::uint64_t value) {
        start(name, ls);
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, value);
        out_.append(buf, r.ptr).append("\n");
    }
    void sample(std::string_view name, labels ls, double value) {
        start(name, ls);
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, value);
        out_.append(buf, r.ptr).append("\n");
    }
    /// A family with one unlabelled sample.
    template <class T>
    void single(std::string_view name, std::string_view type, std::string_view help, T value) {
        family(name, type, help);
        sample(name, {}, value);
    }
    std::string take() && { return std::move(out_); }

private:
    void start(std::string_view name, labels ls) {
        out_.append(name);
        if (ls.size() != 0) {
            out_ += '{';
            bool first = true;
            for (const auto& [k, v] : ls) {
                if (!first) out_ += ',';
                first = false;
                out_.append(k).append("=\"");
                append_escaped(out_, v);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
    }
    std::string out_;
};

}  // namespace

struct alignas(64) metrics::shard {  // own cache lines: workers never share one
    /// Taken by the worker only to insert a key, by the scraper to walk the maps.
    mutable std::mutex mutex;
    string_map<route_series> routes;
    string_map<counter> upstream_errors;
    string_map<counter> handshake_failures;
    counter connections_opened, connections_closed;
    counter bytes_in, bytes_out;
    counter spans_started, spans_sampled;

    /// The series for `key`, created under the mutex the first time. Lookup needs no
    /// lock: only this shard's worker thread ever inserts, and it is the caller.
    template <class V>
    V& series(string_map<V>& map, std::string_view key) {
        if (const auto it = map.find(key); it != map.end()) return it->second;
        const std::lock_guard lock(mutex);
        return map.try_emplace(std::string(key)).first->second;
    }
};

metrics::metrics(unsigned workers) : start_time_seconds_(read_process_start_time()) {
    shards_.reserve(workers == 0 ? 1 : workers);
    for (unsigned i = 0; i < (workers == 0 ? 1u : workers); ++i) shards_.push_back(std::make_unique<shard>());
}

metrics::~metrics() = default;

void metrics::request_finished(unsigned worker, std::string_view route, std::string_view method, unsigned status,
                               std::chrono::nanoseconds duration, std::uint64_t bytes_in,
                               std::uint64_t bytes_out) {
    assert(worker < shards_.size());
    shard& s = *shards_[worker];
    route_series& r = s.series(s.routes, route);
    r.requests[method_index(method) * status_class_count + status_class_index(status)].add(1);
    const std::int64_t ns = duration.count() < 0 ? 0 : static_cast<std::int64_t>(duration.count());
    r.duration_sum_ns.add(static_cast<std::uint64_t>(ns));
    r.buckets[bucket_index(ns)].add(1);
    s.bytes_in.add(bytes_in);
    s.bytes_out.add(bytes_out);
}

void metrics::tls_handshake_failed(unsigned worker, std::string_view kind) {
    assert(worker < shards_.size());
    shard& s = *shards_[worker];
    s.series(s.handshake_failures, kind).add(1);
}

void metrics::upstream_error(unsigned worker, std::string_view kind) {
    assert(worker < shards_.size());
    shard& s = *shards_[worker];
    s.series(s.upstream_errors, kind).add(1);
}

void metrics::connection_opened(unsigned worker) noexcept {
    assert(worker < shards_.size());
    shards_[worker]->connections_opened.add(1);
}

void metrics::connection_closed(unsigned worker) noexcept {
    assert(worker < shards_.size());
    shards_[worker]->connections_closed.add(1);
}

void metrics::span_started(unsigned worker, bool sampled) noexcept {
    assert(worker < shards_.size());
    shard& s = *shards_[worker];
    s.spans_started.add(1);
    if (sampled) s.spans_sampled.add(1);
}

std::string_view metrics::name_of(internal_error_site site) noexcept {
    switch (site) {
    case internal_error_site::session: return "session";
    case internal_error_site::worker: return "worker";
    case internal_error_site::admin: return "admin";
    case internal_error_site::exporter: return "exporter";
    case internal_error_site::reload: return "reload";
    case internal_error_site::count_: break;
    }
    return "other";
}

void metrics::internal_error(internal_error_site site) noexcept {
    internal_errors_[static_cast<int>(site)].fetch_add(1, std::memory_order_relaxed);
}

void metrics::config_reload(bool ok) noexcept {
    (ok ? reloads_ok_ : reloads_failed_).fetch_add(1, std::memory_order_relaxed);
}

std::string_view metrics::version() noexcept {
    const std::string_view v = tracing::tracegate_version();  // TRACEGATE_VERSION of the build
    return v.empty() ? std::string_view("dev") : v;
}

std::string metrics::render(const export_metrics_snapshot& exports, const store_metrics_snapshot& store) const {
    // Sum the shards. std::map: series come out sorted, so scrapes are stable to read and diff.
    std::map<std::string, route_totals, std::less<>> routes;
    std::map<std::string, std::uint64_t, std::less<>> upstream_errors;
    std::map<std::string, std::uint64_t, std::less<>> handshake_failures;
    std::uint64_t opened = 0, active = 0, bytes_in = 0, bytes_out = 0, started = 0, sampled = 0;
    for (const auto& sp : shards_) {
        const shard& s = *sp;
        {
            const std::lock_guard lock(s.mutex);
            for (const auto& [name, r] : s.routes) {
                route_totals& t = routes.try_emplace(name).first->second;
                for (std::size_t i = 0; i < t.requests.size(); ++i) t.requests[i] += r.requests[i].get();
                for (std::size_t i = 0; i < bucket_count; ++i) t.buckets[i] += r.buckets[i].get();
                t.duration_sum_ns += r.duration_sum_ns.get();
            }
            for (const auto& [kind, c] : s.upstream_errors) upstream_errors[kind] += c.get();
            for (const auto& [kind, c] : s.handshake_failures) handshake_failures[kind] += c.get();
        }
        // closed first: with acquire loads, opened then reads at least as many as closed.
        const std::uint64_t closed = s.connections_closed.get();
        const std::uint64_t o = s.connections_opened.get();
        opened += o;
        active += o >= closed ? o - closed : 0;
        bytes_in += s.bytes_in.get();
        bytes_out += s.bytes_out.get();
        // sampled first, so sampled <= started as well.
        sampled += s.spans_sampled.get();
        started += s.spans_started.get();
    }

    writer w;
    w.family("tracegate_build_info", "gauge", "Always 1; the version label is tracegate's build.");
    w.sample("tracegate_build_info", {{"version", version()}}, std::uint64_t{1});

    w.family("tracegate_requests_total", "counter",
             "Requests finished, by route (\"\" = none matched), method and status class.");
    for (const auto& [route, t] : routes)
        for (std::size_t m = 0; m < method_count; ++m)
            for (std::size_t c = 0; c < status_class_count; ++c) {
                const std::uint64_t n = t.requests[m * status_class_count + c];
                if (n == 0) continue;
                const std::string_view method = m < method_names.size() ? method_names[m] : "other";
                w.sample("tracegate_requests_total",
                         {{"route", route}, {"method", method}, {"status_class", status_class_names[c]}}, n);
            }

    w.family("tracegate_request_duration_seconds", "histogram",
             "Time from the request header read to the response's last byte, by route.");
    for (const auto& [route, t] : routes) {
        // _count is the sum of the buckets as read, so +Inf always equals it.
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            cumulative += t.buckets[i];
            w.sample("tracegate_request_duration_seconds_bucket", {{"route", route}, {"le", bucket_labels[i]}},
                     cumulative);
        }
        w.sample("tracegate_request_duration_seconds_sum", {{"route", route}},
                 static_cast<double>(t.duration_sum_ns) / 1e9);
        w.sample("tracegate_request_duration_seconds_count", {{"route", route}}, cumulative);
    }

    w.single("tracegate_request_bytes_total", "counter", "Request body bytes received from clients.", bytes_in);
    w.single("tracegate_response_bytes_total", "counter", "Response body bytes sent to clients.", bytes_out);

    w.family("tracegate_upstream_errors_total", "counter", "Upstream failures, by kind.");
    for (const auto& [kind, n] : upstream_errors) w.sample("tracegate_upstream_errors_total", {{"kind", kind}}, n);
    w.family("tracegate_tls_handshake_failures_total", "counter", "Failed TLS handshakes on listeners, by kind.");
    for (const auto& [kind, n] : handshake_failures)
        w.sample("tracegate_tls_handshake_failures_total", {{"kind", kind}}, n);

    w.single("tracegate_connections_active", "gauge", "Client connections open now.", active);
    w.single("tracegate_connections_total", "counter", "Client connections accepted.", opened);

    w.single("tracegate_spans_started_total", "counter", "Server spans started.", started);
    w.single("tracegate_spans_sampled_total", "counter", "Server spans started and sampled.", sampled);
    w.single("tracegate_spans_queued_total", "counter", "Spans accepted into the export queue.", exports.queued);
    w.single("tracegate_export_queue_spans", "gauge", "Spans waiting in the export queue.", exports.queue_depth);

    w.family("tracegate_spans_exported_total", "counter", "Spans delivered, by exporter.");
    for (const auto& e : exports.exporters)
        w.sample("tracegate_spans_exported_total", {{"exporter", e.name}}, e.exported);

    w.family("tracegate_spans_dropped_total", "counter",
             "Spans not delivered, by reason (and exporter, except for queue_full).");
    w.sample("tracegate_spans_dropped_total", {{"reason", "queue_full"}}, exports.dropped_queue_full);
    for (const auto& e : exports.exporters) {
        w.sample("tracegate_spans_dropped_total", {{"reason", "export_failed"}, {"exporter", e.name}},
                 e.dropped_failed);
        w.sample("tracegate_spans_dropped_total", {{"reason", "backlog_full"}, {"exporter", e.name}},
                 e.dropped_backlog);
        w.sample("tracegate_spans_dropped_total", {{"reason", "shutdown"}, {"exporter", e.name}},
                 e.dropped_shutdown);
        w.sample("tracegate_spans_dropped_total", {{"reason", "rejected"}, {"exporter", e.name}}, e.rejected);
    }

    w.family("tracegate_export_failures_total", "counter", "Export requests that did not deliver, by exporter.");
    for (const auto& e : exports.exporters)
        w.sample("tracegate_export_failures_total", {{"exporter", e.name}}, e.failed_requests);
    w.family("tracegate_export_retries_total", "counter", "Export requests that were retries, by exporter.");
    for (const auto& e : exports.exporters)
        w.sample("tracegate_export_retries_total", {{"exporter", e.name}}, e.retries);

    w.single("tracegate_trace_store_traces", "gauge", "Traces held by the in-memory trace store.", store.traces);
    w.single("tracegate_trace_store_spans", "gauge", "Spans held by the in-memory trace store.", store.spans);
    w.single("tracegate_trace_store_bytes", "gauge", "Estimated bytes of the spans in the trace store.",
             store.bytes);
    w.single("tracegate_trace_store_evicted_traces_total", "counter",
             "Traces evicted from the trace store to make room.", store.evicted_traces);
    w.single("tracegate_trace_store_rejected_spans_total", "counter",
             "Spans the trace store could not keep at all.", store.rejected_spans);

    w.family("tracegate_config_reloads_total", "counter", "Config reload attempts, by result.");
    w.sample("tracegate_config_reloads_total", {{"result", "ok"}}, reloads_ok_.load(std::memory_order_relaxed));
    w.sample("tracegate_config_reloads_total", {{"result", "failed"}},
             reloads_failed_.load(std::memory_order_relaxed));

    w.family("tracegate_internal_errors_total", "counter",
             "Unexpected exceptions contained (the connection or task they hit ended; the process served on), "
             "by where they were caught.");
    for (int i = 0; i < static_cast<int>(internal_error_site::count_); ++i) {
        const auto site = static_cast<internal_error_site>(i);
        std::uint64_t n = internal_errors_[i].load(std::memory_order_relaxed);
        if (site == internal_error_site::exporter) n += exports.internal_errors;
        w.sample("tracegate_internal_errors_total", {{"where", name_of(site)}}, n);
    }

    // Process metrics, named as Prometheus client libraries name them.
    w.single("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
             start_time_seconds_);
    if (const auto fields = proc_self_stat()) {
        const long ticks = ::sysconf(_SC_CLK_TCK);
        const long page = ::sysconf(_SC_PAGESIZE);
        if (ticks > 0)
            w.single("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
                     static_cast<double>(stat_field(*fields, 14) + stat_field(*fields, 15)) /
                         static_cast<double>(ticks));
        w.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", stat_field(*fields, 23));
        if (page > 0)
            w.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                     stat_field(*fields, 24) * static_cast<std::uint64_t>(page));
    }
    std::error_code ec;
    std::uint64_t fds = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec))
        ++fds;
    if (!ec) w.single("process_open_fds", "gauge", "Number of open file descriptors.", fds);
    if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        w.single("process_max_fds", "gauge", "Maximum number of open file descriptors.",
                 static_cast<std::uint64_t>(limit.rlim_cur));

    return std::move(w).take();
}

}  // namespace tracegate::proxy
