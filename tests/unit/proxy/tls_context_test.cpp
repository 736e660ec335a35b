// Real TLS handshakes over 127.0.0.1, server and client in one io_context, with
// certificates from a private CA made for the test run.
#include "proxy/tls_context.hpp"

#include "tests/support/test_certificate.hpp"
#include "tests/support/tracegate_process.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace tracegate::proxy {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using tls_stream = ssl::stream<tcp::socket>;
constexpr auto tuple = net::as_tuple(net::use_awaitable);

// --- certificates ---------------------------------------------------------------------

/// One private CA and what it issues, plus a stranger CA; made once for the whole binary.
struct test_pki {
    test::temp_dir dir;
    test::certificate_files ca, other_ca;
    test::certificate_files fallback, exact, wildcard, localhost, expired;  // Servers.
    test::certificate_files client, stranger;                              // Clients.

    test_pki() {
        auto make = [&](std::string name, test::certificate_options o) {
            o.cert_name = name + ".pem";
            o.key_name = name + ".key";
            return test::make_test_certificate(dir.path(), o);
        };
        auto ca_options = [](std::string cn) {
            return test::certificate_options{.dns_names = {}, .ip_addresses = {}, .common_name = cn};
        };
        auto issued = [&](std::string cn, std::vector<std::string> dns, std::vector<std::string> ip = {},
                          const test::certificate_files* by = nullptr) {
            return test::certificate_options{.dns_names = std::move(dns),
                                             .ip_addresses = std::move(ip),
                                             .common_name = std::move(cn),
                                             .issuer = by ? by : &ca,
                                             .ca = false};
        };
        ca = make("ca", ca_options("tracegate test CA"));
        other_ca = make("other-ca", ca_options("some other CA"));
        fallback = make("fallback", issued("default.example.com", {"default.example.com"}));
        exact = make("exact", issued("b.example.com", {"b.example.com"}));
        wildcard = make("wildcard", issued("*.b.example.com", {"*.b.example.com"}));
        localhost = make("localhost", issued("localhost", {"localhost"}, {"127.0.0.1"}));
        auto old = issued("expired.example.com", {"expired.example.com"});
        old.not_before = -48h;
        old.not_after = -24h;
        expired = make("expired", old);
        auto c = issued("client one", {});
        c.organization = "Example";
        client = make("client", c);
        stranger = make("stranger", issued("stranger", {}, {}, &other_ca));
    }
};

const test_pki& pki() {
    static const test_pki instance;
    return instance;
}

// Config structs are filled field by field: GCC 12 warns about designated initializers
// that leave out a member without a default member initializer.

config::tls_certificate_config certificate(const test::certificate_files& f,
                                           std::vector<std::string> names = {}) {
    config::tls_certificate_config c;
    c.cert = f.cert_file;
    c.key = f.key_file;
    c.server_names = std::move(names);
    return c;
}

config::listener_tls_config listener(std::vector<config::tls_certificate_config> certificates) {
    config::listener_tls_config tls;
    tls.certificates = std::move(certificates);
    return tls;
}

/// Three certificates; the default is the second, the first one without names.
config::listener_tls_config sni_listener() {
    return listener({certificate(pki().exact, {"b.example.com"}), certificate(pki().fallback),
                     certificate(pki().wildcard, {"*.b.example.com"})});
}

config::listener_tls_config single(const test::certificate_files& f) { return listener({certificate(f)}); }

/// A plain asio client context, independent of make_client_context(): trusts the test CA,
/// TLS versions [min, max] (0: no limit).
std::shared_ptr<ssl::context> test_client(int min_version = TLS1_2_VERSION, int max_version = 0) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), min_version);
    SSL_CTX_set_max_proto_version(ctx->native_handle(), max_version);
    ctx->load_verify_file(pki().ca.cert_file);
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

void use_client_certificate(ssl::context& ctx, const test::certificate_files& f) {
    ctx.use_certificate_chain_file(f.cert_file);
    ctx.use_private_key_file(f.key_file, ssl::context::pem);
}

using client_setup = std::function<void(SSL*)>;

client_setup sni(std::string name) {
    return [name](SSL* ssl) { ASSERT_EQ(SSL_set_tlsext_host_name(ssl, name.c_str()), 1); };
}

