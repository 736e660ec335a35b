// tracegate as a real child process: config written to a temp dir, output captured in
// a log file, readiness and events read from that log, signals, exit status, memory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracegate::test {

using namespace std::chrono_literals;

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    /// The directory's absolute path.
    const std::string& path() const { return path_; }
    /// Writes `text` to `name` in the directory (atomically: temp file + rename); returns
    /// the file's path.
    std::string write(std::string_view name, std::string_view text) const;

private:
    std::string path_;
};

/// What a finished child process left behind.
struct command_result {
    int exit_code = -1;     ///< Exit status; 128+N when killed by signal N; -1 when timed out.
    bool timed_out = false; ///< Did not exit in time and was killed.
    std::string out;        ///< Everything it wrote to stdout.
    std::string err;        ///< Everything it wrote to stderr.
};

/// The tracegate under test: $TRACEGATE_BINARY when set (tests/run.sh --sanitize --ci runs
/// this build's tests against a sanitized tracegate), else the one of this build.
const std::string& tracegate_binary();

/// Runs tracegate_binary() with `args`; kills it after `timeout`.
command_result run_tracegate(const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout = 20s);

/// Runs `tracegate --check-config --config path`.
command_result check_config_file(const std::string& path);

/// Extra ways to start the process.
struct process_options {
    std::vector<std::string> extra_args;                       ///< After `--config FILE`.
    std::vector<std::pair<std::string, std::string>> env;      ///< Added to (or replacing in) the environment.
};

/// A running tracegate. The destructor sends SIGTERM, waits up to 5 s, then SIGKILL; when
/// the current test has failed it prints the process's log.
class tracegate_process {
public:
    using duration = std::chrono::milliseconds;

    /// Writes `yaml` to a temp file and starts `tracegate --config FILE` with stdout and
    /// stderr going to a log file in the same temp dir. Throws if it cannot spawn.
    explicit tracegate_process(std::string_view yaml, process_options options = {});
    ~tracegate_process();
    tracegate_process(const tracegate_process&) = delete;
    tracegate_process& operator=(const tracegate_process&) = delete;

    /// Waits for `listeners` distinct "listener NAME listening on HOST:PORT" lines; false
    /// when the deadline passes or the process exits first.
    bool wait_ready(duration timeout, std::size_t listeners = 1);
    /// The port listener `name` bound (known after wait_ready); 0 when unknown.
    std::uint16_t port(std::string_view name) const;
    /// The port of the first listener that reported.
    std::uint16_t port() const;
    /// The admin listener's port, once "admin listening on HOST:PORT" is logged (waiting up
    /// to `timeout`); 0 when it is not. Unless the config places it, the admin listener is
    /// put on 127.0.0.1:0 by this class, so tests never share the default port.
    std::uint16_t admin_port(duration timeout = std::chrono::seconds(15));
    /// The host part as logged ("127.0.0.1", "[::1]").
    std::string host(std::string_view name) const;

    /// Sends `sig` to the process (no-op once it was reaped).
    void signal(int sig);
    /// Waits for the exit; returns the exit status (128+N when killed by signal N), or
    /// nullopt when it is still running at the deadline.
    std::optional<int> wait_exit(duration timeout);
    /// Whether the process has not exited yet.
    bool running();
    /// The process id.
    pid_t pid() const { return pid_; }

    /// Everything the process wrote so far (stdout and stderr, interleaved).
    std::string log() const;
    /// Whether the log contains `text`.
    bool log_contains(std::string_view text) const;
    /// Number of matches of the ECMAScript `regex` in the log.
    std::size_t log_count(const std::string& regex) const;
    /// Waits until the log holds at least `occurrences` matches of `regex`.
    bool wait_for_log(const std::string& regex, duration timeout, std::size_t occurrences = 1);

    /// VmHWM (peak resident set) in KiB from /proc/PID/status; nullopt once exited.
    std::optional<std::uint64_t> peak_rss_kib() const;
    /// VmRSS (current resident set) in KiB; nullopt once exited.
    std::optional<std::uint64_t> rss_kib() const;

    /// Path of the config file the process was started with.
    const std::string& config_path() const { return config_path_; }
    /// Replaces the config file's content atomically (send SIGHUP to apply it).
    void rewrite_config(std::string_view yaml);

private:
    void refresh_ports() const;

    temp_dir dir_;
    std::string config_path_;
    std::string log_path_;
    pid_t pid_ = -1;
    std::optional<int> exit_status_;
    mutable std::map<std::string, std::pair<std::string, std::uint16_t>, std::less<>> ports_;
    mutable std::string first_listener_;
};

/// A 127.0.0.1 port that is bound but not listening for as long as this object lives:
/// every connect to it is refused, and no one else can take it meanwhile.
class refused_port {
public:
    refused_port();
    ~refused_port();
    refused_port(const refused_port&) = delete;
    refused_port& operator=(const refused_port&) = delete;

    /// The port number.
    std::uint16_t port() const { return port_; }
    /// "127.0.0.1:PORT" for a config endpoint.
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace tracegate::test
