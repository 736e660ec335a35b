// The process over time: connection limits, graceful shutdown on SIGTERM, bounded drain,
// and live reload on SIGHUP.
#include "tests/support/http_client.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"

#include <boost/asio.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <sys/resource.h>
#include <sys/socket.h>
#include <future>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace tracegate::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Starts `target` on its own connection in the background.
std::future<http_response> get_in_background(std::uint16_t port, std::string target) {
    return std::async(std::launch::async, [port, target = std::move(target)] {
        http_client client(port, 20s);
        return client.get(target);
    });
}

/// Polls new connections until one is refused (or reset while connecting); false when `timeout` passes first.
bool connections_become_refused(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
        raw_client probe(port, 500ms);
        // Reset: the handshake raced with the listener closing; not served either way.
        if (!probe.connected())
            return probe.error() == boost::asio::error::connection_refused ||
                   probe.error() == boost::asio::error::connection_reset;
        // Accepted into a backlog that is being closed, or still served: try again.
        probe.close();
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

TEST(lifecycle, connection_over_max_connections_waits_until_one_closes) {
    upstream_server up("app");
    auto proxy = start_proxy(single_upstream_config(up.address(), "limits:\n  max_connections: 2\n"));
    ASSERT_TRUE(proxy);
    const auto port = proxy->port("main");

    auto first = std::make_unique<http_client>(port, io_timeout);
    http_client second(port, io_timeout);
    ASSERT_EQ(first->get("/one").status, 200u);
    ASSERT_EQ(second.get("/two").status, 200u);

    raw_client third(port);
    ASSERT_TRUE(third.connected()) << "the kernel backlog should still take the connection";
    ASSERT_TRUE(third.send("GET /three HTTP/1.1\r\nHost: a\r\n\r\n"));
    EXPECT_FALSE(third.receive_some(700ms))
        << "a third connection was served while two were open: " << third.received();

    first.reset();  // closes a slot
    ASSERT_TRUE(third.read_response(io_timeout)) << "never served after a slot freed up";
    EXPECT_EQ(third.responses().at(0).body, "ok /three\n");

    EXPECT_EQ(second.get("/two-again").status, 200u);
    EXPECT_TRUE(proxy->running());
}

TEST(lifecycle, sigterm_finishes_the_request_in_flight_refuses_new_connections_and_exits_0) {
    upstream_server up("app");
    auto proxy = start_proxy(single_upstream_config(up.address()));
    ASSERT_TRUE(proxy);
    const auto port = proxy->port("main");

    auto in_flight = get_in_background(port, "/delay/3000");
    ASSERT_TRUE(up.wait_for_requests(1, io_timeout)) << "the request never reached the upstream";
    proxy->signal(SIGTERM);

    EXPECT_TRUE(connections_become_refused(port, 2000ms))
        << "new connections were still accepted after SIGTERM";
    EXPECT_EQ(in_flight.wait_for(0s), std::future_status::timeout)
        << "the request in flight ended before the listener closed; the test proves nothing";

    const auto r = in_flight.get();
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, "ok /delay/3000\n");
    const auto status = proxy->wait_exit(10s);
    ASSERT_TRUE(status) << "still running 10 s after SIGTERM";
    EXPECT_EQ(*status, 0);
}

/// One keep-alive connection to 127.0.0.1:`port` with a receive timeout, for tests that
/// write and read in steps of their own.
struct plain_connection {
    plain_connection(boost::asio::io_context& ioc, std::uint16_t port) : socket(ioc) {
        socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
        const timeval limit{10, 0};  // nothing here may hang the test
        if (!ec) ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }
    void send(std::string_view target) {
        boost::asio::write(socket, boost::asio::buffer("GET " + std::string(target) + " HTTP/1.1\r\nHost: a\r\n\r\n"), ec);
    }
    /// The next response's status line and body ("" when none came).
    std::string receive() {
        namespace net = boost::asio;
        const auto head_size = net::read_until(socket, in, "\r\n\r\n", ec);
        if (ec) return {};
        std::string head(net::buffers_begin(in.data()), net::buffers_begin(in.data()) + head_size);
        const auto cl = head.find("Content-Length: ");
        const std::size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
        if (in.size() < head_size + length)
            net::read(socket, in, net::transfer_exactly(head_size + length - in.size()), ec);
        if (ec) return {};
        std::string out = head.substr(0, head.find("\r\n")) + " " +
                          std::string(net::buffers_begin(in.data()) + head_size,
                                      net::buffers_begin(in.data()) + head_size + length);
        in.consume(head_size + length);
        return out;
    }
    boost::asio::ip::tcp::socket socket;
    boost::asio::streambuf in;
    boost::system::error_code ec;
};

