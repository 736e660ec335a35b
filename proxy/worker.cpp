#include "proxy/worker.hpp"

#include "proxy/log.hpp"
#include "proxy/tls_context.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <random>

#include <malloc.h>
#include <sys/socket.h>

namespace tracegate::proxy {
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::shared_ptr<balancer_set> make_balancers(const std::shared_ptr<const runtime>& rt,
                                             unsigned worker_index) {
    auto set = std::make_shared<balancer_set>();
    set->for_runtime = rt;
    std::random_device seed_source;
    for (const auto& upstream : rt->settings->upstreams)
        set->by_upstream.emplace_back(upstream.lb, upstream.endpoints.size(),
                                      (std::uint64_t{seed_source()} << 32) ^ seed_source() ^
                                          worker_index);
    return set;
}

}  // namespace

runtime::runtime(std::shared_ptr<const config::settings> s, std::shared_ptr<tracing::span_sink> sink)
    : settings(std::move(s)), routes(*settings), tracing(*settings, std::move(sink)) {
    for (const auto& upstream : settings->upstreams) {
        if (!upstream.tls) {
            upstream_tls.emplace_back();
            continue;
        }
        try {
            upstream_tls.push_back(make_client_context(*upstream.tls));
        } catch (const std::exception& e) {
            throw std::runtime_error("upstream " + upstream.name + ": " + e.what());
        }
    }
}

bool connection_gate::at_capacity() const {
    return active_.load(std::memory_order_relaxed) >= max_.load(std::memory_order_relaxed);
}

void connection_gate::acquire() {
    const auto now_active = active_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (now_active >= max_.load(std::memory_order_relaxed))
        for (worker* w : workers_) net::post(w->context(), [w] { w->pause_accepting(); });
}

void connection_gate::release() {
    const auto was_active = active_.fetch_sub(1, std::memory_order_relaxed);
    if (was_active >= max_.load(std::memory_order_relaxed))
        for (worker* w : workers_) net::post(w->context(), [w] { w->resume_accepting(); });
}

worker::worker(connection_gate& gate, unsigned index, std::shared_ptr<const runtime> initial)
    : gate_(gate), index_(index), runtime_(std::move(initial)) {
    balancers_ = make_balancers(runtime_, index_);
}

void worker::replace_tls(const std::string& name, std::shared_ptr<net::ssl::context> context) {
    for (auto& entry : acceptors_)
        if (entry.info.name == name && entry.info.tls) entry.info.tls = context;
}

void worker::add_acceptor(tcp::acceptor&& acceptor, const listener_info& info) {
    acceptors_.push_back(acceptor_entry{std::move(acceptor), info, net::steady_timer(ioc_)});
}

void worker::contain(metrics::internal_error_site site, std::string_view context,
                     std::exception_ptr e) {
    std::string what = "unknown exception";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        what = ex.what();
    } catch (...) {
    }
    TG_LOG(error) << "worker " << index_ << ": internal error in " << metrics::name_of(site)
                  << (context.empty() ? "" : " (") << context << (context.empty() ? "" : ")")
                  << ": " << what << "; contained, serving on";
    if (connections_) connections_->internal_error(site);
}

void worker::spawn_accept_loop(acceptor_entry& entry) {
    net::co_spawn(ioc_, accept_loop(entry), [this, &entry](std::exception_ptr e) {
        if (!e) return;
        contain(metrics::internal_error_site::worker, "listener " + entry.info.name, e);
        if (!draining_) spawn_accept_loop(entry);
    });
}

void worker::spawn_idle_sweep() {
    net::co_spawn(ioc_, idle_sweep(), [this](std::exception_ptr e) {
        if (!e) return;
        contain(metrics::internal_error_site::worker, "idle sweep", e);
        if (!draining_) spawn_idle_sweep();
    });
}

void worker::run() {
    for (auto& entry : acceptors_) spawn_accept_loop(entry);
    spawn_idle_sweep();
    // An exception thrown by a completion handler leaves run() and destroys that handler
    // (and so the coroutine that waited on it, closing its connection); the io_context
    // can run on (Asio: "the io_context may then be run again"). One bad operation costs
    // its own connection, never the worker and every connection on it.
    for (;;) {
        try {
            ioc_.run();
            return;
        } catch (...) {
            contain(metrics::internal_error_site::worker, "event loop", std::current_exception());
        }
    }
}

