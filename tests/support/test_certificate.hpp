// A self-signed TLS certificate made on the fly for tests that need https: no key or
// certificate checked into the repository, none that expires under a test suite.
#pragma once

#include <string>
#include <vector>

namespace tracegate::test {

/// What the certificate is made for.
struct certificate_options {
    /// subjectAltName DNS entries.
    std::vector<std::string> dns_names{"localhost"};
    /// subjectAltName IP entries (IPv4 or IPv6 literals).
    std::vector<std::string> ip_addresses{"127.0.0.1"};
    /// Subject and issuer CN (not used for name checks, which read only subjectAltName).
    std::string common_name = "tracegate test";
};

/// Paths of the PEM files written.
struct certificate_files {
    std::string cert_file;  ///< The certificate; also the CA file that trusts it.
    std::string key_file;   ///< Its private key (PKCS#8, unencrypted).
};

/// Generates an EC P-256 key and a self-signed X.509 v3 certificate for it (valid from an
/// hour ago to a day from now, CA:TRUE so that it can be its own trust anchor), and
/// writes cert.pem and key.pem into `directory`, replacing them. Throws
/// std::runtime_error with OpenSSL's reason on failure.
certificate_files make_test_certificate(const std::string& directory,
                                        const certificate_options& options = {});

}  // namespace tracegate::test
