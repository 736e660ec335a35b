#include "proxy/tls_context.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace tracegate::proxy {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;

// Mozilla's "intermediate" TLS 1.2 suites without the DHE ones: ECDHE key exchange and
// AEAD only. TLS 1.3 keeps OpenSSL's default suites (all AEAD, all forward secret).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// RFC 7301 3.1 wire format: length-prefixed protocol names, in our preference order.
// http/1.0 as nginx accepts it: Beast serves it.
constexpr unsigned char server_alpn[] = "\x08http/1.1\x08http/1.0";
constexpr unsigned char client_alpn[] = "\x08http/1.1";

// Sessions are cached per context and tickets are encrypted with per-context keys, so a
// session never resumes across listeners or across a reload; the id only has to be set
// (OpenSSL refuses to resume without one when client certificates are verified).
constexpr unsigned char session_id_context[] = "tracegate";

/// OpenSSL's earliest queued reason (the most specific one), then clears the queue.
std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    std::string text = "unknown OpenSSL error";
    if (code != 0) {
        if (const char* reason = ERR_reason_error_string(code)) {
            text = reason;
        } else {
            char buffer[256];
            ERR_error_string_n(code, buffer, sizeof buffer);
            text = buffer;
        }
    }
    ERR_clear_error();
    return text;
}

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + openssl_reason());
}

/// Names an unreadable file with errno's text, which says more than OpenSSL's "system lib".
void require_readable(const std::string& file, const char* role) {
    if (std::ifstream(file).good()) return;
    throw std::runtime_error(std::string("cannot read ") + role + " " + file + ": " + std::strerror(errno));
}

std::string asn1_time_text(const ASN1_TIME* time) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio) return "?";
    ASN1_TIME_print(bio, time);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string text(data, size > 0 ? static_cast<std::size_t>(size) : 0);
    BIO_free(bio);
    return text;
}

/// Loads `cert` (with its chain) and `key` into `ctx` and checks that they belong
/// together and that the certificate is still valid.
void load_key_pair(SSL_CTX* ctx, const std::string& cert, const std::string& key) {
    require_readable(cert, "certificate");
    require_readable(key, "private key");
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
        fail("cannot load certificate " + cert);
    // OpenSSL already compares the key with the certificate here ("key values mismatch").
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
        fail("cannot load private key " + key + " for certificate " + cert);
    if (SSL_CTX_check_private_key(ctx) != 1)
        fail("private key " + key + " does not match certificate " + cert);
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    if (leaf && X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
        throw std::runtime_error("certificate " + cert + " expired on " +
                                 asn1_time_text(X509_get0_notAfter(leaf)));
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// --- server ---------------------------------------------------------------------------

/// RFC 7301 3.2: pick our first protocol the client offers; none in common is fatal
/// (no_application_protocol), as nginx does since 1.21.4: a client that asked only for h2
/// would not understand an HTTP/1.1 answer, and strict ALPN closes cross-protocol attacks
/// (ALPACA). A client that sends no ALPN never gets here and is served HTTP/1.1.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void*) {
    unsigned char* selected = nullptr;
    unsigned char selected_length = 0;
    if (SSL_select_next_proto(&selected, &selected_length, server_alpn, sizeof server_alpn - 1,
                              offered, offered_length) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = selected;
    *out_length = selected_length;
    return SSL_TLSEXT_ERR_OK;
}

/// Everything but the key pair, identical on every per-certificate context: after SNI
/// switches an SSL to another SSL_CTX, OpenSSL reads ALPN, the verify store and the
/// client CA list from the new one.
void configure_server(SSL_CTX* ctx, const config::listener_tls_config& tls) {
    SSL_CTX_set_min_proto_version(
        ctx, tls.min_version == config::tls_version::v1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, 0);  // The highest OpenSSL knows.
    // No compression (CRIME); no client-initiated renegotiation (a cheap CPU DoS).
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // Idle keep-alive connections give their 34 KiB of record buffers back, as nginx does.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) fail("cannot set the TLS 1.2 ciphers");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(ctx, session_id_context, sizeof session_id_context - 1);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);

    if (!tls.client_ca) return;
    const std::string& ca = *tls.client_ca;
    require_readable(ca, "client_ca");
    if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1)
        fail("cannot load client_ca " + ca);
    // The CA names sent in CertificateRequest, so that a client picks the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (!names) fail("no CA certificate in client_ca " + ca);
    SSL_CTX_set_client_CA_list(ctx, names);  // Takes ownership.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
}

/// The certificates chosen by SNI. Lives in the main SSL_CTX's ex_data, so it lasts as
/// long as OpenSSL's last reference to that context (every SSL made from it holds one),
/// not merely as long as the asio object.
struct sni_table {
    /// Lowercase exact name -> context; nullptr: the main (default) context.
    std::unordered_map<std::string, SSL_CTX*> exact;
    /// "b.example.com" for "*.b.example.com" -> context; nullptr: the main context.
    std::unordered_map<std::string, SSL_CTX*> wildcard;
    std::vector<SSL_CTX*> owned;  ///< One reference each.

    sni_table() = default;
    sni_table(const sni_table&) = delete;
    sni_table& operator=(const sni_table&) = delete;
    ~sni_table() {
        for (SSL_CTX* ctx : owned) SSL_CTX_free(ctx);
    }

    /// The context for `name` (an SNI host name), or nullptr for the default.
    SSL_CTX* find(std::string_view name) const {
        if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // "example.com."
        const std::string key = lowercase(name);
        if (auto it = exact.find(key); it != exact.end()) return it->second;
        // One label only: "x.b.example.com" looks up "b.example.com"; the leading label
        // must not be empty.
        const auto dot = key.find('.');
        if (dot == std::string::npos || dot == 0) return nullptr;
        if (auto it = wildcard.find(key.substr(dot + 1)); it != wildcard.end()) return it->second;
        return nullptr;
    }
};

void free_sni_table(void*, void* table, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<sni_table*>(table);
}

int sni_table_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_sni_table);
    return index;
}

