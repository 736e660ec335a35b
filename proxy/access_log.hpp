// The access log: one line per request, text or JSON, to stdout or a file. Each line is
// written with one write(2) on an O_APPEND descriptor, so lines of workers never mix and
// nothing is buffered in the process (a crash loses no line already accepted).
#pragma once

#include "config/config.hpp"
#include "proxy/request_log.hpp"

#include <atomic>
#include <cstdint>
#include <string>

namespace tracegate::proxy {

class access_log {
public:
    /// Opens `config.path` for appending ("-" = stdout). Throws std::runtime_error
    /// naming the path when it cannot be opened.
    explicit access_log(const config::access_log_config& config);
    ~access_log();
    access_log(const access_log&) = delete;
    access_log& operator=(const access_log&) = delete;

    /// Formats and writes one line. Thread-safe; never throws.
    void write(const request_record& record) noexcept;

    /// The line write() would write, without the newline (for tests and reuse).
    static void format(const request_record& record, config::access_log_config::format style,
                       std::string& out);

    /// Lines that could not be written (disk full, closed pipe).
    std::uint64_t failed_writes() const noexcept;

private:
    int fd_ = -1;
    bool owned_ = false;
    config::access_log_config::format style_;
    std::atomic<std::uint64_t> failed_{0};
};

}  // namespace tracegate::proxy
