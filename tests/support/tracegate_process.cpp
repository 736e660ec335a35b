#include "tests/support/tracegate_process.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace tracegate::test {
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

/// How often a waiting loop looks again at the log or the child's state.
constexpr auto poll_interval = 5ms;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

/// Starts `argv` with stdin from /dev/null, stdout to `out_path`, stderr to `err_path`
/// (the same file when equal) and no other inherited descriptor: the test process's
/// sockets must not stay open in the child.
pid_t spawn(const std::vector<std::string>& argv,
            const std::vector<std::pair<std::string, std::string>>& extra_env,
            const std::string& out_path, const std::string& err_path) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        const auto name = entry.substr(0, entry.find('='));
        bool replaced = false;
        for (const auto& [k, v] : extra_env) replaced = replaced || k == name;
        if (!replaced) env_strings.emplace_back(entry);
    }
    for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);

    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (err_path == out_path)
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    else
        posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);

    // The child starts with default signal dispositions and an empty mask, whatever
    // the test runner's threads did.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw std::system_error(rc, std::generic_category(), "posix_spawn " + argv[0]);
    return pid;
}

/// Polls waitpid until the child exits or `deadline`; the decoded status, or nullopt.
std::optional<int> reap_until(pid_t pid, clock_type::time_point deadline) {
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return decode_status(status);
        if (r < 0 && errno != EINTR) return -1;  // not our child any more
        if (clock_type::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(poll_interval);
    }
}

std::optional<std::uint64_t> proc_status_kib(pid_t pid, std::string_view key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
            std::istringstream fields(line.substr(key.size() + 1));
            std::uint64_t kib = 0;
            if (fields >> kib) return kib;
        }
    }
    return std::nullopt;
}

/// Whether a child's output holds a sanitizer report ("SUMMARY: AddressSanitizer: ...", and
/// the same line from LeakSanitizer, UndefinedBehaviorSanitizer, ThreadSanitizer). Such a
/// report fails the test whatever the exit status: a test that expects a failing exit, or
/// never looks at it (the destructor's SIGTERM, leaks reported at exit), would pass.
bool has_sanitizer_report(std::string_view output) {
    for (auto at = output.find("SUMMARY: "); at != std::string_view::npos;
         at = output.find("SUMMARY: ", at + 1)) {
        const auto line = output.substr(at, output.find('\n', at) - at);
        if (line.find("Sanitizer") != std::string_view::npos) return true;
    }
    return false;
}

}  // namespace

temp_dir::temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/tracegate-itest-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    path_ = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

std::string temp_dir::write(std::string_view name, std::string_view text) const {
    const std::string target = path_ + "/" + std::string(name);
    const std::string staging = target + ".tmp";
    {
        std::ofstream out(staging, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        if (!out) throw std::runtime_error("cannot write " + staging);
    }
    fs::rename(staging, target);
    return target;
}

const std::string& tracegate_binary() {
    static const std::string path = [] {
        const char* chosen = std::getenv("TRACEGATE_BINARY");
        return std::string(chosen && *chosen ? chosen : TRACEGATE_BINARY);
    }();
    return path;
}

command_result run_tracegate(const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout) {
    temp_dir dir;
    const std::string out_path = dir.path() + "/stdout";
    const std::string err_path = dir.path() + "/stderr";
    std::vector<std::string> argv{tracegate_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = spawn(argv, {}, out_path, err_path);

    command_result result;
    if (auto status = reap_until(pid, clock_type::now() + timeout)) {
        result.exit_code = *status;
    } else {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        result.timed_out = true;
    }
    result.out = read_file(out_path);
    result.err = read_file(err_path);
    if (has_sanitizer_report(result.err))
        ADD_FAILURE() << "tracegate (exit status " << result.exit_code
                      << ") reported a sanitizer error:\n" << result.err;
    return result;
}

command_result check_config_file(const std::string& path) {
    return run_tracegate({"--check-config", "--config", path});
}

namespace {

/// Tests run side by side: unless a test places the admin listener itself, it gets an
/// ephemeral loopback port instead of the default 127.0.0.1:9901.
std::string with_private_admin(std::string_view yaml) {
    static const std::regex admin_key(R"((^|\n)admin:)");
    std::string text(yaml);
    if (std::regex_search(text, admin_key)) return text;
    if (!text.empty() && text.back() != '\n') text += '\n';
    return text + "admin: {address: 127.0.0.1:0}\n";
}

}  // namespace

tracegate_process::tracegate_process(std::string_view yaml, process_options options) {
    config_path_ = dir_.write("tracegate.yaml", with_private_admin(yaml));
    log_path_ = dir_.path() + "/tracegate.log";
    std::vector<std::string> argv{tracegate_binary(), "--config", config_path_};
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    pid_ = spawn(argv, options.env, log_path_, log_path_);
}

tracegate_process::~tracegate_process() {
    if (running()) {
        ::kill(pid_, SIGTERM);
        if (!wait_exit(5s)) {
            std::cerr << "tracegate (pid " << pid_ << ") ignored SIGTERM for 5 s: SIGKILL\n";
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            exit_status_ = decode_status(status);
        }
    }
    if (has_sanitizer_report(log()))
        ADD_FAILURE() << "tracegate (pid " << pid_ << ", exit status "
                      << (exit_status_ ? std::to_string(*exit_status_) : "unknown")
                      << ") reported a sanitizer error; its log follows";
    if (::testing::Test::HasFailure()) {
        std::cerr << "---- tracegate log (" << config_path_ << ") ----\n"
                  << log() << "---- end of tracegate log ----\n";
    }
}

void tracegate_process::refresh_ports() const {
    static const std::regex line(R"(listener (\S+) listening on (\S+):(\d+))");
    const std::string text = log();
    for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator();
         ++it) {
        const auto name = (*it)[1].str();
        if (first_listener_.empty()) first_listener_ = name;
        ports_[name] = {(*it)[2].str(), static_cast<std::uint16_t>(std::stoul((*it)[3].str()))};
    }
}

bool tracegate_process::wait_ready(duration timeout, std::size_t listeners) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        refresh_ports();
        if (ports_.size() >= listeners) return true;
        if (!running() || clock_type::now() >= deadline) {
            refresh_ports();  // lines written just before exiting
            return ports_.size() >= listeners && running();
        }
        std::this_thread::sleep_for(poll_interval);
    }
}