/// RFC 6066 3: switch to the certificate's context for the name asked; an unknown or
/// absent name keeps the default. Never refuses: a client that sent a name we do not
/// know may still accept the default certificate (nginx does the same).
int select_certificate(SSL* ssl, int* alert, void* arg) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_NOACK;
    SSL_CTX* target = static_cast<const sni_table*>(arg)->find(name);
    if (target && SSL_set_SSL_CTX(ssl, target) == nullptr) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

std::size_t default_certificate(const std::vector<config::tls_certificate_config>& certificates) {
    for (std::size_t i = 0; i < certificates.size(); ++i)
        if (certificates[i].server_names.empty()) return i;
    return 0;
}

// --- classification -------------------------------------------------------------------

std::string_view verify_failure_kind(long result) {
    switch (result) {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return "unknown_ca";
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return "hostname_mismatch";
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return "certificate_expired";
        default:
            return "bad_certificate";
    }
}

}  // namespace

std::shared_ptr<ssl::context> make_server_context(const config::listener_tls_config& tls) {
    if (tls.certificates.empty()) throw std::runtime_error("tls: no certificate configured");
    ERR_clear_error();
    const std::size_t default_index = default_certificate(tls.certificates);

    auto main = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* main_ctx = main->native_handle();
    configure_server(main_ctx, tls);
    const auto& fallback = tls.certificates[default_index];
    load_key_pair(main_ctx, fallback.cert, fallback.key);
    if (tls.certificates.size() == 1) return main;

    auto table = std::make_unique<sni_table>();
    for (std::size_t i = 0; i < tls.certificates.size(); ++i) {
        const auto& certificate = tls.certificates[i];
        SSL_CTX* ctx = nullptr;
        if (i != default_index) {
            ctx = SSL_CTX_new(TLS_server_method());
            if (!ctx) fail("cannot make a TLS context");
            table->owned.push_back(ctx);
            configure_server(ctx, tls);
            load_key_pair(ctx, certificate.cert, certificate.key);
        }
        // Earlier certificates win a name listed twice (emplace keeps the first).
        for (const auto& name : certificate.server_names) {
            std::string key = lowercase(name);
            if (key.starts_with("*."))
                table->wildcard.emplace(key.substr(2), ctx);
            else
                table->exact.emplace(std::move(key), ctx);
        }
    }
    if (SSL_CTX_set_ex_data(main_ctx, sni_table_index(), table.get()) != 1)
        fail("cannot attach the SNI table");
    sni_table* attached = table.release();  // Owned by main_ctx from here on.
    SSL_CTX_set_tlsext_servername_callback(main_ctx, select_certificate);
    SSL_CTX_set_tlsext_servername_arg(main_ctx, attached);
    return main;
}