client_setup offer_alpn(std::string wire) {
    return [wire](SSL* ssl) {
        ASSERT_EQ(SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                                      static_cast<unsigned>(wire.size())),
                  0);
    };
}

// --- loopback connections -------------------------------------------------------------

/// Both ends of one TLS connection.
struct connection {
    connection(net::io_context& ioc, ssl::context& server_ctx, ssl::context& client_ctx)
        : server(ioc, server_ctx), client(ioc, client_ctx) {}

    tls_stream server;
    tls_stream client;
    boost::system::error_code server_ec;  ///< The server's handshake.
    boost::system::error_code client_ec;  ///< The client's handshake.

    std::string server_kind() {
        return std::string(handshake_failure_kind(server_ec, server.native_handle()));
    }
    std::string client_kind() {
        return std::string(handshake_failure_kind(client_ec, client.native_handle()));
    }
    bool ok() const { return !server_ec && !client_ec; }

    /// CN of the certificate the server presented.
    std::string served_cn() {
        X509* cert = SSL_get0_peer_certificate(client.native_handle());
        if (!cert) return "(none)";
        std::array<char, 256> cn{};
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(), cn.size());
        return cn.data();
    }
    std::string alpn() {
        const unsigned char* data = nullptr;
        unsigned length = 0;
        SSL_get0_alpn_selected(client.native_handle(), &data, &length);
        return std::string(reinterpret_cast<const char*>(data), length);
    }
};

/// An acceptor on 127.0.0.1:0 and an io_context that runs each step to its end.
class loopback {
public:
    loopback() : acceptor_(ioc_, {net::ip::address_v4::loopback(), 0}) {}

    /// Connects, accepts and runs both handshakes to their ends; a side that fails
    /// closes its socket, so that the other ends too.
    std::unique_ptr<connection> connect(ssl::context& server_ctx, ssl::context& client_ctx,
                                        const client_setup& setup = {}) {
        auto c = std::make_unique<connection>(ioc_, server_ctx, client_ctx);
        if (setup) setup(c->client.native_handle());
        net::co_spawn(ioc_, accept(*c), net::detached);
        net::co_spawn(ioc_, dial(*c), net::detached);
        run();
        return c;
    }

    /// Client sends "ping", the server answers "pong" (which also delivers TLS 1.3
    /// session tickets). Returns the client's error; when the server's handshake failed,
    /// the client only reads, and gets the server's alert.
    boost::system::error_code round_trip(connection& c) {
        boost::system::error_code result;
        net::co_spawn(
            ioc_,
            [&]() -> net::awaitable<void> {
                std::array<char, 4> in{};
                if (!c.server_ec) {
                    auto [ec, n] = co_await net::async_write(c.client, net::buffer("ping", 4), tuple);
                    if (ec) {
                        result = ec;
                        co_return;
                    }
                }
                auto [ec, n] = co_await net::async_read(c.client, net::buffer(in), tuple);
                result = ec;
                if (!ec) {
                    EXPECT_EQ(std::string(in.data(), n), "pong");
                }
            },
            net::detached);
        if (!c.server_ec) {
            net::co_spawn(
                ioc_,
                [&]() -> net::awaitable<void> {
                    std::array<char, 4> in{};
                    auto [ec, n] = co_await net::async_read(c.server, net::buffer(in), tuple);
                    if (ec) co_return;
                    EXPECT_EQ(std::string(in.data(), n), "ping");
                    co_await net::async_write(c.server, net::buffer("pong", 4), tuple);
                },
                net::detached);
        }
        run();
        return result;
    }

    /// A connect and handshake followed by one round trip.
    std::unique_ptr<connection> exchange(ssl::context& server_ctx, ssl::context& client_ctx,
                                         const client_setup& setup = {}) {
        auto c = connect(server_ctx, client_ctx, setup);
        if (!c->client_ec) {
            const auto ec = round_trip(*c);
            if (!c->server_ec) {
                EXPECT_FALSE(ec) << ec.message();
            }
            // The failure a TLS 1.3 client learns only after its handshake (mTLS refusal).
            if (ec) c->client_ec = ec;
        }
        return c;
    }

    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
    tcp::acceptor& acceptor() { return acceptor_; }
    net::io_context& io() { return ioc_; }

