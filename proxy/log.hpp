// One line per event on stderr: "2026-11-24T13:25:00.123Z info message".
#pragma once

#include <optional>
#include <sstream>
#include <string_view>

namespace tracegate::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

/// Messages below `min` are dropped. Set once at startup.
void set_level(level min);
bool enabled(level l);
/// "debug" | "info" | "warn" | "error"
std::optional<level> parse_level(std::string_view text);

/// Writes one whole line with a single write(2), so lines of concurrent threads never mix.
void write(level l, std::string_view message);

/// Collects one line and writes it on destruction.
class line {
public:
    explicit line(level l) : level_(l) {}
    ~line() { write(level_, out_.str()); }
    line(const line&) = delete;
    line& operator=(const line&) = delete;

    template <class T>
    line& operator<<(const T& value) {
        out_ << value;
        return *this;
    }

private:
    level level_;
    std::ostringstream out_;
};

}  // namespace tracegate::log

/// TG_LOG(info) << "listener " << name << " listening on " << address;
/// (A `for`, not an `if`: safe inside an unbraced if/else of the caller.)
#define TG_LOG(lvl)                                                                   \
    for (bool tg_log_on_ = ::tracegate::log::enabled(::tracegate::log::level::lvl);  \
         tg_log_on_; tg_log_on_ = false)                                              \
    ::tracegate::log::line(::tracegate::log::level::lvl)