TEST(lifecycle, sigterm_answers_every_request_that_arrived_before_the_drain) {
    // A drain closes connections waiting for their next request; one whose next request
    // is already in its socket is served first (Connection: close), or its client sees a
    // request it sent before the drain fail unanswered.
    upstream_server up("app");
    auto proxy = start_proxy(single_upstream_config(up.address(), "", 1));
    ASSERT_TRUE(proxy);
    boost::asio::io_context ioc;
    std::vector<std::unique_ptr<plain_connection>> connections;
    for (int i = 0; i < 400; ++i) {
        auto c = std::make_unique<plain_connection>(ioc, proxy->port("main"));
        c->send("/warm/" + std::to_string(i));
        ASSERT_EQ(c->receive(), "HTTP/1.1 200 OK ok /warm/" + std::to_string(i) + "\n") << c->ec.message();
        connections.push_back(std::move(c));
    }
    // Every connection now waits for its next request. All of them arrive, then the signal:
    // the one worker is still reading the first of them when its drain begins.
    for (std::size_t i = 0; i < connections.size(); ++i) connections[i]->send("/next/" + std::to_string(i));
    proxy->signal(SIGTERM);
    std::size_t unanswered = 0;
    for (std::size_t i = 0; i < connections.size(); ++i) {
        const auto r = connections[i]->receive();
        if (r != "HTTP/1.1 200 OK ok /next/" + std::to_string(i) + "\n") ++unanswered;
    }
    EXPECT_EQ(unanswered, 0u) << "of " << connections.size() << " requests sent before SIGTERM";
    const auto status = proxy->wait_exit(20s);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 0);
}

TEST(lifecycle, sigterm_when_idle_exits_0_promptly) {
    upstream_server up("app");
    auto proxy = start_proxy(single_upstream_config(up.address()));
    ASSERT_TRUE(proxy);
    {
        http_client client(proxy->port("main"), io_timeout);
        ASSERT_EQ(client.get("/x").status, 200u);
    }
    proxy->signal(SIGTERM);
    const auto status = proxy->wait_exit(3s);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 0);
}

TEST(lifecycle, drain_timeout_bounds_shutdown_with_a_stuck_request) {
    upstream_server up("app");
    auto proxy = start_proxy(single_upstream_config(up.address(), "limits:\n  drain_timeout: 300ms\n"));
    ASSERT_TRUE(proxy);
    auto stuck = get_in_background(proxy->port("main"), "/delay/10000");
    ASSERT_TRUE(up.wait_for_requests(1, io_timeout));

    const auto start = clock_type::now();
    proxy->signal(SIGTERM);
    const auto status = proxy->wait_exit(5s);
    const auto elapsed = clock_type::now() - start;
    ASSERT_TRUE(status) << "drain_timeout 300ms, yet still running 5 s after SIGTERM";
    EXPECT_LT(elapsed, 3s);
    EXPECT_EQ(*status, 0);
    const auto r = stuck.get();
    EXPECT_NE(r.status, 200u) << "the stuck request cannot have completed: " << r.describe();
}

TEST(lifecycle, idle_client_connection_is_closed_after_idle_timeout) {
    upstream_server up("app");
    auto proxy = start_proxy(single_upstream_config(up.address(), "limits:\n  idle_timeout: 300ms\n"));
    ASSERT_TRUE(proxy);
    http_client client(proxy->port("main"), io_timeout);
    ASSERT_EQ(client.get("/x").status, 200u);
    const auto start = clock_type::now();
    EXPECT_TRUE(client.wait_closed_by_peer(5s)) << "an idle keep-alive connection was kept past idle_timeout";
    EXPECT_GE(clock_type::now() - start, 250ms) << "closed before idle_timeout";
}