    void run() {
        ioc_.restart();
        ioc_.run_for(5s);
        EXPECT_TRUE(ioc_.stopped()) << "a handshake or exchange did not end within 5 s";
    }

private:
    net::awaitable<void> accept(connection& c) {
        auto [ec] = co_await acceptor_.async_accept(c.server.next_layer(), tuple);
        if (!ec) std::tie(ec) = co_await c.server.async_handshake(ssl::stream_base::server, tuple);
        c.server_ec = ec;
        boost::system::error_code ignored;
        if (ec) c.server.next_layer().close(ignored);
    }
    net::awaitable<void> dial(connection& c) {
        auto [ec] = co_await c.client.next_layer().async_connect(acceptor_.local_endpoint(), tuple);
        if (!ec) std::tie(ec) = co_await c.client.async_handshake(ssl::stream_base::client, tuple);
        c.client_ec = ec;
        boost::system::error_code ignored;
        if (ec) c.client.next_layer().close(ignored);
    }

    net::io_context ioc_;
    tcp::acceptor acceptor_;
};

// --- server: certificate selection ----------------------------------------------------

TEST(tls_server_context, sni_selects_the_exact_certificate) {
    loopback net;
    auto server = make_server_context(sni_listener());
    auto client = test_client();
    for (auto name : {"b.example.com", "B.Example.COM", "b.example.com."}) {
        auto c = net.exchange(*server, *client, sni(name));
        ASSERT_TRUE(c->ok()) << name << ": " << c->server_ec.message() << " / " << c->client_ec.message();
        EXPECT_EQ(c->served_cn(), "b.example.com") << name;
    }
}

TEST(tls_server_context, sni_selects_the_wildcard_certificate_for_one_label_only) {
    loopback net;
    auto server = make_server_context(sni_listener());
    auto client = test_client();
    SSL_CTX_set_verify(client->native_handle(), SSL_VERIFY_NONE, nullptr);  // Names differ.
    auto c = net.exchange(*server, *client, sni("x.B.example.com"));
    ASSERT_TRUE(c->ok()) << c->client_ec.message();
    EXPECT_EQ(c->served_cn(), "*.b.example.com");
    for (auto name : {"y.x.b.example.com", "xb.example.com"}) {
        c = net.exchange(*server, *client, sni(name));
        ASSERT_TRUE(c->ok()) << name;
        EXPECT_EQ(c->served_cn(), "default.example.com") << name;
    }
}

TEST(tls_server_context, no_sni_gets_the_first_certificate_without_names) {
    loopback net;
    auto server = make_server_context(sni_listener());
    auto c = net.exchange(*server, *test_client());
    ASSERT_TRUE(c->ok()) << c->client_ec.message();
    EXPECT_EQ(c->served_cn(), "default.example.com");
}

TEST(tls_server_context, unknown_sni_gets_the_default_certificate) {
    loopback net;
    auto server = make_server_context(sni_listener());
    auto c = net.exchange(*server, *test_client(), sni("unknown.example.org"));
    ASSERT_TRUE(c->ok()) << c->client_ec.message();
    EXPECT_EQ(c->served_cn(), "default.example.com");
}

TEST(tls_server_context, when_every_certificate_has_names_the_first_is_the_default) {
    loopback net;
    auto server = make_server_context(listener(
        {certificate(pki().wildcard, {"*.b.example.com"}), certificate(pki().exact, {"b.example.com"})}));
    auto client = test_client();
    SSL_CTX_set_verify(client->native_handle(), SSL_VERIFY_NONE, nullptr);
    auto c = net.exchange(*server, *client);
    ASSERT_TRUE(c->ok());
    EXPECT_EQ(c->served_cn(), "*.b.example.com");
    c = net.exchange(*server, *client, sni("b.example.com"));
    ASSERT_TRUE(c->ok());
    EXPECT_EQ(c->served_cn(), "b.example.com");
}

// --- server: versions and ALPN --------------------------------------------------------

TEST(tls_server_context, serves_tls_1_2_and_1_3) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
        auto c = net.exchange(*server, *test_client(version, version));
        ASSERT_TRUE(c->ok()) << version << ": " << c->server_ec.message();
        EXPECT_EQ(SSL_version(c->client.native_handle()), version);
    }
    auto c = net.exchange(*server, *test_client());
    EXPECT_EQ(SSL_version(c->client.native_handle()), TLS1_3_VERSION) << "the highest is chosen";
}

