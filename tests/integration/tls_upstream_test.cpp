// HTTPS to upstreams: a real TLS server (`openssl s_server -WWW`) behind tracegate. The
// certificate is verified by default (CA, host name), a failure is a 502 naming it on the
// span, verify: false works with a warning, and a client certificate is presented.
#include "tests/support/collector_sink.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/openssl_pki.hpp"
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>
#include <regex>
#include <thread>

namespace tracegate::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// `openssl s_server -WWW` serving `dir` over TLS on an ephemeral loopback port.
class tls_file_server {
public:
    tls_file_server(const pki& certs, const std::string& cert, const std::string& extra = "") {
        docs_.write("hello.txt", "hello over tls\n");
        const std::string log = docs_.path() + "/s_server.log";
        const std::string command = "cd " + docs_.path() + " && exec openssl s_server -accept 127.0.0.1:0 -WWW -cert " +
                                    certs.path(cert + ".pem") + " -key " + certs.path(cert + ".key") + " " + extra +
                                    " >" + log + " 2>&1 </dev/null";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        const auto deadline = clock_type::now() + 10s;
        static const std::regex accept_line(R"(ACCEPT 127\.0\.0\.1:(\d+))");
        while (port_ == 0 && clock_type::now() < deadline) {
            std::ifstream in(log);
            const std::string text((std::istreambuf_iterator<char>(in)), {});
            std::smatch m;
            if (std::regex_search(text, m, accept_line)) port_ = static_cast<std::uint16_t>(std::stoul(m[1]));
            else std::this_thread::sleep_for(10ms);
        }
    }
    ~tls_file_server() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }
    std::uint16_t port() const { return port_; }

private:
    temp_dir docs_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

class tls_upstream : public ::testing::Test {
protected:
    static void SetUpTestSuite() { certs_ = new pki(); }
    static void TearDownTestSuite() {
        delete certs_;
        certs_ = nullptr;
    }

    void start(const tls_file_server& server, const std::string& host, const std::string& tls) {
        ASSERT_NE(server.port(), 0);
        proxy_ = start_proxy(fill(R"(workers: 1
listeners: [{name: main, address: 127.0.0.1:0}]
upstreams:
  - name: secure
    endpoints: ['${host}:${port}']
    tls: ${tls}
tracing: {export: {flush_interval: 20ms}}
)",
                                  {{"host", host}, {"port", std::to_string(server.port())}, {"tls", tls}}));
        ASSERT_TRUE(proxy_);
    }

    http_response get(const std::string& target) {
        http_client client(proxy_->port());
        return client.get(target);
    }

    /// The events of the trace's CLIENT span, as the admin API returns them.
    std::string client_events(const http_response& r) {
        const auto header = r.header("traceresponse");
        if (!header) return "no traceresponse";
        const std::string id = header->substr(3, 32);
        const auto deadline = clock_type::now() + 10s;
        while (clock_type::now() < deadline) {
            http_client admin(proxy_->admin_port());
            const auto t = admin.get("/api/traces/" + id);
            if (t.status == 200) {
                const auto trace = boost::json::parse(t.body);
                for (const auto& s : trace.at("spans").as_array())
                    if (s.at("kind") == "CLIENT") return boost::json::serialize(s);
            }
            std::this_thread::sleep_for(20ms);
        }
        return "trace never arrived";
    }

    static inline pki* certs_ = nullptr;
    std::unique_ptr<tracegate_process> proxy_;
};

TEST_F(tls_upstream, verifies_the_upstream_against_ca_file_and_server_name) {
    tls_file_server server(*certs_, "a");
    start(server, "127.0.0.1", "{server_name: a.example.com, ca_file: '" + certs_->path("ca.pem") + "'}");
    const auto r = get("/hello.txt");
    EXPECT_EQ(r.status, 200u) << r.describe() << proxy_->log();
    EXPECT_EQ(r.body, "hello over tls\n");
}

