#include "tracing/jsonl_file_writer.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace tracegate::tracing {
namespace {

std::string_view kind_name(span_kind kind) noexcept {
    return kind == span_kind::client ? "CLIENT" : "SERVER";
}

std::string_view status_name(status_code code) noexcept {
    switch (code) {
        case status_code::ok: return "OK";
        case status_code::error: return "ERROR";
        case status_code::unset: break;
    }
    return "UNSET";
}

boost::json::value to_json(const attribute_value& value) {
    return std::visit([](const auto& v) { return boost::json::value(v); }, value);
}

boost::json::object to_json(const std::vector<attribute>& attributes) {
    boost::json::object object;
    object.reserve(attributes.size());
    for (const auto& a : attributes) object[a.key] = to_json(a.value);
    return object;
}

}  // namespace

std::string jsonl_file_writer::encode(const span_data& span, std::string_view service_name) {
    boost::json::object line;
    line.reserve(16);
    line["traceId"] = span.trace_id.to_hex();
    line["spanId"] = span.span_id.to_hex();
    line["parentSpanId"] = span.parent_span_id ? span.parent_span_id->to_hex() : std::string();
    line["name"] = span.name;
    line["kind"] = kind_name(span.kind);
    line["startTimeUnixNano"] = span.start_time_unix_nano;
    line["endTimeUnixNano"] = span.end_time_unix_nano;
    line["attributes"] = to_json(span.attributes);
    boost::json::array events;
    events.reserve(span.events.size());
    for (const auto& e : span.events)
        events.push_back(boost::json::object{{"name", e.name}, {"timeUnixNano", e.time_unix_nano}});
    line["events"] = std::move(events);
    boost::json::array links;
    links.reserve(span.links.size());
    for (const auto& l : span.links) {
        boost::json::object link{{"traceId", l.context.trace_id.to_hex()},
                                 {"spanId", l.context.span_id.to_hex()}};
        if (!l.attributes.empty()) link["attributes"] = to_json(l.attributes);
        links.push_back(std::move(link));
    }
    line["links"] = std::move(links);
    line["status"] = boost::json::object{{"code", status_name(span.status)}, {"message", span.status_message}};
    line["traceFlags"] = span.trace_flags;
    line["traceState"] = span.tracestate;
    line["service"] = service_name;
    return boost::json::serialize(line);
}

jsonl_file_writer::jsonl_file_writer(jsonl_file_writer_options options)
    : options_(std::move(options)), queue_(options_.max_queue_spans) {
    if (options_.max_batch_spans == 0) options_.max_batch_spans = 1;
    if (options_.path == "-") {
        fd_ = STDOUT_FILENO;
    } else {
        fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw std::system_error(errno, std::generic_category(),
                                    "cannot open span file \"" + options_.path + "\"");
        owns_fd_ = true;
    }
    thread_ = std::thread([this] { run(); });
}

jsonl_file_writer::~jsonl_file_writer() {
    {
        const std::lock_guard lock(mutex_);
        stopping_.store(true);
    }
    wake_.notify_one();
    thread_.join();
    if (owns_fd_) ::close(fd_);
}

void jsonl_file_writer::submit(span_data&& span) noexcept {
    if (!queue_.try_push(span)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    queued_.fetch_add(1, std::memory_order_relaxed);
    // Wake the writer once per full batch. Notifying without the mutex may be missed by a
    // writer about to wait; it then wakes at flush_interval, so nothing here ever waits.
    if (pending_.fetch_add(1, std::memory_order_relaxed) + 1 == options_.max_batch_spans)
        wake_.notify_one();
}

bool jsonl_file_writer::flush(std::chrono::milliseconds timeout) {
    const std::uint64_t target = queued_.load();
    std::unique_lock lock(mutex_);
    flush_requested_.store(true);
    wake_.notify_one();
    return progress_.wait_for(lock, timeout, [&] { return done_.load() >= target; });
}

bool jsonl_file_writer::write_all(const std::string& buffer) noexcept {
    std::size_t offset = 0;
    while (offset < buffer.size()) {
        const ssize_t n = ::write(fd_, buffer.data() + offset, buffer.size() - offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        offset += static_cast<std::size_t>(n);
    }
    return true;
}

std::size_t jsonl_file_writer::drain_batch(std::string& buffer) {
    buffer.clear();
    std::size_t count = 0;
    std::size_t failed = 0;
    while (count + failed < options_.max_batch_spans) {
        auto span = queue_.try_pop();
        if (!span) break;
        try {
            buffer += encode(*span, options_.service_name);
            buffer += '\n';
            ++count;
        } catch (...) {
            ++failed;  // out of memory encoding one span: drop it, keep the others
        }
    }
    // One write per batch: a reader never sees half a line once the batch is written.
    if (count > 0 && !write_all(buffer)) {
        failed += count;
        count = 0;
    }
    written_.fetch_add(count, std::memory_order_relaxed);
    dropped_.fetch_add(failed, std::memory_order_relaxed);
    done_.fetch_add(count + failed);
    return count + failed;
}

void jsonl_file_writer::run() {
    std::string buffer;
    buffer.reserve(64 * 1024);
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, options_.flush_interval, [&] {
                return stopping_.load() || flush_requested_.load() ||
                       pending_.load(std::memory_order_relaxed) >= options_.max_batch_spans;
            });
            flush_requested_.store(false);
        }
        pending_.store(0, std::memory_order_relaxed);
        const bool stopping = stopping_.load();
        const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_timeout;
        while (drain_batch(buffer) > 0) {
            if (stopping && std::chrono::steady_clock::now() >= deadline) break;
        }
        if (stopping) {
            // Past the shutdown bound: what is left is dropped, never waited for.
            std::uint64_t left = 0;
            while (queue_.try_pop()) ++left;
            dropped_.fetch_add(left, std::memory_order_relaxed);
            done_.fetch_add(left);
        }
        {
            const std::lock_guard lock(mutex_);  // so a flush() about to wait sees the update
        }
        progress_.notify_all();
        if (stopping) return;
    }
}

}  // namespace tracegate::tracing