TEST(tls_server_context, min_version_1_3_refuses_a_tls_1_2_client) {
    loopback net;
    auto tls = single(pki().localhost);
    tls.min_version = config::tls_version::v1_3;
    auto server = make_server_context(tls);
    auto c = net.exchange(*server, *test_client(TLS1_2_VERSION, TLS1_2_VERSION));
    EXPECT_TRUE(c->server_ec);
    EXPECT_TRUE(c->client_ec);
    EXPECT_EQ(c->server_kind(), "protocol_version") << c->server_ec.message();
    EXPECT_EQ(c->client_kind(), "protocol_version") << c->client_ec.message();
}

// OpenSSL 3.0 still speaks TLS 1.1 at security level 0 (its SHA-1/MD5 signatures are
// refused above that), so an in-process client can send a real TLS 1.1 ClientHello.
TEST(tls_server_context, tls_1_1_is_refused_by_every_server_context) {
    loopback net;
    auto client = test_client(TLS1_1_VERSION, TLS1_1_VERSION);
    SSL_CTX_set_security_level(client->native_handle(), 0);
    ASSERT_EQ(SSL_CTX_set_cipher_list(client->native_handle(), "DEFAULT:@SECLEVEL=0"), 1);
    for (auto version : {config::tls_version::v1_2, config::tls_version::v1_3}) {
        auto tls = single(pki().localhost);
        tls.min_version = version;
        auto server = make_server_context(tls);
        auto c = net.exchange(*server, *client);
        EXPECT_TRUE(c->server_ec);
        EXPECT_EQ(c->server_kind(), "protocol_version") << c->server_ec.message();
        EXPECT_EQ(c->client_kind(), "protocol_version") << c->client_ec.message();
    }
}

TEST(tls_server_context, alpn_selects_http_1_1) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    auto client = test_client();
    auto c = net.exchange(*server, *client, offer_alpn(std::string("\x02h2\x08http/1.1", 12)));
    ASSERT_TRUE(c->ok());
    EXPECT_EQ(c->alpn(), "http/1.1");
    c = net.exchange(*server, *client);
    ASSERT_TRUE(c->ok()) << "no ALPN offered: served anyway";
    EXPECT_EQ(c->alpn(), "");
}

TEST(tls_server_context, alpn_without_http_1_is_refused_like_nginx) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    auto c = net.exchange(*server, *test_client(), offer_alpn(std::string("\x02h2", 3)));
    EXPECT_EQ(c->server_kind(), "no_application_protocol") << c->server_ec.message();
    EXPECT_EQ(c->client_kind(), "no_application_protocol") << c->client_ec.message();
}

TEST(tls_server_context, plain_http_and_an_early_close_are_named) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    for (auto [bytes, kind] : {std::pair{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not_tls"},
                               std::pair{"", "eof"}}) {
        tls_stream s(net.io(), *server);
        boost::system::error_code server_ec;
        net::co_spawn(
            net.io(),
            [&]() -> net::awaitable<void> {
                auto [ec] = co_await net.acceptor().async_accept(s.next_layer(), tuple);
                if (!ec) std::tie(ec) = co_await s.async_handshake(ssl::stream_base::server, tuple);
                server_ec = ec;
            },
            net::detached);
        tcp::socket plain(net.io());
        net::co_spawn(
            net.io(),
            [&]() -> net::awaitable<void> {
                co_await plain.async_connect(net.endpoint(), tuple);
                co_await net::async_write(plain, net::buffer(std::string(bytes)), tuple);
                plain.shutdown(tcp::socket::shutdown_send);
            },
            net::detached);
        net.run();
        EXPECT_EQ(handshake_failure_kind(server_ec, s.native_handle()), kind) << server_ec.message();
    }
}

// --- server: client certificates ------------------------------------------------------

config::listener_tls_config mtls_listener() {
    auto tls = sni_listener();
    tls.client_ca = pki().ca.cert_file;
    return tls;
}

