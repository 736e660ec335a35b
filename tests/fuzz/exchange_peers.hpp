// The two peers of fuzz_proxy_exchange: an upstream that answers each request as the fuzz
// input scripts it (keyed by the request's x-fuzz-seq header), and a client that reads
// whatever tracegate answers. Plain blocking sockets with poll() deadlines, on loopback;
// Beast's parsers only to find where one message ends and the next begins.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tracegate::fuzz {

using clock = std::chrono::steady_clock;

/// A connected TCP socket to 127.0.0.1:`port`, or -1.
int connect_loopback(std::uint16_t port);
/// Writes all of `bytes`; false when the peer is gone.
bool write_all(int fd, std::string_view bytes);
/// Appends what arrives before `deadline` to `into`. Returns false at EOF or on an error
/// (the connection is finished), true when bytes arrived or the deadline passed.
bool read_some(int fd, std::string& into, clock::time_point deadline);
/// A port no one listens on right now (bound, then released).
std::uint16_t free_port();

/// How the upstream ends an exchange after writing its answer.
enum class after_answer { keep, close, reset };

/// What the upstream does with one request.
struct upstream_script {
    std::string answer;  ///< written as is, interim responses, extra bytes and all
    after_answer then = after_answer::keep;
    bool before_body = false;  ///< answer once the header is read, before the body
    /// Written a moment after the answer, on a connection the proxy may have pooled by then.
    std::string late;
};

/// A loopback upstream serving each connection on a thread of its own.
class scripted_upstream {
public:
    scripted_upstream();
    ~scripted_upstream();
    std::uint16_t port() const { return port_; }

    /// The script for requests labelled `seq`; unlabelled requests get a plain 200.
    void script(std::uint64_t seq, upstream_script s);
    /// Request heads labelled `seq` received so far.
    int received(std::uint64_t seq) const;
    /// Forgets the scripts and counts of labels below `seq`.
    void forget_before(std::uint64_t seq);
    /// Waits until every `late` write has been made (or failed), up to `deadline`.
    bool wait_for_late_writes(clock::time_point deadline) const;

private:
    void accept_loop();
    void serve(int fd);
    upstream_script script_for(std::uint64_t seq);

    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::map<std::uint64_t, upstream_script> scripts_;
    std::map<std::uint64_t, int> received_;
    std::atomic<int> serving_{0};
    std::atomic<int> late_pending_{0};
    std::thread acceptor_;
};

/// One response as a client read it.
struct client_response {
    unsigned status = 0;
    std::optional<std::string> label;        ///< x-fuzz-seq
    std::optional<std::string> proxy_error;  ///< x-tracegate-error
    std::string body;
};

/// Splits `bytes` into the responses it holds, in order; `head_requests[i]` says whether the
/// i-th final response answers a HEAD (no body). Interim 1xx responses other than 101 are
/// skipped. Stops at the first incomplete or malformed one, and after a 101.
/// `eof`: the connection closed after `bytes` (ends a response without framing).
std::vector<client_response> parse_responses(std::string_view bytes, bool eof,
                                             const std::vector<bool>& head_requests);

}  // namespace tracegate::fuzz
