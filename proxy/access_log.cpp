#include "proxy/access_log.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <stdexcept>
#include <cstring>
#include <unistd.h>

namespace tracegate::proxy {
namespace {

/// RFC 3339 UTC with milliseconds: 2026-11-24T13:25:00.123Z
void append_time(std::string& out, std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char text[32];
    const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                static_cast<int>(ms % 1000));
    out.append(text, static_cast<std::size_t>(n));
}

/// Milliseconds with microsecond precision: "12.345".
void append_millis(std::string& out, std::chrono::nanoseconds d) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    char text[32];
    const int n = std::snprintf(text, sizeof text, "%lld.%03lld", static_cast<long long>(us / 1000),
                                static_cast<long long>(us % 1000));
    out.append(text, static_cast<std::size_t>(n));
}

/// A text field: "-" when empty; bytes outside printable ASCII, spaces, quotes and
/// backslashes as \xHH, so a line always splits on spaces into the same fields.
void append_field(std::string& out, std::string_view value) {
    if (value.empty()) {
        out += '-';
        return;
    }
    static constexpr char hex[] = "0123456789abcdef";
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
}

void append_json_string(std::string& out, std::string_view value) {
    out += boost::json::serialize(boost::json::string_view(value.data(), value.size()));
}

/// "host:port" of the endpoint tried, "" when none (formatted only for the access log).
std::string upstream_text(const request_record& r) { return r.upstream ? r.upstream->to_string() : std::string(); }

void format_text(const request_record& r, std::string& out) {
    append_time(out, r.start);
    out += ' ';
    append_field(out, r.client_address);
    out += " \"";
    append_field(out, r.method);
    out += ' ';
    append_field(out, r.target);
    out += r.version == 10 ? " HTTP/1.0\" " : " HTTP/1.1\" ";
    out += std::to_string(r.status);
    out += " in=";
    out += std::to_string(r.bytes_in);
    out += " out=";
    out += std::to_string(r.bytes_out);
    out += " duration_ms=";
    append_millis(out, r.duration);
    const std::string upstream = upstream_text(r);
    const std::pair<std::string_view, std::string_view> named[] = {
        {" route=", r.route},       {" upstream=", upstream},     {" trace_id=", r.trace_id},
        {" span_id=", r.span_id},   {" request_id=", r.request_id}, {" error=", r.error}};
    for (const auto& [name, value] : named) {
        out += name;
        append_field(out, value);
    }
}

void format_json(const request_record& r, std::string& out) {
    out += "{\"time\":\"";
    append_time(out, r.start);
    out += "\",\"client_address\":";
    append_json_string(out, r.client_address);
    out += ",\"method\":";
    append_json_string(out, r.method);
    out += ",\"path\":";
    append_json_string(out, r.target);
    out += r.version == 10 ? ",\"protocol\":\"HTTP/1.0\"" : ",\"protocol\":\"HTTP/1.1\"";
    out += ",\"status\":" + std::to_string(r.status);
    out += ",\"bytes_in\":" + std::to_string(r.bytes_in);
    out += ",\"bytes_out\":" + std::to_string(r.bytes_out);
    out += ",\"duration_ms\":";
    append_millis(out, r.duration);
    const std::string upstream = upstream_text(r);
    const std::pair<std::string_view, std::string_view> named[] = {
        {"route", r.route},     {"upstream", upstream},     {"trace_id", r.trace_id},
        {"span_id", r.span_id}, {"request_id", r.request_id}, {"error", r.error}};
    for (const auto& [name, value] : named) {
        out += ",\"";
        out += name;
        out += "\":";
        if (value.empty())
            out += "null";
        else
            append_json_string(out, value);
    }
    out += '}';
}

}  // namespace

access_log::access_log(const config::access_log_config& config) : style_(config.style) {
    if (config.path == "-") {
        fd_ = STDOUT_FILENO;
        return;
    }
    fd_ = ::open(config.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw std::runtime_error("access_log: cannot open " + config.path + ": " + std::strerror(errno));
    owned_ = true;
}

access_log::~access_log() {
    if (owned_) ::close(fd_);
}

void access_log::format(const request_record& record, config::access_log_config::format style,
                        std::string& out) {
    if (style == config::access_log_config::format::json)
        format_json(record, out);
    else
        format_text(record, out);
}

void access_log::write(const request_record& record) noexcept {
    try {
        thread_local std::string line;
        line.clear();
        format(record, style_, line);
        line += '\n';
        std::string_view rest = line;
        while (!rest.empty()) {
            const ssize_t n = ::write(fd_, rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                failed_.fetch_add(1, std::memory_order_relaxed);
                return;
            }
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    } catch (...) {
        failed_.fetch_add(1, std::memory_order_relaxed);
    }
}

std::uint64_t access_log::failed_writes() const noexcept { return failed_.load(std::memory_order_relaxed); }

}  // namespace tracegate::proxy