TEST(tls_server_context, mtls_accepts_a_certificate_from_the_ca_and_names_its_subject) {
    loopback net;
    auto server = make_server_context(mtls_listener());
    auto client = test_client();
    use_client_certificate(*client, pki().client);
    // The default certificate's context and one chosen by SNI both verify clients.
    for (auto name : {"", "b.example.com"}) {
        auto c = net.exchange(*server, *client, *name ? sni(name) : client_setup{});
        ASSERT_TRUE(c->ok()) << name << ": " << c->server_ec.message();
        EXPECT_EQ(peer_certificate_subject(c->server.native_handle()), "CN=client one,O=Example");
    }
}

TEST(tls_server_context, mtls_refuses_a_client_without_a_certificate) {
    loopback net;
    auto server = make_server_context(mtls_listener());
    // TLS 1.3: the client's handshake ends before the server has checked; the refusal
    // arrives as a certificate_required alert on its first read. TLS 1.2: a generic
    // handshake_failure alert ends the client's handshake.
    for (auto [version, client_kind] : {std::pair{TLS1_3_VERSION, "certificate_required"},
                                        std::pair{TLS1_2_VERSION, "handshake_failure"}}) {
        auto c = net.exchange(*server, *test_client(version, version), sni("b.example.com"));
        EXPECT_EQ(c->server_kind(), "certificate_required") << version << ": " << c->server_ec.message();
        EXPECT_EQ(c->client_kind(), client_kind) << version << ": " << c->client_ec.message();
    }
}

TEST(tls_server_context, mtls_refuses_a_certificate_from_another_ca) {
    loopback net;
    auto server = make_server_context(mtls_listener());
    auto client = test_client();
    use_client_certificate(*client, pki().stranger);
    auto c = net.exchange(*server, *client);
    EXPECT_EQ(c->server_kind(), "unknown_ca") << c->server_ec.message();
    EXPECT_EQ(c->client_kind(), "unknown_ca") << c->client_ec.message();
    EXPECT_EQ(peer_certificate_subject(c->server.native_handle()), "");
}

TEST(tls_server_context, no_subject_without_mtls) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    auto client = test_client();
    use_client_certificate(*client, pki().client);  // Not asked for, so not sent.
    auto c = net.exchange(*server, *client);
    ASSERT_TRUE(c->ok());
    EXPECT_EQ(peer_certificate_subject(c->server.native_handle()), "");
}

// --- server: resumption and rotation --------------------------------------------------

