#include "proxy/server.hpp"

#include "config/loader.hpp"
#include "proxy/access_log.hpp"
#include "proxy/admin_server.hpp"
#include "proxy/collector_client.hpp"
#include "proxy/log.hpp"
#include "proxy/metrics.hpp"
#include "proxy/tls_context.hpp"
#include "proxy/worker.hpp"
#include "tracing/export_pipeline.hpp"
#include "tracing/exporters.hpp"
#include "tracing/resource.hpp"
#include "tracing/trace_store.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

#include <atomic>
#include <csignal>
#include <ctime>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>

namespace tracegate::proxy {
namespace net = boost::asio;
using tcp = net::ip::tcp;
using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

namespace {

/// Lets the proxy hold as many connections as the hard limit allows, and says so when
/// max_connections cannot be reached: each connection may hold an upstream one too.
void raise_fd_limit(std::uint64_t max_connections) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    const std::uint64_t needed = max_connections + 256;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed)
        TG_LOG(warn) << "open file limit " << limit.rlim_cur << " is below the " << needed
                     << " that max_connections " << max_connections
                     << " may need; accepts will pause when it is reached";
}

bool same_listeners(const config::settings& a, const config::settings& b) {
    if (a.listeners.size() != b.listeners.size() || a.workers != b.workers) return false;
    for (std::size_t i = 0; i < a.listeners.size(); ++i)
        if (a.listeners[i].name != b.listeners[i].name || !(a.listeners[i].bind == b.listeners[i].bind) ||
            a.listeners[i].tls.has_value() != b.listeners[i].tls.has_value())
            return false;
    return true;
}

/// `verify: false` is allowed, never silently.
void warn_unverified(const config::settings& s) {
    for (const auto& u : s.upstreams)
        if (u.tls && !u.tls->verify)
            TG_LOG(warn) << "upstream " << u.name
                         << ": tls.verify is false: its certificates are not checked, anyone on the path "
                            "can read and change this traffic";
}

/// Exporters, the pipeline and the store are built once per process.
bool same_export(const config::tracing_config& a, const config::tracing_config& b) {
    if (a.exporters.size() != b.exporters.size() || a.resource_attributes != b.resource_attributes ||
        a.exporting.max_queue_spans != b.exporting.max_queue_spans ||
        a.exporting.max_batch_spans != b.exporting.max_batch_spans ||
        a.exporting.flush_interval != b.exporting.flush_interval ||
        a.exporting.shutdown_timeout != b.exporting.shutdown_timeout ||
        a.store.max_traces != b.store.max_traces || a.store.max_bytes != b.store.max_bytes)
        return false;
    for (std::size_t i = 0; i < a.exporters.size(); ++i) {
        const auto& x = a.exporters[i];
        const auto& y = b.exporters[i];
        if (x.type != y.type || x.endpoint != y.endpoint || x.otlp_encoding != y.otlp_encoding || x.gzip != y.gzip ||
            x.headers != y.headers || x.timeout != y.timeout || x.ca_file != y.ca_file ||
            x.project_id != y.project_id || x.token_file != y.token_file || x.token_env != y.token_env ||
            x.metadata_server != y.metadata_server || x.path != y.path)
            return false;
    }
    return true;
}

}  // namespace

namespace {

void log_export(tracing::export_log_level level, std::string_view line) {
    switch (level) {
        case tracing::export_log_level::info: TG_LOG(info) << line; break;
        case tracing::export_log_level::warn: TG_LOG(warn) << line; break;
        case tracing::export_log_level::error: TG_LOG(error) << line; break;
    }
}

/// What the workers tell about requests and connections goes to the metrics and the
/// access log; both are fixed for the process.
class observers final : public request_observer, public connection_observer {
public:
    observers(proxy::metrics& m, access_log* log) : metrics_(m), log_(log) {}
    void span_started(unsigned worker, bool sampled) override { metrics_.span_started(worker, sampled); }
    void request_done(unsigned worker, const request_record& r) override {
        metrics_.request_finished(worker, r.route, r.method, r.status, r.duration, r.bytes_in, r.bytes_out);
        if (log_) log_->write(r);
    }
    void upstream_error(unsigned worker, std::string_view kind) override { metrics_.upstream_error(worker, kind); }
    void connection_opened(unsigned worker) override { metrics_.connection_opened(worker); }
    void connection_closed(unsigned worker) override { metrics_.connection_closed(worker); }
    void handshake_failed(unsigned worker, std::string_view kind) override {
        metrics_.tls_handshake_failed(worker, kind);
    }
    void internal_error(proxy::metrics::internal_error_site site) override { metrics_.internal_error(site); }

private:
    proxy::metrics& metrics_;
    access_log* log_;
};

}  // namespace