TEST(lifecycle, many_idle_keep_alive_connections_hold_little_memory_and_still_serve_and_expire) {
    // Past 256 connections on a worker, one waiting for its next request keeps no buffer
    // and no timer of its own. The first 600 (about 300 per worker) pass that mark; the
    // next 600 are measured.
    constexpr std::size_t first = 600;
    constexpr std::size_t measured = 600;
    rlimit files{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
    files.rlim_cur = std::max<rlim_t>(files.rlim_cur, std::min<rlim_t>(files.rlim_max, 4096));
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
    ASSERT_GE(files.rlim_cur, first + measured + 64) << "too few file descriptors for this test";
    upstream_server up("app");
    // No spans kept: the memory measured is the connections'.
    auto proxy = start_proxy(single_upstream_config(
        up.address(), "limits:\n  idle_timeout: 3s\ntracing: {sampling: {ratio: 0, keep: {errors: false}}}\n"));
    ASSERT_TRUE(proxy);
    const auto port = proxy->port("main");
    std::vector<std::unique_ptr<raw_client>> idle;
    auto open_idle = [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            auto c = std::make_unique<raw_client>(port);
            if (!c->send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n") || !c->read_response(io_timeout)) {
                ADD_FAILURE() << "connection " << idle.size() << ": " << c->received();
                return false;
            }
            idle.push_back(std::move(c));
        }
        return true;
    };
    ASSERT_TRUE(open_idle(first));
    const auto before = proxy->rss_kib();
    ASSERT_TRUE(open_idle(measured));
    const auto served = clock_type::now();
    const auto after = proxy->rss_kib();
    ASSERT_TRUE(before && after);
    const double per_connection = (static_cast<double>(*after) - static_cast<double>(*before)) / measured;
    // About 10 KiB each when an idle connection keeps its read buffer (16 KiB, partly touched).
    EXPECT_LT(per_connection, 6.0) << "KiB of proxy RSS per idle keep-alive connection";

    // A waiting connection still takes its next request.
    for (std::size_t i = idle.size() - 5; i < idle.size(); ++i) {
        ASSERT_TRUE(idle[i]->send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n"));
        const auto deadline = clock_type::now() + io_timeout;
        auto answered = [&] {
            const auto r = idle[i]->responses();
            return r.size() == 2 && r[1].complete;
        };
        while (!answered() && !idle[i]->closed_by_peer() && clock_type::now() < deadline)
            idle[i]->receive_some(200ms);
        ASSERT_TRUE(answered()) << idle[i]->received();
        EXPECT_EQ(idle[i]->responses()[1].status, 200u) << idle[i]->received();
    }
    // And every one is closed after idle_timeout, not before.
    for (std::size_t i = 0; i < idle.size(); ++i)
        ASSERT_TRUE(idle[i]->read_until_closed(15s)) << "connection " << i << " outlived idle_timeout";
    EXPECT_GE(clock_type::now() - served, 2500ms) << "closed before idle_timeout";
}

TEST(lifecycle, floods_of_silent_connections_cost_little_memory_and_leave_no_growth) {
    constexpr std::size_t flood = 4000;
    rlimit files{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
    files.rlim_cur = std::max<rlim_t>(files.rlim_cur, std::min<rlim_t>(files.rlim_max, 16384));
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
    ASSERT_GE(files.rlim_cur, flood + 64) << "too few file descriptors for this test";
    upstream_server up("app");
    auto proxy = start_proxy(single_upstream_config(
        up.address(), "limits:\n  header_timeout: 60s\ntracing: {sampling: {ratio: 0, keep: {errors: false}}}\n", 1));
    ASSERT_TRUE(proxy);
    const auto port = proxy->port("main");
    const auto admin = proxy->admin_port();
    ASSERT_NE(admin, 0);
    auto active_connections = [&] {
        http_client scrape(admin, io_timeout);
        const std::string page = scrape.get("/metrics").body;
        const auto at = page.find("\ntracegate_connections_active ");
        return at == std::string::npos ? -1.0 : std::stod(page.substr(at + 30));
    };
    {
        http_client warm(port, io_timeout);
        ASSERT_EQ(warm.get("/warm").status, 200u);
    }
    boost::asio::io_context ioc;
    const auto baseline = *proxy->rss_kib();
    std::vector<std::uint64_t> after;
    for (int round = 0; round < 3; ++round) {
        std::vector<boost::asio::ip::tcp::socket> sockets;
        const auto before = *proxy->rss_kib();
        for (std::size_t i = 0; i < flood; ++i) {
            sockets.emplace_back(ioc);
            boost::system::error_code ec;
            sockets.back().connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
            ASSERT_FALSE(ec) << "connect " << i << ": " << ec.message();
        }
        const auto deadline = clock_type::now() + 20s;
        while (active_connections() < flood && clock_type::now() < deadline) std::this_thread::sleep_for(20ms);
        const auto during = *proxy->rss_kib();
        if (round == 0) {
            const double per_connection = (static_cast<double>(during) - static_cast<double>(before)) / flood;
            RecordProperty("kib_per_silent_connection", std::to_string(per_connection));
            // With a 16 KiB read buffer and a timer for each before its first byte: 8.7.
            EXPECT_LT(per_connection, 7.0) << "KiB of proxy RSS per silent connection";
        }
        sockets.clear();  // the flood ends
        while (active_connections() > 0 && clock_type::now() < deadline) std::this_thread::sleep_for(20ms);
        std::this_thread::sleep_for(1500ms);  // an idle-sweep tick: memory given back meanwhile
        after.push_back(*proxy->rss_kib());
    }
    // Each flood reuses what the last one left; RSS does not climb flood after flood.
    EXPECT_LT(after[2], after[0] + 2048) << "RSS after each flood (KiB): " << after[0] << ", " << after[1]
                                         << ", " << after[2] << "; " << baseline << " before the first";
}

TEST(lifecycle, every_log_line_carries_a_level) {
    upstream_server up("app");
    auto proxy = start_proxy(single_upstream_config(up.address()));
    ASSERT_TRUE(proxy);
    {
        http_client client(proxy->port("main"), io_timeout);
        ASSERT_EQ(client.get("/x").status, 200u);
        ASSERT_EQ(client.get("/close-now").status, 502u);
    }
    proxy->signal(SIGTERM);
    ASSERT_TRUE(proxy->wait_exit(10s));
    const std::regex level(R"(\b(debug|info|warn|warning|error)\b)", std::regex::icase);
    std::istringstream log(proxy->log());
    std::size_t lines = 0;
    for (std::string line; std::getline(log, line); ++lines)
        EXPECT_TRUE(std::regex_search(line, level)) << "log line without a level: " << line;
    EXPECT_GE(lines, 2u) << "expected at least the listener line and a shutdown line";
}

std::string two_upstream_config(const upstream_server& a, const upstream_server& b,
                                std::string_view target) {
    return fill(R"(service_name: itest
workers: 2
listeners:
  - name: main
    address: 127.0.0.1:0
upstreams:
  - name: blue
    endpoints: [${a}]
  - name: green
    endpoints: [${b}]
routes:
  - name: svc
    match: {path_prefix: /svc/}
    upstream: ${target}
)",
                {{"a", a.address()}, {"b", b.address()}, {"target", std::string(target)}});
}

TEST(lifecycle, sighup_reload_sends_new_requests_to_the_new_upstream_and_keeps_old_connections) {
    upstream_server blue("blue"), green("green");
    auto proxy = start_proxy(two_upstream_config(blue, green, "blue"));
    ASSERT_TRUE(proxy);
    const auto port = proxy->port("main");

    http_client before(port, io_timeout);
    ASSERT_EQ(before.get("/svc/a").header("x-upstream-name"), "blue");

    proxy->rewrite_config(two_upstream_config(blue, green, "green"));
    proxy->signal(SIGHUP);
    ASSERT_TRUE(proxy->wait_for_log("config reloaded", io_timeout));

    http_client after(port, io_timeout);
    const auto r = after.get("/svc/b");
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-upstream-name"), "green");

    const auto old = before.get("/svc/c");
    EXPECT_EQ(old.status, 200u) << "the keep-alive connection opened before the reload broke: "
                                << old.describe();
    EXPECT_EQ(old.header("x-upstream-name"), "green")
        << "a request that starts after the reload must use the new config, whatever its connection";
    EXPECT_TRUE(proxy->running());
}

TEST(lifecycle, sighup_with_an_invalid_config_is_rejected_and_the_old_config_keeps_serving) {
    upstream_server blue("blue"), green("green");
    auto proxy = start_proxy(two_upstream_config(blue, green, "blue"));
    ASSERT_TRUE(proxy);
    const auto port = proxy->port("main");

    // Line 14 names an upstream that does not exist.
    proxy->rewrite_config(two_upstream_config(blue, green, "purple"));
    proxy->signal(SIGHUP);
    ASSERT_TRUE(proxy->wait_for_log("config reload rejected", io_timeout));
    const std::string location = proxy->config_path() + ":14:";
    EXPECT_TRUE(proxy->wait_for_log(regex_escape(location) + R"(\d+: )", 2s))
        << "no FILE:LINE:COLUMN error for line 14 in the log";
    EXPECT_FALSE(proxy->log_contains("config reloaded"));

    http_client client(port, io_timeout);
    const auto r = client.get("/svc/still");
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-upstream-name"), "blue");
    EXPECT_TRUE(proxy->running());
}

}  // namespace
}  // namespace tracegate::test