struct session_deleter {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

client_setup resume(SSL_SESSION* session, std::string name) {
    return [session, name](SSL* ssl) {
        ASSERT_EQ(SSL_set_session(ssl, session), 1);
        ASSERT_EQ(SSL_set_tlsext_host_name(ssl, name.c_str()), 1);
    };
}

TEST(tls_server_context, sessions_resume_with_tickets_and_the_session_cache) {
    loopback net;
    auto server = make_server_context(mtls_listener());
    struct variant {
        int version;
        bool tickets;
    };
    for (auto [version, tickets] : {variant{TLS1_2_VERSION, true}, variant{TLS1_2_VERSION, false},
                                    variant{TLS1_3_VERSION, true}}) {
        SCOPED_TRACE(testing::Message() << "version " << std::hex << version << " tickets " << tickets);
        auto client = test_client(version, version);
        use_client_certificate(*client, pki().client);
        if (!tickets) SSL_CTX_set_options(client->native_handle(), SSL_OP_NO_TICKET);
        auto first = net.exchange(*server, *client, sni("b.example.com"));
        ASSERT_TRUE(first->ok()) << first->server_ec.message();
        EXPECT_FALSE(SSL_session_reused(first->server.native_handle()));
        session_ptr session(SSL_get1_session(first->client.native_handle()));
        ASSERT_TRUE(session);

        auto second = net.exchange(*server, *client, resume(session.get(), "b.example.com"));
        ASSERT_TRUE(second->ok()) << second->server_ec.message();
        EXPECT_TRUE(SSL_session_reused(second->client.native_handle()));
        EXPECT_TRUE(SSL_session_reused(second->server.native_handle()));
        EXPECT_EQ(second->served_cn(), "b.example.com");
        EXPECT_EQ(peer_certificate_subject(second->server.native_handle()), "CN=client one,O=Example")
            << "a resumed session keeps the verified client certificate";
    }
}

TEST(tls_server_context, a_new_context_serves_new_certificates_while_old_connections_go_on) {
    loopback net;
    test::temp_dir dir;
    auto issue = [&](std::string cn) {
        return test::make_test_certificate(
            dir.path(), {.dns_names = {"localhost"}, .common_name = cn, .issuer = &pki().ca, .ca = false});
    };
    const auto files = issue("before rotation");
    auto old_server = make_server_context(single(files));
    auto client = test_client();
    auto old_connection = net.exchange(*old_server, *client);
    ASSERT_TRUE(old_connection->ok());
    EXPECT_EQ(old_connection->served_cn(), "before rotation");
    session_ptr old_session(SSL_get1_session(old_connection->client.native_handle()));

    // SIGHUP: the same paths now hold a new key pair; the old context is dropped.
    issue("after rotation");
    auto new_server = make_server_context(single(files));
    old_server.reset();

    auto fresh = net.exchange(*new_server, *client);
    ASSERT_TRUE(fresh->ok());
    EXPECT_EQ(fresh->served_cn(), "after rotation");
    EXPECT_FALSE(net.round_trip(*old_connection)) << "the old connection still works";
    EXPECT_FALSE(net.round_trip(*old_connection));

    // A session from before does not resume on the new context (new ticket keys and
    // cache), but the full handshake that replaces it succeeds.
    auto resumed = net.exchange(*new_server, *client, resume(old_session.get(), "localhost"));
    ASSERT_TRUE(resumed->ok());
    EXPECT_FALSE(SSL_session_reused(resumed->client.native_handle()));
    EXPECT_EQ(resumed->served_cn(), "after rotation");
}

TEST(tls_server_context, a_handshake_begun_before_a_reload_keeps_the_old_sni_table) {
    loopback net;
    auto server = make_server_context(sni_listener());
    auto client = test_client();
    // The session made its SSL from the old context, then the reload dropped the context
    // before the ClientHello arrived: the SNI callback must still find its table.
    auto c = std::make_unique<connection>(net.io(), *server, *client);
    server.reset();
    SSL_set_tlsext_host_name(c->client.native_handle(), "b.example.com");
    tcp::acceptor acceptor(net.io(), {net::ip::address_v4::loopback(), 0});
    net::co_spawn(
        net.io(),
        [&]() -> net::awaitable<void> {
            auto [ec] = co_await acceptor.async_accept(c->server.next_layer(), tuple);
            if (!ec) std::tie(ec) = co_await c->server.async_handshake(ssl::stream_base::server, tuple);
            c->server_ec = ec;
        },
        net::detached);
    net::co_spawn(
        net.io(),
        [&]() -> net::awaitable<void> {
            auto [ec] = co_await c->client.next_layer().async_connect(acceptor.local_endpoint(), tuple);
            if (!ec) std::tie(ec) = co_await c->client.async_handshake(ssl::stream_base::client, tuple);
            c->client_ec = ec;
        },
        net::detached);
    net.run();
    ASSERT_TRUE(c->ok()) << c->server_ec.message() << " / " << c->client_ec.message();
    EXPECT_EQ(c->served_cn(), "b.example.com");
}

// --- server: configuration errors -----------------------------------------------------

std::string server_error(const config::listener_tls_config& tls) {
    try {
        make_server_context(tls);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(no error)";
}

testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "\"" << text << "\" lacks \"" << part << "\"";
}

TEST(tls_server_context, errors_name_the_file_and_the_reason) {
    test::temp_dir dir;
    const auto missing = dir.path() + "/missing.pem";
    auto e = server_error(single({missing, pki().exact.key_file}));
    EXPECT_TRUE(contains(e, "cannot read certificate " + missing + ": No such file or directory"));

    const auto garbage = dir.write("garbage.pem", "not a certificate\n");
    e = server_error(single({garbage, pki().exact.key_file}));
    EXPECT_TRUE(contains(e, "cannot load certificate " + garbage + ": no start line"));

    e = server_error(listener({certificate(pki().fallback),
                               certificate({pki().exact.cert_file, pki().wildcard.key_file})}));
    EXPECT_TRUE(contains(e, "private key " + pki().wildcard.key_file + " for certificate " +
                                pki().exact.cert_file + ": key values mismatch"));

    e = server_error(single(pki().expired));
    EXPECT_TRUE(contains(e, "certificate " + pki().expired.cert_file + " expired on "));

    auto tls = single(pki().localhost);
    tls.client_ca = missing;
    EXPECT_TRUE(contains(server_error(tls), "cannot read client_ca " + missing));
    tls.client_ca = garbage;
    EXPECT_TRUE(contains(server_error(tls), "client_ca " + garbage));

    EXPECT_TRUE(contains(server_error({}), "no certificate"));
}

// --- client ---------------------------------------------------------------------------

config::upstream_tls_config upstream(std::optional<std::string> server_name = std::nullopt) {
    config::upstream_tls_config tls;
    tls.server_name = std::move(server_name);
    tls.ca_file = pki().ca.cert_file;
    return tls;
}

client_setup prepared(const config::upstream_tls_config& tls, std::string host) {
    return [tls, host](SSL* ssl) { ASSERT_TRUE(prepare_client_stream(ssl, tls, host)); };
}

TEST(tls_client_context, verifies_with_the_ca_file_and_the_endpoint_host) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    const auto tls = upstream();
    auto client = make_client_context(tls);
    for (auto host : {"localhost", "127.0.0.1", "LOCALHOST."}) {
        auto c = net.exchange(*server, *client, prepared(tls, host));
        ASSERT_TRUE(c->ok()) << host << ": " << c->client_ec.message();
        EXPECT_EQ(c->alpn(), "http/1.1");
        EXPECT_EQ(peer_certificate_subject(c->client.native_handle()), "CN=localhost");
    }
}