net::awaitable<void> worker::idle_sweep() {
    using namespace std::chrono_literals;
    while (!draining_) {
        // A tick of a quarter of idle_timeout (50 ms to 1 s): a connection is closed at
        // most that late.
        const auto idle = runtime_->settings->limits.idle_timeout;
        sweep_timer_.expires_after(std::clamp<std::chrono::milliseconds>(idle / 4, 50ms, 1s));
        co_await sweep_timer_.async_wait(net::as_tuple(net::use_awaitable));
        give_back_memory_after_a_flood();
        const auto now = std::chrono::steady_clock::now();
        for (auto& slot : sessions_) {
            if (slot.idle_until > now) continue;
            slot.idle_until = std::chrono::steady_clock::time_point::max();
            boost::system::error_code ignored;
            slot.socket->cancel(ignored);
        }
    }
}

void worker::give_back_memory_after_a_flood() {
    // After a flood of connections ends, the heap keeps the pages their sessions used:
    // RSS would stay at the flood's peak for good. Far fewer sessions than at the peak:
    // return free pages to the system (glibc trims every arena, middle pages included).
    // Rare by construction, so its few milliseconds never touch ordinary traffic.
    constexpr std::size_t flood = 1000;
    if (session_peak_ < flood || sessions_.size() > session_peak_ / 4) return;
    ::malloc_trim(0);
    session_peak_ = sessions_.size();
}

void worker::apply(std::shared_ptr<const runtime> next) {
    runtime_ = std::move(next);
    balancers_ = make_balancers(runtime_, index_);
    pool_.clear();  // endpoints may be gone; idle connections are cheap to make again
    resume_accepting();  // max_connections may have grown
}

void worker::begin_drain() {
    draining_ = true;
    for (auto& entry : acceptors_) {
        boost::system::error_code ignored;
        entry.acceptor.close(ignored);
    }
    resume_accepting();
    pool_.clear();
    sweep_timer_.cancel();
    // Connections waiting for their next request are closed now; the others close after
    // the response they are working on. One whose next request is already in the socket
    // is served first (with Connection: close): the client sent it before the drain and
    // would otherwise see its request fail unanswered.
    for (auto& slot : sessions_) {
        boost::system::error_code ignored;
        if (slot.idle && !has_pending_input(*slot.socket)) slot.socket->cancel(ignored);
    }
}

void worker::pause_accepting() {
    if (!gate_.at_capacity()) return;
    for (auto& entry : acceptors_) {
        boost::system::error_code ignored;
        entry.acceptor.cancel(ignored);
    }
}

void worker::resume_accepting() {
    for (auto& entry : acceptors_) entry.wait.cancel();
}

bool has_pending_input(tcp::socket& socket) {
    char byte;
    return ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

std::list<session_slot>::iterator worker::register_session(tcp::socket* socket) {
    auto slot = sessions_.insert(sessions_.end(), session_slot{socket, false});
    session_peak_ = std::max(session_peak_, sessions_.size());
    return slot;
}

net::awaitable<void> worker::accept_loop(acceptor_entry& entry) {
    using namespace std::chrono_literals;
    for (;;) {
        if (draining_) co_return;
        if (gate_.at_capacity()) {
            // Past max_connections new connections wait in the kernel's backlog.
            entry.wait.expires_after(1s);
            co_await entry.wait.async_wait(net::as_tuple(net::use_awaitable));
            continue;
        }
        auto [ec, socket] = co_await entry.acceptor.async_accept(net::as_tuple(net::use_awaitable));
        if (ec == net::error::operation_aborted) continue;  // paused or draining: look again
        if (ec) {
            // Out of descriptors or memory: back off instead of spinning; the pending
            // connection stays in the backlog.
            TG_LOG(warn) << "listener " << entry.info.name << ": accept failed: " << ec.message();
            entry.wait.expires_after(100ms);
            co_await entry.wait.async_wait(net::as_tuple(net::use_awaitable));
            continue;
        }
        gate_.acquire();
        // run_session contains what its session throws; this is the last line behind it.
        net::co_spawn(ioc_, run_session(*this, std::move(socket), entry.info),
                      [this](std::exception_ptr e) {
                          gate_.release();
                          if (e) contain(metrics::internal_error_site::session, {}, e);
                      });
    }
}

}  // namespace tracegate::proxy
