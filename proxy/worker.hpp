// A worker: one thread, one io_context, its own SO_REUSEPORT acceptors, its own upstream
// pool and load balancers. Share-nothing, like nginx and Envoy workers; the only shared
// state is the connection count (an atomic) and config snapshots handed over by post().
#pragma once

#include "config/config.hpp"
#include "proxy/metrics.hpp"
#include "proxy/request_trace.hpp"
#include "proxy/upstream_pool.hpp"
#include "routing/load_balancer.hpp"
#include "routing/route_table.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

namespace tracegate::proxy {

/// A loaded config with everything derived from it; immutable, shared by all workers.
/// A request keeps the snapshot it started with across a reload.
struct runtime {
    /// Throws std::runtime_error when an upstream's TLS files cannot be used.
    runtime(std::shared_ptr<const config::settings> s, std::shared_ptr<tracing::span_sink> sink);
    std::shared_ptr<const config::settings> settings;
    routing::route_table routes;
    tracing_runtime tracing;
    /// Per upstream (same order): its TLS client context, null for plain HTTP.
    std::vector<std::shared_ptr<boost::asio::ssl::context>> upstream_tls;
};

/// The per-worker load balancers of one runtime, one per upstream (same order).
struct balancer_set {
    std::shared_ptr<const runtime> for_runtime;
    std::vector<routing::load_balancer> by_upstream;
};

struct listener_info {
    std::string name;
    std::string scheme = "http";
    bool trust_incoming_trace = true;
    std::optional<bool> response_header;  ///< listener override of tracing.response_header
    /// HTTPS: the server context (certificates, SNI, client CA); null for plain HTTP.
    std::shared_ptr<boost::asio::ssl::context> tls;
    std::vector<std::string> upgrades;  ///< protocols clients may switch to (lowercase)
};

class worker;

/// Told when a worker's downstream connections open and close (the metrics).
class connection_observer {
public:
    virtual ~connection_observer() = default;
    virtual void connection_opened(unsigned worker) = 0;
    virtual void connection_closed(unsigned worker) = 0;
    /// A TLS handshake failed, for the reason `kind` (handshake_failure_kind()): counted,
    /// never logged per connection.
    virtual void handshake_failed(unsigned worker, std::string_view kind) = 0;
    /// An exception was contained at `site`; the process serves on.
    virtual void internal_error(metrics::internal_error_site site) = 0;
};

/// What all workers share: the connection count against max_connections.
class connection_gate {
public:
    explicit connection_gate(std::uint64_t max) : max_(max) {}
    void set_max(std::uint64_t max) { max_.store(max, std::memory_order_relaxed); }
    bool at_capacity() const;
    /// A connection was accepted; pauses every acceptor when the limit is reached.
    void acquire();
    /// A connection closed; resumes waiting acceptors when below the limit again.
    void release();
    void add(worker* w) { workers_.push_back(w); }

private:
    std::atomic<std::uint64_t> active_{0};
    std::atomic<std::uint64_t> max_;
    std::vector<worker*> workers_;  // fixed before any worker runs
};

/// A live downstream connection, so a drain can close the idle ones.
struct session_slot {
    boost::asio::ip::tcp::socket* socket = nullptr;
    bool idle = false;
    /// Set while the connection waits for its next request without a timer of its own:
    /// the worker's idle sweep closes it at this time.
    std::chrono::steady_clock::time_point idle_until = std::chrono::steady_clock::time_point::max();
};

class worker {
public:
    worker(connection_gate& gate, unsigned index, std::shared_ptr<const runtime> initial);

    boost::asio::io_context& context() { return ioc_; }
    unsigned index() const { return index_; }

    /// Adds an already listening acceptor (opened on this worker's context).
    void add_acceptor(boost::asio::ip::tcp::acceptor&& acceptor, const listener_info& info);

    /// Runs the io_context on the calling thread until drained or stopped.
    void run();

    // The following run on the worker's own thread only (use post()).
    void apply(std::shared_ptr<const runtime> next);
    void begin_drain();
    /// New TLS handshakes on listener `name` use `context` (certificate rotation).
    void replace_tls(const std::string& name, std::shared_ptr<boost::asio::ssl::context> context);
    void pause_accepting();
    void resume_accepting();

    // For sessions (worker thread).
    const std::shared_ptr<const runtime>& current() const { return runtime_; }
    const std::shared_ptr<balancer_set>& balancers() const { return balancers_; }
    upstream_pool& pool() { return pool_; }
    bool draining() const { return draining_; }
    std::list<session_slot>::iterator register_session(boost::asio::ip::tcp::socket* socket);
    void unregister_session(std::list<session_slot>::iterator slot) { sessions_.erase(slot); }
    /// Downstream connections this worker holds.
    std::size_t session_count() const { return sessions_.size(); }
    /// Logs once and counts an exception contained at `site`; `context` names what it hit
    /// (a client, a loop). The worker serves on.
    void contain(metrics::internal_error_site site, std::string_view context, std::exception_ptr e);
    connection_gate& gate() { return gate_; }
    request_observer* observer() const { return observer_; }
    connection_observer* connections() const { return connections_; }
    /// Set before run(); both may be null.
    void observe(request_observer* requests, connection_observer* connections) {
        observer_ = requests;
        connections_ = connections;
    }

private:
    struct acceptor_entry {
        boost::asio::ip::tcp::acceptor acceptor;
        listener_info info;
        boost::asio::steady_timer wait;  ///< backs off while at capacity or out of fds
    };
    boost::asio::awaitable<void> accept_loop(acceptor_entry& entry);
    /// Starts `entry`'s accept loop, again after an exception ended it (counted), unless draining.
    void spawn_accept_loop(acceptor_entry& entry);
    void spawn_idle_sweep();
    /// Closes connections whose idle_until has passed: one timer per worker instead of
    /// one per idle connection. Ends with the drain.
    boost::asio::awaitable<void> idle_sweep();
    /// malloc_trim once the sessions fell far below their peak (after a flood).
    void give_back_memory_after_a_flood();

    connection_gate& gate_;
    unsigned index_;
    // Declared before ioc_ so it outlives it: destroying the io_context destroys
    // unfinished sessions, which unregister themselves here.
    std::list<session_slot> sessions_;
    boost::asio::io_context ioc_{1};
    std::shared_ptr<const runtime> runtime_;
    std::shared_ptr<balancer_set> balancers_;
    upstream_pool pool_;
    std::list<acceptor_entry> acceptors_;
    boost::asio::steady_timer sweep_timer_{ioc_};
    bool draining_ = false;
    /// Most sessions held since memory was last given back (idle_sweep's malloc_trim).
    std::size_t session_peak_ = 0;
    request_observer* observer_ = nullptr;
    connection_observer* connections_ = nullptr;
};

/// Bytes wait unread in `socket`: a request a drain still serves.
bool has_pending_input(boost::asio::ip::tcp::socket& socket);

/// Serves one downstream connection until it closes (proxy/session.cpp).
boost::asio::awaitable<void> run_session(worker& owner, boost::asio::ip::tcp::socket socket,
                                         const listener_info& listener);

}  // namespace tracegate::proxy