struct server::impl {
    std::shared_ptr<const config::settings> initial;
    /// The embedded default backend (and what the admin server shows).
    std::shared_ptr<tracing::trace_store> store;
    /// Where finished spans go. Fixed for the process: a reload keeps it.
    std::shared_ptr<tracing::export_pipeline> pipeline;
    std::shared_ptr<const runtime> current;
    std::optional<std::string> config_path;
    connection_gate gate;
    // Before the workers: sessions still open when a drain gives up are destroyed with
    // their worker, and report to these on the way out.
    std::unique_ptr<proxy::metrics> metrics;
    std::unique_ptr<access_log> requests_log;
    std::unique_ptr<observers> observing;
    std::vector<std::unique_ptr<worker>> workers;
    std::vector<std::thread> threads;
    std::atomic<unsigned> finished{0};
    /// /ready: true once listeners are bound, false again when draining starts.
    std::atomic<bool> ready{false};
    /// current, for the admin thread (current itself belongs to the main thread).
    std::atomic<std::shared_ptr<const runtime>> published;
    std::unique_ptr<admin_server> admin;

    impl(std::shared_ptr<const config::settings> settings, std::optional<std::string> path)
        : initial(std::move(settings)), config_path(std::move(path)),
          gate(initial->limits.max_connections) {}

    bool start_export();
    bool start_observing(unsigned worker_count);
    bool start_admin();
    std::string render_metrics() const;
    bool bind_listeners();
    void reload();
    void reload_certificates(const config::settings& next);
    void drain(const sigset_t& signals);
    void stop_export();
};

bool server::impl::start_export() {
    const config::settings& settings = *initial;
    const config::tracing_config& t = settings.tracing;
    store = std::make_shared<tracing::trace_store>(
        tracing::trace_store_options{static_cast<std::size_t>(t.store.max_traces),
                                     static_cast<std::size_t>(t.store.max_bytes)});
    tracing::exporter_environment environment{
        tracing::make_process_resource(settings.service_name, t.resource_attributes), make_collector_client, store};
    std::vector<std::unique_ptr<tracing::exporter>> exporters;
    try {
        exporters = tracing::make_exporters(t, environment);
    } catch (const std::exception& e) {
        TG_LOG(error) << e.what();
        return false;
    }
    for (const auto& e : exporters) TG_LOG(info) << "exporting spans to " << e->name();
    tracing::export_pipeline_options options;
    options.max_queue_spans = static_cast<std::size_t>(t.exporting.max_queue_spans);
    options.max_batch_spans = static_cast<std::size_t>(t.exporting.max_batch_spans);
    options.flush_interval = t.exporting.flush_interval;
    options.shutdown_timeout = t.exporting.shutdown_timeout;
    options.log = log_export;
    pipeline = std::make_shared<tracing::export_pipeline>(std::move(options), std::move(exporters));
    try {
        current = std::make_shared<const runtime>(initial, pipeline);
    } catch (const std::exception& e) {
        TG_LOG(error) << e.what();
        return false;
    }
    warn_unverified(*initial);
    return true;
}

void server::impl::stop_export() {
    if (!pipeline) return;
    const auto before = std::chrono::steady_clock::now();
    pipeline->shutdown();
    const auto stats = pipeline->stats();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - before);
    TG_LOG(info) << "export: " << stats.queued << " spans queued, " << stats.dropped_queue_full
                 << " dropped (queue full); flushed in " << took.count() << "ms";
    for (const auto& e : stats.exporters)
        TG_LOG(info) << "exporter " << e.name << ": " << e.exported_spans << " exported, " << e.rejected_spans
                     << " rejected, " << e.dropped_failed << " dropped (export failed), " << e.dropped_backlog
                     << " dropped (backlog full), " << e.dropped_shutdown << " dropped (shutdown), "
                     << e.failed_requests << " failed requests, " << e.retries << " retries";
}

bool server::impl::start_observing(unsigned worker_count) {
    metrics = std::make_unique<proxy::metrics>(worker_count);
    if (initial->access_log.enabled) {
        try {
            requests_log = std::make_unique<access_log>(initial->access_log);
        } catch (const std::exception& e) {
            TG_LOG(error) << e.what();
            return false;
        }
    }
    observing = std::make_unique<observers>(*metrics, requests_log.get());
    return true;
}

