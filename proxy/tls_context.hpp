// OpenSSL contexts for HTTPS: the listener side (certificates chosen by SNI, ALPN
// http/1.1, session resumption, optional client certificates) and the client side used
// for upstreams and collectors (verification on by default, SNI, host name checks).
// Contexts are built once per config snapshot; a reload builds new ones while
// connections in progress keep theirs.
#pragma once

#include "config/config.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace tracegate::proxy {

/// A listener's TLS server context. TLS 1.2 or 1.3 (`min_version`), never 1.0/1.1;
/// ECDHE-only AEAD suites for 1.2, OpenSSL's defaults for 1.3; session cache and tickets
/// on; client-initiated renegotiation off. SNI picks a certificate by exact name, then by
/// one wildcard label ("*.b.example.com" matches "x.b.example.com" only), ignoring case;
/// otherwise the default (the first certificate without server_names, else the first).
/// ALPN: "http/1.1" (or "http/1.0") when offered; a client offering only other protocols
/// (h2 alone) is refused with a no_application_protocol alert, as nginx does (RFC 7301
/// 3.2); a client sending no ALPN is served HTTP/1.1. With `client_ca`, a client
/// certificate verified by it is required (mTLS).
/// Every SSL made from the context keeps everything it needs alive (the per-certificate
/// contexts hang off the returned one's OpenSSL ex_data, and OpenSSL counts references),
/// so the returned pointer may be dropped on reload while handshakes still run.
/// Throws std::runtime_error naming the file and OpenSSL's reason when a file cannot be
/// read, a key does not match its certificate, or a certificate has expired.
std::shared_ptr<boost::asio::ssl::context> make_server_context(const config::listener_tls_config& tls);

/// A client context for upstreams and collectors: TLS 1.2+, ALPN offer "http/1.1", the
/// peer verified against `ca_file` or the system store unless `verify` is false, the
/// client certificate presented when `cert`/`key` are set. Host names are checked per
/// connection: see prepare_client_stream(). Throws std::runtime_error naming the file and
/// OpenSSL's reason when a file cannot be used.
std::shared_ptr<boost::asio::ssl::context> make_client_context(const config::upstream_tls_config& tls);

/// Sets up one client connection before its handshake: SNI (only for a DNS name, never an
/// IP literal, RFC 6066 3) and, when verifying, the name the certificate must carry
/// (a DNS subjectAltName, or an IP one for an IP literal). The name is `tls.server_name`
/// or else `endpoint_host` (brackets around an IPv6 literal are ignored). Returns false,
/// without throwing, when OpenSSL refuses the name (empty or longer than 255 bytes).
[[nodiscard]] bool prepare_client_stream(SSL* ssl, const config::upstream_tls_config& tls,
                                         std::string_view endpoint_host);

/// The peer's verified certificate subject as an RFC 2253 string
/// ("CN=client one,O=Example"); "" when the peer sent none or it was not verified.
std::string peer_certificate_subject(const SSL* ssl);

/// A short, fixed label for why a TLS handshake failed, for counters (never per-attempt
/// logs) and `error.type`: "protocol_version", "no_shared_cipher", "handshake_failure"
/// (the peer sent the generic alert: often no shared cipher, or under TLS 1.2 a missing
/// client certificate), "no_application_protocol", "certificate_required", "unknown_ca",
/// "hostname_mismatch", "certificate_expired", "bad_certificate", "not_tls" (the first
/// bytes were not TLS: plain HTTP to a TLS port or back), "timeout" (beast's timeout,
/// timed_out, or operation_aborted from a deadline's cancellation), "eof" (the peer
/// closed or reset), "other". Pass the stream's SSL to tell a local verification
/// failure's cause apart (unknown CA, wrong host, expired); without it that is
/// "bad_certificate".
std::string_view handshake_failure_kind(const boost::system::error_code& ec, const SSL* ssl = nullptr);

}  // namespace tracegate::proxy