std::uint16_t tracegate_process::port(std::string_view name) const {
    if (auto it = ports_.find(name); it != ports_.end()) return it->second.second;
    refresh_ports();
    auto it = ports_.find(name);
    return it == ports_.end() ? 0 : it->second.second;
}

std::uint16_t tracegate_process::port() const {
    if (first_listener_.empty()) refresh_ports();
    return first_listener_.empty() ? 0 : port(first_listener_);
}

std::string tracegate_process::host(std::string_view name) const {
    if (ports_.find(name) == ports_.end()) refresh_ports();
    auto it = ports_.find(name);
    return it == ports_.end() ? "" : it->second.first;
}

void tracegate_process::signal(int sig) {
    if (running()) ::kill(pid_, sig);
}

std::optional<int> tracegate_process::wait_exit(duration timeout) {
    if (exit_status_) return exit_status_;
    exit_status_ = reap_until(pid_, clock_type::now() + timeout);
    return exit_status_;
}

bool tracegate_process::running() {
    if (exit_status_) return false;
    return !wait_exit(0ms).has_value();
}

std::string tracegate_process::log() const { return read_file(log_path_); }

bool tracegate_process::log_contains(std::string_view text) const {
    return log().find(text) != std::string::npos;
}

std::size_t tracegate_process::log_count(const std::string& regex) const {
    const std::regex re(regex);
    const std::string text = log();
    return static_cast<std::size_t>(
        std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

bool tracegate_process::wait_for_log(const std::string& regex, duration timeout,
                                     std::size_t occurrences) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        if (log_count(regex) >= occurrences) return true;
        if (clock_type::now() >= deadline) return false;
        if (!running()) return log_count(regex) >= occurrences;
        std::this_thread::sleep_for(poll_interval);
    }
}

std::optional<std::uint64_t> tracegate_process::peak_rss_kib() const {
    if (exit_status_) return std::nullopt;
    return proc_status_kib(pid_, "VmHWM");
}

std::optional<std::uint64_t> tracegate_process::rss_kib() const {
    if (exit_status_) return std::nullopt;
    return proc_status_kib(pid_, "VmRSS");
}

void tracegate_process::rewrite_config(std::string_view yaml) {
    dir_.write("tracegate.yaml", with_private_admin(yaml));
}

std::uint16_t tracegate_process::admin_port(duration timeout) {
    static const std::regex line(R"(admin listening on (\S+):(\d+))");
    if (!wait_for_log(R"(admin listening on \S+:\d+)", timeout)) return 0;
    const std::string text = log();
    std::smatch m;
    if (!std::regex_search(text, m, line)) return 0;
    return static_cast<std::uint16_t>(std::stoul(m[2].str()));
}

refused_port::refused_port() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const int e = errno;
        ::close(fd_);
        throw std::system_error(e, std::generic_category(), "bind 127.0.0.1:0");
    }
    port_ = ntohs(addr.sin_port);
}

refused_port::~refused_port() { ::close(fd_); }

}  // namespace tracegate::test
