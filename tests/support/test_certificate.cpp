#include "tests/support/test_certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <functional>
#include <memory>
#include <stdexcept>

namespace tracegate::test {
namespace {

template <class T, void (*Free)(T*)>
struct deleter {
    void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using extension_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using bignum_ptr = std::unique_ptr<BIGNUM, deleter<BIGNUM, BN_free>>;

void bio_free(BIO* b) { BIO_free(b); }
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, bio_free>>;

/// Throws with `what` and OpenSSL's most recent reason, when `ok` is false.
void check(bool ok, const char* what) {
    if (ok) return;
    const unsigned long code = ERR_get_error();
    char reason[256] = "unknown error";
    if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    throw std::runtime_error(std::string("make_test_certificate: ") + what + ": " + reason);
}

void add_extension(X509* cert, X509V3_CTX& ctx, int nid, const std::string& value) {
    extension_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    check(ext != nullptr, "making an extension");
    check(X509_add_ext(cert, ext.get(), -1) == 1, "adding an extension");
}

template <class T>
T read_pem(const std::string& path, T (*read)(BIO*)) {
    bio_ptr in(BIO_new_file(path.c_str(), "r"));
    check(in != nullptr, ("opening " + path).c_str());
    T value = read(in.get());
    check(value != nullptr, ("reading " + path).c_str());
    return value;
}

X509* read_x509(BIO* in) { return PEM_read_bio_X509(in, nullptr, nullptr, nullptr); }
EVP_PKEY* read_key(BIO* in) { return PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr); }

void write_pem(const std::string& path, const std::function<int(BIO*)>& write) {
    bio_ptr out(BIO_new_file(path.c_str(), "w"));
    check(out != nullptr, ("opening " + path).c_str());
    check(write(out.get()) == 1, ("writing " + path).c_str());
}

}  // namespace

certificate_files make_test_certificate(const std::string& directory,
                                        const certificate_options& options) {
    pkey_ptr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "generating a P-256 key");

    x509_ptr cert(X509_new());
    check(cert != nullptr, "allocating a certificate");
    check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "setting the version");

    // RFC 5280 4.1.2.2: a positive serial of at most 20 octets; random so that a client
    // caching certificates never sees two different ones under the same serial.
    unsigned char serial_bytes[16];
    check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "making a serial");
    serial_bytes[0] &= 0x7f;
    bignum_ptr serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
    check(serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())),
          "setting the serial");

    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), options.not_before.count()) != nullptr,
          "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), options.not_after.count()) != nullptr,
          "notAfter");
    check(X509_set_pubkey(cert.get(), key.get()) == 1, "setting the public key");

    X509_NAME* name = X509_get_subject_name(cert.get());
    auto add_name = [&](const char* field, const std::string& value, const char* what) {
        check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                         0) == 1,
              what);
    };
    if (!options.organization.empty()) add_name("O", options.organization, "setting the organization");
    add_name("CN", options.common_name, "setting the common name");

    // Self-signed, or signed by the issuer's key under the issuer's name.
    x509_ptr issuer_cert;
    pkey_ptr issuer_key;
    if (options.issuer) {
        issuer_cert.reset(read_pem(options.issuer->cert_file, read_x509));
        issuer_key.reset(read_pem(options.issuer->key_file, read_key));
    }
    X509* signer_cert = issuer_cert ? issuer_cert.get() : cert.get();
    EVP_PKEY* signer_key = issuer_key ? issuer_key.get() : key.get();
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer_cert)) == 1,
          "setting the issuer");

    // What `openssl req -x509` (or `openssl x509 -req -CA`) makes, plus the names.
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, signer_cert, cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), ctx, NID_basic_constraints,
                  options.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(cert.get(), ctx, NID_subject_key_identifier, "hash");
    add_extension(cert.get(), ctx, NID_authority_key_identifier, "keyid:always");
    std::string names;
    for (const auto& dns : options.dns_names) names += (names.empty() ? "" : ",") + ("DNS:" + dns);
    for (const auto& ip : options.ip_addresses) names += (names.empty() ? "" : ",") + ("IP:" + ip);
    if (!names.empty()) add_extension(cert.get(), ctx, NID_subject_alt_name, names);

    check(X509_sign(cert.get(), signer_key, EVP_sha256()) > 0, "signing");

    certificate_files files{directory + "/" + options.cert_name, directory + "/" + options.key_name};
    write_pem(files.cert_file, [&](BIO* out) { return PEM_write_bio_X509(out, cert.get()); });
    write_pem(files.key_file, [&](BIO* out) {
        return PEM_write_bio_PrivateKey(out, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    return files;
}

}  // namespace tracegate::test