TEST_F(tls_upstream, the_endpoint_host_is_the_name_verified_by_default) {
    tls_file_server server(*certs_, "localhost");
    start(server, "127.0.0.1", "{ca_file: '" + certs_->path("ca.pem") + "'}");
    const auto r = get("/hello.txt");
    EXPECT_EQ(r.status, 200u) << r.describe() << proxy_->log();
}

TEST_F(tls_upstream, a_wrong_host_name_is_a_502_naming_the_failure) {
    tls_file_server server(*certs_, "b");
    start(server, "127.0.0.1", "{server_name: a.example.com, ca_file: '" + certs_->path("ca.pem") + "'}");
    const auto r = get("/hello.txt");
    EXPECT_EQ(r.status, 502u) << r.describe();
    EXPECT_EQ(r.header("x-tracegate-error"), "upstream_tls_failed");
    const auto span = client_events(r);
    EXPECT_NE(span.find("\"error.type\":\"upstream_tls_failed\""), std::string::npos) << span;
    EXPECT_NE(span.find("upstream TLS handshake failed: hostname_mismatch"), std::string::npos) << span;
    http_client admin(proxy_->admin_port());
    const auto metrics = admin.get("/metrics").body;
    EXPECT_NE(metrics.find(R"(tracegate_upstream_errors_total{kind="upstream_tls_failed"} 1)"), std::string::npos)
        << metrics;
}

TEST_F(tls_upstream, an_unknown_ca_is_refused_by_default_and_accepted_with_verify_false) {
    {
        tls_file_server server(*certs_, "a");
        start(server, "127.0.0.1", "{server_name: a.example.com}");  // the system store does not know our CA
        const auto r = get("/hello.txt");
        EXPECT_EQ(r.status, 502u) << r.describe();
        EXPECT_NE(client_events(r).find("upstream TLS handshake failed: unknown_ca"), std::string::npos);
    }
    tls_file_server server(*certs_, "a");
    start(server, "127.0.0.1", "{verify: false}");
    EXPECT_TRUE(proxy_->log_contains("tls.verify is false")) << proxy_->log();
    const auto r = get("/hello.txt");
    EXPECT_EQ(r.status, 200u) << r.describe();
}

TEST_F(tls_upstream, a_client_certificate_is_presented_when_configured) {
    tls_file_server server(*certs_, "a", "-Verify 1 -CAfile " + certs_->path("ca.pem"));
    start(server, "127.0.0.1",
          "{server_name: a.example.com, ca_file: '" + certs_->path("ca.pem") + "', cert: '" +
              certs_->path("client.pem") + "', key: '" + certs_->path("client.key") + "'}");
    const auto r = get("/hello.txt");
    EXPECT_EQ(r.status, 200u) << r.describe() << proxy_->log();
}

TEST_F(tls_upstream, without_the_client_certificate_the_same_server_refuses) {
    tls_file_server server(*certs_, "a", "-Verify 1 -CAfile " + certs_->path("ca.pem"));
    start(server, "127.0.0.1", "{server_name: a.example.com, ca_file: '" + certs_->path("ca.pem") + "'}");
    const auto r = get("/hello.txt");
    EXPECT_EQ(r.status, 502u) << r.describe();
}

TEST_F(tls_upstream, pooled_tls_connections_are_reused) {
    collector_sink_options options;
    options.tls = sink_tls{certs_->path("localhost.pem"), certs_->path("localhost.key")};
    collector_sink sink(options);
    proxy_ = start_proxy(fill(R"(workers: 1
listeners: [{name: main, address: 127.0.0.1:0}]
upstreams:
  - {name: secure, endpoints: ['127.0.0.1:${port}'], tls: {ca_file: '${ca}'}}
)",
                              {{"port", std::to_string(sink.port())}, {"ca", certs_->path("ca.pem")}}));
    ASSERT_TRUE(proxy_);
    http_client client(proxy_->port());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(client.get("/v1/traces").status, 200u) << proxy_->log();
    EXPECT_EQ(sink.connections_accepted(), 1u) << "one TLS connection carried all five requests";
}

}  // namespace
}  // namespace tracegate::test