TEST(tls_client_context, server_name_is_the_sni_sent_and_the_name_checked) {
    loopback net;
    auto server = make_server_context(sni_listener());
    const auto tls = upstream("b.example.com");
    auto c = net.exchange(*server, *make_client_context(tls), prepared(tls, "127.0.0.1"));
    ASSERT_TRUE(c->ok()) << c->client_ec.message();
    EXPECT_EQ(c->served_cn(), "b.example.com");
    EXPECT_STREQ(SSL_get_servername(c->server.native_handle(), TLSEXT_NAMETYPE_host_name), "b.example.com");
}

TEST(tls_client_context, no_sni_for_an_ip_literal) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    const auto tls = upstream();
    auto c = net.exchange(*server, *make_client_context(tls), prepared(tls, "127.0.0.1"));
    ASSERT_TRUE(c->ok());
    EXPECT_EQ(SSL_get_servername(c->server.native_handle(), TLSEXT_NAMETYPE_host_name), nullptr);
}

TEST(tls_client_context, an_unknown_ca_fails_verification) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    auto tls = upstream();
    tls.ca_file = pki().other_ca.cert_file;
    auto c = net.exchange(*server, *make_client_context(tls), prepared(tls, "localhost"));
    EXPECT_TRUE(c->client_ec);
    EXPECT_EQ(c->client_kind(), "unknown_ca") << c->client_ec.message();
    EXPECT_EQ(c->server_kind(), "unknown_ca") << "the client's alert: " << c->server_ec.message();
}

TEST(tls_client_context, the_system_store_does_not_trust_a_private_ca) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    const config::upstream_tls_config tls{};
    auto c = net.exchange(*server, *make_client_context(tls), prepared(tls, "localhost"));
    EXPECT_EQ(c->client_kind(), "unknown_ca") << c->client_ec.message();
}

TEST(tls_client_context, a_wrong_host_name_fails_verification) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    const auto by_name = upstream("wrong.example.com");
    auto c = net.exchange(*server, *make_client_context(by_name), prepared(by_name, "127.0.0.1"));
    EXPECT_EQ(c->client_kind(), "hostname_mismatch") << c->client_ec.message();
    EXPECT_EQ(handshake_failure_kind(c->client_ec), "bad_certificate") << "without the SSL";

    auto ip_server = make_server_context(single(pki().fallback));  // No IP address in it.
    const auto by_ip = upstream();
    c = net.exchange(*ip_server, *make_client_context(by_ip), prepared(by_ip, "127.0.0.1"));
    EXPECT_EQ(c->client_kind(), "hostname_mismatch") << c->client_ec.message();
}

