#include "proxy/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <unistd.h>

namespace tracegate::log {
namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};

const char* name(level l) {
    switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    }
    return "info";
}

}  // namespace

void set_level(level min) { min_level.store(static_cast<int>(min), std::memory_order_relaxed); }

bool enabled(level l) { return static_cast<int>(l) >= min_level.load(std::memory_order_relaxed); }

std::optional<level> parse_level(std::string_view text) {
    for (level l : {level::debug, level::info, level::warn, level::error})
        if (text == name(l)) return l;
    return std::nullopt;
}

void write(level l, std::string_view message) {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t seconds = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(millis));
    std::string out;
    out.reserve(message.size() + 48);
    out += stamp;
    out += name(l);
    out += ' ';
    out += message;
    out += '\n';
    // One write per line; a short write on a pipe is retried so nothing is lost.
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) break;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace tracegate::log