std::shared_ptr<ssl::context> make_client_context(const config::upstream_tls_config& tls) {
    ERR_clear_error();
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX* ctx = context->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    // Returns 0 on success, unlike the rest of OpenSSL.
    if (SSL_CTX_set_alpn_protos(ctx, client_alpn, sizeof client_alpn - 1) != 0)
        fail("cannot set the ALPN offer");

    if (tls.verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        if (tls.ca_file) {
            require_readable(*tls.ca_file, "ca_file");
            if (SSL_CTX_load_verify_locations(ctx, tls.ca_file->c_str(), nullptr) != 1)
                fail("cannot load ca_file " + *tls.ca_file);
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            fail("cannot load the system CA store");
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }

    if (tls.cert || tls.key) {
        // One PEM holding both is common: either path stands for the other.
        load_key_pair(ctx, tls.cert ? *tls.cert : *tls.key, tls.key ? *tls.key : *tls.cert);
    }
    return context;
}

bool prepare_client_stream(SSL* ssl, const config::upstream_tls_config& tls,
                           std::string_view endpoint_host) {
    std::string_view name = tls.server_name ? std::string_view(*tls.server_name) : endpoint_host;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
        name = name.substr(1, name.size() - 2);
    std::string host(name);
    boost::system::error_code not_ip;
    net::ip::make_address(host, not_ip);
    const bool is_ip = !not_ip;
    if (!is_ip && !host.empty() && host.back() == '.') host.pop_back();  // RFC 6066 3: no dot.

    if (!is_ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
        ERR_clear_error();
        return false;
    }
    if (!tls.verify) return true;
    bool ok;
    if (is_ip) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    } else {
        // "*.example.com" yes, "w*.example.com" no: RFC 6125 6.4.3 leaves partial
        // wildcards to the client, and browsers refuse them.
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = SSL_set1_host(ssl, host.c_str()) == 1;
    }
    if (!ok) ERR_clear_error();
    return ok;
}

std::string peer_certificate_subject(const SSL* ssl) {
    X509* cert = ssl ? SSL_get0_peer_certificate(ssl) : nullptr;
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return {};
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio) return {};
    // RFC 2253 order and escaping, but UTF-8 kept as is rather than \XX-escaped: the
    // subject ends up in span tags, read by people.
    constexpr unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    std::string subject;
    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, flags) >= 0) {
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        if (size > 0) subject.assign(data, static_cast<std::size_t>(size));
    }
    BIO_free(bio);
    return subject;
}

std::string_view handshake_failure_kind(const boost::system::error_code& ec, const SSL* ssl) {
    if (ec == boost::beast::error::timeout || ec == net::error::timed_out ||
        ec == net::error::operation_aborted)
        return "timeout";
    if (ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::connection_aborted || ec == net::error::broken_pipe ||
        ec == ssl::error::stream_truncated || ec == ssl::error::unspecified_system_error)
        return "eof";
    if (ec.category() != net::error::get_ssl_category()) return "other";

    const auto code = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
    if (ERR_GET_LIB(code) != ERR_LIB_SSL) return "other";
    switch (ERR_GET_REASON(code)) {
        case SSL_R_UNEXPECTED_EOF_WHILE_READING:
            return "eof";
        case SSL_R_UNSUPPORTED_PROTOCOL:
        case SSL_R_NO_PROTOCOLS_AVAILABLE:
        case SSL_R_VERSION_TOO_LOW:
        case SSL_R_VERSION_TOO_HIGH:
        case SSL_R_WRONG_SSL_VERSION:
        case SSL_R_UNKNOWN_PROTOCOL:
        case SSL_R_INAPPROPRIATE_FALLBACK:
        case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        case SSL_R_TLSV1_ALERT_INAPPROPRIATE_FALLBACK:
            return "protocol_version";
        case SSL_R_NO_SHARED_CIPHER:
        case SSL_R_NO_CIPHERS_AVAILABLE:
        case SSL_R_NO_SHARED_GROUPS:
        case SSL_R_NO_SUITABLE_GROUPS:
        case SSL_R_NO_SUITABLE_KEY_SHARE:
        case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
        case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
        case SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY:
            return "no_shared_cipher";
        case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
            return "handshake_failure";
        case SSL_R_NO_APPLICATION_PROTOCOL:
        case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
            return "no_application_protocol";
        case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        case SSL_R_SSLV3_ALERT_NO_CERTIFICATE:
            return "certificate_required";
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
            return "unknown_ca";
        case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
            return "certificate_expired";
        case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
        case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
            return "bad_certificate";
        case SSL_R_CERTIFICATE_VERIFY_FAILED:
            return ssl ? verify_failure_kind(SSL_get_verify_result(ssl)) : "bad_certificate";
        case SSL_R_HTTP_REQUEST:
        case SSL_R_HTTPS_PROXY_REQUEST:
        case SSL_R_WRONG_VERSION_NUMBER:  // The first bytes were not a TLS record.
            return "not_tls";
        default:
            return "other";
    }
}

}  // namespace tracegate::proxy