std::string server::impl::render_metrics() const {
    export_metrics_snapshot exported;
    if (pipeline) {
        const auto stats = pipeline->stats();
        exported.queued = stats.queued;
        exported.dropped_queue_full = stats.dropped_queue_full;
        exported.queue_depth = stats.queue_depth;
        for (const auto& e : stats.exporters) {
            exported.exporters.push_back({e.name, e.exported_spans, e.rejected_spans, e.dropped_failed,
                                          e.dropped_backlog, e.dropped_shutdown, e.failed_requests, e.retries});
            exported.internal_errors += e.internal_errors;
        }
    }
    store_metrics_snapshot stored;
    if (store) {
        const auto stats = store->stats();
        stored = {stats.traces, stats.spans, stats.bytes, stats.evicted_traces, stats.rejected_spans};
    }
    return metrics->render(exported, stored);
}

bool server::impl::start_admin() {
    const config::admin_config& config = initial->admin;
    if (!config.enabled) return true;
    admin_sources sources;
    sources.ready = [this] { return ready.load(); };
    sources.metrics = [this] { return render_metrics(); };
    sources.settings = [this] { return published.load()->settings; };
    sources.store = store;
    sources.max_receive_bytes = config.max_receive_bytes;
    sources.hosts = config.hosts;
    sources.internal_error = [this] { metrics->internal_error(proxy::metrics::internal_error_site::admin); };
    admin = std::make_unique<admin_server>(std::move(sources));
    try {
        const auto bound = admin->start(config.bind);
        TG_LOG(info) << "admin listening on " << bound.to_string() << " (trace viewer: http://"
                     << bound.to_string() << "/traces)";
    } catch (const std::exception& e) {
        TG_LOG(error) << e.what();
        return false;
    }
    return true;
}

bool server::impl::bind_listeners() {
    for (const auto& listener : current->settings->listeners) {
        boost::system::error_code ec;
        const auto ip = net::ip::make_address(listener.bind.host, ec);
        if (ec) {
            TG_LOG(error) << "listener " << listener.name << ": bad address "
                          << listener.bind.to_string();
            return false;
        }
        std::uint16_t port = listener.bind.port;
        listener_info info{listener.name, "http", listener.trust_incoming_trace, listener.response_header, nullptr,
                           listener.upgrades};
        if (listener.tls) {
            try {
                info.tls = make_server_context(*listener.tls);
            } catch (const std::exception& e) {
                TG_LOG(error) << "listener " << listener.name << ": " << e.what();
                return false;
            }
            info.scheme = "https";
        }
        for (auto& w : workers) {
            tcp::acceptor acceptor(w->context());
            const tcp::endpoint endpoint(ip, port);
            acceptor.open(endpoint.protocol(), ec);
            if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
            if (!ec) acceptor.set_option(reuse_port(true), ec);
            if (!ec && ip.is_v6()) acceptor.set_option(net::ip::v6_only(true), ec);
            if (!ec) acceptor.bind(endpoint, ec);
            if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
            if (ec) {
                TG_LOG(error) << "listener " << listener.name << ": cannot listen on "
                              << endpoint << ": " << ec.message();
                return false;
            }
            if (port == 0) port = acceptor.local_endpoint().port();  // the others share it
            w->add_acceptor(std::move(acceptor), info);
        }
        config::address bound{listener.bind.host, port};
        TG_LOG(info) << "listener " << listener.name << " listening on " << bound.to_string()
                     << (listener.tls ? " (https)" : "");
    }
    return true;
}

void server::impl::reload() {
    if (!config_path) {
        TG_LOG(warn) << "SIGHUP: running the embedded defaults, there is no file to reload";
        return;
    }
    auto result = config::load_file(*config_path);
    if (!result) {
        metrics->config_reload(false);
        TG_LOG(error) << "config reload rejected (" << result.errors.size()
                      << " error(s)); the running config stays";
        for (const auto& e : result.errors) TG_LOG(error) << e.to_string();
        return;
    }
    if (!same_listeners(*current->settings, *result.value))
        TG_LOG(warn) << "listeners and workers changed in " << *config_path
                     << ": they apply after a restart";
    if (!(current->settings->admin.enabled == result.value->admin.enabled &&
          current->settings->admin.bind == result.value->admin.bind &&
          current->settings->admin.max_receive_bytes == result.value->admin.max_receive_bytes) ||
        current->settings->access_log.enabled != result.value->access_log.enabled ||
        current->settings->access_log.path != result.value->access_log.path ||
        current->settings->access_log.style != result.value->access_log.style)
        TG_LOG(warn) << "admin or access_log changed in " << *config_path << ": they apply after a restart";
    if (!same_export(current->settings->tracing, result.value->tracing))
        TG_LOG(warn) << "tracing exporters, export or store changed in " << *config_path
                     << ": they apply after a restart";
    std::shared_ptr<const runtime> next;
    try {
        next = std::make_shared<const runtime>(result.value, pipeline);
    } catch (const std::exception& e) {
        metrics->config_reload(false);
        TG_LOG(error) << "config reload rejected: " << e.what() << "; the running config stays";
        return;
    }
    warn_unverified(*result.value);
    reload_certificates(*result.value);
    current = std::move(next);
    published.store(current);
    gate.set_max(current->settings->limits.max_connections);
    for (auto& w : workers) {
        worker* target = w.get();
        net::post(target->context(), [target, next = current] { target->apply(next); });
    }
    metrics->config_reload(true);
    TG_LOG(info) << "config reloaded from " << *config_path;
}

