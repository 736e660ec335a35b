// TLS certificates made on the fly for tests that need https: self-signed ones, or a
// private CA and the server and client certificates it issues (expired ones too). No key
// or certificate checked into the repository, none that expires under a test suite.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tracegate::test {

struct certificate_files;

/// What the certificate is made for.
struct certificate_options {
    /// subjectAltName DNS entries.
    std::vector<std::string> dns_names{"localhost"};
    /// subjectAltName IP entries (IPv4 or IPv6 literals).
    std::vector<std::string> ip_addresses{"127.0.0.1"};
    /// Subject and issuer CN (not used for name checks, which read only subjectAltName).
    std::string common_name = "tracegate test";
    /// Subject O, when not empty (placed before CN, as `openssl req -subj /O=../CN=..` does).
    std::string organization{};
    /// The CA that signs it (its issuer name and key); nullptr: self-signed.
    const certificate_files* issuer = nullptr;
    /// basicConstraints CA:TRUE. A self-signed certificate needs it to be its own trust
    /// anchor; a server or client certificate from `issuer` gets CA:FALSE.
    bool ca = true;
    /// Validity, relative to now; both in the past make an expired certificate.
    std::chrono::seconds not_before = std::chrono::hours(-1);
    std::chrono::seconds not_after = std::chrono::hours(24);
    /// File names inside the directory.
    std::string cert_name = "cert.pem";
    std::string key_name = "key.pem";
};

/// Paths of the PEM files written.
struct certificate_files {
    std::string cert_file;  ///< The certificate; also the CA file that trusts it.
    std::string key_file;   ///< Its private key (PKCS#8, unencrypted).
};

/// Generates an EC P-256 key and an X.509 v3 certificate for it, self-signed or signed by
/// `options.issuer` (by default valid from an hour ago to a day from now, CA:TRUE so that
/// it can be its own trust anchor), and writes the certificate and key files into
/// `directory` (cert.pem and key.pem by default), replacing them. Throws
/// std::runtime_error with OpenSSL's reason on failure.
certificate_files make_test_certificate(const std::string& directory,
                                        const certificate_options& options = {});

}  // namespace tracegate::test