TEST(tls_client_context, an_expired_server_certificate_fails_verification) {
    loopback net;
    // make_server_context refuses expired files; a server configured elsewhere may not.
    ssl::context server(ssl::context::tls_server);
    use_client_certificate(server, pki().expired);
    const auto tls = upstream();
    auto c = net.exchange(server, *make_client_context(tls), prepared(tls, "expired.example.com"));
    EXPECT_EQ(c->client_kind(), "certificate_expired") << c->client_ec.message();
    EXPECT_EQ(c->server_kind(), "certificate_expired") << c->server_ec.message();
}

TEST(tls_client_context, verify_false_connects_anyway) {
    loopback net;
    auto server = make_server_context(single(pki().localhost));
    auto tls = upstream("wrong.example.com");
    tls.ca_file.reset();
    tls.verify = false;
    auto c = net.exchange(*server, *make_client_context(tls), prepared(tls, "127.0.0.1"));
    ASSERT_TRUE(c->ok()) << c->client_ec.message();
    EXPECT_EQ(c->served_cn(), "localhost");
    EXPECT_EQ(peer_certificate_subject(c->client.native_handle()), "") << "not verified";
}

TEST(tls_client_context, presents_the_client_certificate) {
    loopback net;
    auto listener = single(pki().localhost);
    listener.client_ca = pki().ca.cert_file;
    auto server = make_server_context(listener);
    auto tls = upstream();
    tls.cert = pki().client.cert_file;
    tls.key = pki().client.key_file;
    auto c = net.exchange(*server, *make_client_context(tls), prepared(tls, "localhost"));
    ASSERT_TRUE(c->ok()) << c->server_ec.message();
    EXPECT_EQ(peer_certificate_subject(c->server.native_handle()), "CN=client one,O=Example");
}

TEST(tls_client_context, errors_name_the_file) {
    test::temp_dir dir;
    const auto missing = dir.path() + "/missing.pem";
    auto error = [](const config::upstream_tls_config& tls) -> std::string {
        try {
            make_client_context(tls);
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "(no error)";
    };
    auto with = [](std::function<void(config::upstream_tls_config&)> change) {
        config::upstream_tls_config tls;
        change(tls);
        return tls;
    };
    const auto missing_ca = with([&](auto& t) { t.ca_file = missing; });
    EXPECT_TRUE(contains(error(missing_ca), "cannot read ca_file " + missing));
    EXPECT_TRUE(contains(error(with([&](auto& t) {
                             t.cert = missing;
                             t.key = pki().client.key_file;
                         })),
                         "cannot read certificate " + missing));
    EXPECT_TRUE(contains(error(with([&](auto& t) {
                             t.cert = pki().client.cert_file;
                             t.key = pki().stranger.key_file;
                         })),
                         "key values mismatch"));
    auto unverified = missing_ca;
    unverified.verify = false;
    EXPECT_EQ(error(unverified), "(no error)") << "nothing to verify with";
}

TEST(tls_client_context, prepare_refuses_names_openssl_cannot_send) {
    ssl::context ctx(ssl::context::tls_client);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.native_handle()), SSL_free);
    EXPECT_FALSE(prepare_client_stream(ssl.get(), {}, ""));
    EXPECT_FALSE(prepare_client_stream(ssl.get(), {}, std::string(300, 'a')));
    EXPECT_TRUE(prepare_client_stream(ssl.get(), {}, "[::1]"));
    EXPECT_TRUE(prepare_client_stream(ssl.get(), {}, "example.com"));
}

// --- classification -------------------------------------------------------------------

TEST(handshake_failure_kind, names_transport_outcomes) {
    EXPECT_EQ(handshake_failure_kind(boost::beast::error::timeout), "timeout");
    EXPECT_EQ(handshake_failure_kind(net::error::timed_out), "timeout");
    EXPECT_EQ(handshake_failure_kind(net::error::operation_aborted), "timeout");
    EXPECT_EQ(handshake_failure_kind(net::error::eof), "eof");
    EXPECT_EQ(handshake_failure_kind(net::error::connection_reset), "eof");
    EXPECT_EQ(handshake_failure_kind(ssl::error::stream_truncated), "eof");
    EXPECT_EQ(handshake_failure_kind(net::error::host_unreachable), "other");
}

}  // namespace
}  // namespace tracegate::proxy