void server::impl::reload_certificates(const config::settings& next) {
    // New handshakes use the new certificates; connections made before keep theirs.
    for (const auto& listener : next.listeners) {
        if (!listener.tls) continue;
        std::shared_ptr<net::ssl::context> context;
        try {
            context = make_server_context(*listener.tls);
        } catch (const std::exception& e) {
            TG_LOG(error) << "listener " << listener.name << ": " << e.what() << "; it keeps its certificates";
            continue;
        }
        for (auto& w : workers) {
            worker* target = w.get();
            net::post(target->context(),
                      [target, name = listener.name, context] { target->replace_tls(name, context); });
        }
    }
}

void server::impl::drain(const sigset_t& signals) {
    ready.store(false);
    const auto timeout = current->settings->limits.drain_timeout;
    TG_LOG(info) << "draining: no new connections, finishing requests in flight (up to "
                 << timeout.count() << "ms)";
    for (auto& w : workers) {
        worker* target = w.get();
        net::post(target->context(), [target] { target->begin_drain(); });
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (finished.load() < workers.size() && std::chrono::steady_clock::now() < deadline) {
        timespec tick{0, 20'000'000};
        const int sig = ::sigtimedwait(&signals, nullptr, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            TG_LOG(warn) << "second stop signal: not waiting for requests in flight";
            break;
        }
    }
    if (finished.load() < workers.size())
        TG_LOG(warn) << "drain ended with connections still open; closing them";
    for (auto& w : workers) w->context().stop();
    for (auto& t : threads) t.join();
}

server::server(std::shared_ptr<const config::settings> settings,
               std::optional<std::string> config_path)
    : impl_(std::make_unique<impl>(std::move(settings), std::move(config_path))) {}

server::~server() = default;

int server::run() {
    auto& s = *impl_;
    raise_fd_limit(s.initial->limits.max_connections);
    std::signal(SIGPIPE, SIG_IGN);
    // Signals are taken by the main thread only: block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    for (int sig : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, sig);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    if (!s.start_export()) return 1;

    unsigned count = s.current->settings->workers;
    if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
    if (!s.start_observing(count)) {
        s.stop_export();
        return 1;
    }
    for (unsigned i = 0; i < count; ++i) {
        s.workers.push_back(std::make_unique<worker>(s.gate, i, s.current));
        s.workers.back()->observe(s.observing.get(), s.observing.get());
        s.gate.add(s.workers.back().get());
    }
    s.published.store(s.current);
    if (!s.bind_listeners() || !s.start_admin()) {
        s.stop_export();
        return 1;
    }

    for (auto& w : s.workers)
        s.threads.emplace_back([&s, target = w.get()] {
            target->run();
            s.finished.fetch_add(1);
        });
    s.ready.store(true);
    TG_LOG(info) << "tracegate serving with " << count << " worker(s), service "
                 << s.current->settings->service_name;

    for (;;) {
        int sig = 0;
        if (::sigwait(&signals, &sig) != 0) continue;
        if (sig == SIGHUP) {
            try {
                s.reload();
            } catch (const std::exception& e) {
                s.metrics->internal_error(proxy::metrics::internal_error_site::reload);
                TG_LOG(error) << "config reload failed: " << e.what() << "; the running config stays";
            } catch (...) {
                s.metrics->internal_error(proxy::metrics::internal_error_site::reload);
                TG_LOG(error) << "config reload failed; the running config stays";
            }
            continue;
        }
        TG_LOG(info) << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    s.drain(signals);
    // Requests are done; what they recorded is sent within tracing.export.shutdown_timeout.
    s.stop_export();
    if (s.admin) s.admin->stop();
    TG_LOG(info) << "stopped";
    return 0;
}

}  // namespace tracegate::proxy
