// The TLS part of the schema: `listeners[].tls` and `upstreams[].tls`. Certificates, keys
// and CA bundles are read with OpenSSL when the config loads, so that a missing, mismatched
// or expired file is a config error at its line and column, not a failed start or, worse,
// a failed handshake later.
#include "config/schema.hpp"

#include "config/http_tokens.hpp"
#include "config/scalar_parsers.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <system_error>
#include <vector>

namespace tracegate::config::detail {

namespace {

constexpr std::array<std::string_view, 3> listener_tls_keys{"certificates", "min_version", "client_ca"};
constexpr std::array<std::string_view, 3> certificate_keys{"cert", "key", "server_names"};
constexpr std::array<std::string_view, 5> upstream_tls_keys{"server_name", "ca_file", "cert", "key", "verify"};

// A certificate or key is a few kilobytes, a system CA bundle a few hundred; anything
// bigger is not PEM (a device, a log) and is not read whole.
constexpr std::size_t max_pem_bytes = 16 * 1024 * 1024;

// RFC 1035 section 2.3.4: a label is at most 63 octets, a name at most 255 octets on the
// wire, which is 253 characters written without the root's trailing dot.
constexpr std::size_t max_label_chars = 63;
constexpr std::size_t max_host_name_chars = 253;

template <class T, void (*Free)(T*)>
struct deleter {
    void operator()(T* p) const { Free(p); }
};
void bio_free(BIO* b) { BIO_free(b); }
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, bio_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;

std::string quoted(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

/// OpenSSL's reason for the failure just seen ("no start line"), emptying this thread's
/// error queue so that nothing stale reaches the next caller.
std::string openssl_reason() {
    const unsigned long code = ERR_peek_last_error();
    const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
    ERR_clear_error();
    return reason != nullptr ? reason : "unknown OpenSSL error";
}

/// The whole file, or nullopt and why not in `problem`.
std::optional<std::string> read_file(const std::string& path, std::string& problem) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) {
        problem = std::system_category().message(errno);
        return std::nullopt;
    }
    std::string text;
    char buffer[16 * 1024];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
        text.append(buffer, n);
        if (text.size() > max_pem_bytes) {
            problem = "larger than 16 MiB, not a PEM file";
            return std::nullopt;
        }
    }
    // A directory opens fine on Linux; reading it is what fails (EISDIR).
    if (std::ferror(file.get())) {
        problem = std::system_category().message(errno);
        return std::nullopt;
    }
    return text;
}

/// Appends every PEM certificate in `pem` to `out`, in order. Returns OpenSSL's reason
/// when there is none, or when one after those in `out` is broken; empty on success.
std::string read_certificates(const std::string& pem, std::vector<x509_ptr>& out) {
    ERR_clear_error();
    bio_ptr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!in) return openssl_reason();
    for (;;) {
        x509_ptr cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
        if (cert) {
            out.push_back(std::move(cert));
            continue;
        }
        // Running out of PEM blocks after at least one certificate is the normal end.
        const unsigned long code = ERR_peek_last_error();
        if (!out.empty() && ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
            ERR_clear_error();
            return {};
        }
        return openssl_reason();
    }
}

/// The message for read_certificates() failing on `path` with `reason`, `what` naming the
/// kind of file expected.
std::string certificates_problem(const std::string& path, std::string_view what,
                                 const std::vector<x509_ptr>& read, const std::string& reason) {
    if (read.empty()) return quoted(path) + " is not " + std::string(what) + ": " + reason;
    return "certificate " + std::to_string(read.size() + 1) + " in " + quoted(path) + " is not valid PEM: " + reason;
}

/// "2020-01-02 00:00:00 UTC"
std::string utc(const ASN1_TIME* time) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(time, &tm) != 1) {
        ERR_clear_error();
        return "an unreadable date";
    }
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

/// Why lowercase `name` is not a DNS host name; empty when it is. Labels are letters,
/// digits, hyphens (RFC 1123 section 2.1) and underscores, which many internal names
/// carry and certificates can match.
std::string host_name_problem(std::string_view name) {
    if (name.empty()) return "must not be empty";
    if (is_ip_literal(name)) return "is an IP address; SNI carries host names only (RFC 6066 section 3)";
    if (name.size() > max_host_name_chars) return "is longer than 253 characters";
    for (std::size_t start = 0; start <= name.size();) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        const std::string_view label = name.substr(start, dot - start);
        start = dot + 1;
        if (label.empty()) return "has an empty label (a leading, trailing or doubled \".\")";
        if (label.size() > max_label_chars) return "has a label longer than 63 characters";
        for (const char c : label) {
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
                return "is not a host name: " + quoted(std::string_view(&c, 1)) + " is not allowed";
            }
        }
        if (label.front() == '-' || label.back() == '-') return "has a label that starts or ends with \"-\"";
    }
    return {};
}

/// Like host_name_problem(), also allowing one leading "*." (a wildcard certificate name).
std::string server_name_problem(std::string_view name) {
    const bool wildcard = name.starts_with("*.");
    if (name.find('*', wildcard ? 1 : 0) != std::string_view::npos) {
        return "has a \"*\" other than a leading \"*.\", e.g. \"*.example.com\"";
    }
    if (name == "*.") return "needs a name after \"*.\"";
    return host_name_problem(wildcard ? name.substr(2) : name);
}

/// Answers OpenSSL's request for a passphrase with none, noting that it was asked:
/// tracegate starts unattended and never prompts.
int refuse_passphrase(char*, int, int, void* asked) {
    *static_cast<bool*>(asked) = true;
    return -1;
}

class tls_reader {
public:
    explicit tls_reader(yaml_reader& reader) : r_(reader) {}

    listener_tls_config read_listener(const field& tls) {
        listener_tls_config t;
        std::optional<field> certificates;
        const bool is_map = r_.for_each_key(tls, "tls", listener_tls_keys, [&](const field& f) {
            if (f.label == "certificates") {
                certificates = f;
            } else if (f.label == "min_version") {
                read_min_version(f, t);
            } else if (auto path = ca_bundle(f)) {
                t.client_ca = std::move(*path);
            }
        });
        if (!is_map) return t;
        if (!certificates) {
            r_.fail(tls.mark, "tls: missing required key \"certificates\"");
            return t;
        }
        read_certificate_list(*certificates, t);
        return t;
    }

    upstream_tls_config read_upstream(const field& tls) {
        upstream_tls_config t;
        std::optional<field> cert, key;
        r_.for_each_key(tls, "tls", upstream_tls_keys, [&](const field& f) {
            if (f.label == "server_name") {
                read_server_name(f, t);
            } else if (f.label == "ca_file") {
                if (auto path = ca_bundle(f)) t.ca_file = std::move(*path);
            } else if (f.label == "cert") {
                cert = f;
            } else if (f.label == "key") {
                key = f;
            } else if (auto b = r_.boolean(f)) {
                t.verify = *b;
            }
        });
        if (cert && !key) r_.fail(cert->mark, "cert: needs \"key\" as well (the client certificate's private key)");
        if (key && !cert) r_.fail(key->mark, "key: needs \"cert\" as well (the client certificate)");
        if (cert || key) {
            std::string cert_path, key_path;
            read_pair(cert, key, cert_path, key_path);
            if (cert) t.cert = std::move(cert_path);
            if (key) t.key = std::move(key_path);
        }
        return t;
    }

private:
    void read_min_version(const field& f, listener_tls_config& t) {
        // A YAML float (1.2) arrives as the same scalar as the string "1.2".
        const std::optional<std::string> value = r_.text(f);
        if (!value) return;
        if (*value == "1.2") {
            t.min_version = tls_version::v1_2;
        } else if (*value == "1.3") {
            t.min_version = tls_version::v1_3;
        } else if (*value == "1.0" || *value == "1.1" || *value == "1") {
            // RFC 8996 deprecates both.
            r_.fail(f.mark, "min_version: TLS 1.0 and 1.1 are not supported; use \"1.2\" or \"1.3\"");
        } else {
            r_.fail(f.mark, "min_version: expected \"1.2\" or \"1.3\", got " + quoted(*value));
        }
    }

    void read_certificate_list(const field& list, listener_tls_config& t) {
        // Across the listener's certificates: each server name once, one default.
        std::map<std::string, int, std::less<>> first_line;
        std::optional<int> default_line;
        const bool is_list = r_.for_each_item(list, "certificate", [&](const field& item) {
            std::optional<tls_certificate_config> c = read_certificate(item, first_line);
            if (!c) return;
            if (c->server_names.empty()) {
                if (default_line) {
                    r_.fail(item.mark, "certificate: only one certificate may leave out server_names "
                                       "(it is the default; the one at line " +
                                           std::to_string(*default_line) + " already is)");
                } else {
                    default_line = item.mark.line + 1;
                }
            }
            t.certificates.push_back(std::move(*c));
        });
        if (is_list && list.node.size() == 0) {
            r_.fail(list.mark, "certificates: at least one certificate is required");
        }
        // The one without names goes first, so that certificates[0] is always the default;
        // when every certificate has names, the first written stays the default.
        std::stable_partition(t.certificates.begin(), t.certificates.end(),
                              [](const tls_certificate_config& c) { return c.server_names.empty(); });
    }

    std::optional<tls_certificate_config> read_certificate(const field& item,
                                                           std::map<std::string, int, std::less<>>& first_line) {
        tls_certificate_config c;
        std::optional<field> cert, key;
        const bool is_map = r_.for_each_key(item, "certificate", certificate_keys, [&](const field& f) {
            if (f.label == "cert") {
                cert = f;
            } else if (f.label == "key") {
                key = f;
            } else {
                read_server_names(f, c, first_line);
            }
        });
        if (!is_map) return std::nullopt;
        if (!cert) r_.fail(item.mark, "certificate: missing required key \"cert\"");
        if (!key) r_.fail(item.mark, "certificate: missing required key \"key\"");
        read_pair(cert, key, c.cert, c.key);
        return c;
    }

    void read_server_names(const field& f, tls_certificate_config& c,
                           std::map<std::string, int, std::less<>>& first_line) {
        r_.for_each_item(f, "server_names", [&](const field& item) {
            std::optional<std::string> name = r_.text(item);
            if (!name) return;
            lowercase_ascii(*name);  // DNS names compare case-insensitively (RFC 4343)
            if (std::string problem = server_name_problem(*name); !problem.empty()) {
                r_.fail(item.mark, "server_names: " + quoted(*name) + " " + problem);
                return;
            }
            const auto [seen, inserted] = first_line.emplace(*name, item.mark.line + 1);
            if (!inserted) {
                r_.fail(item.mark, "server_names: duplicate " + quoted(*name) + " (first at line " +
                                       std::to_string(seen->second) + ")");
                return;
            }
            c.server_names.push_back(std::move(*name));
        });
    }

    void read_server_name(const field& f, upstream_tls_config& t) {
        std::optional<std::string> name = r_.text(f);
        if (!name) return;
        lowercase_ascii(*name);
        if (std::string problem = host_name_problem(*name); !problem.empty()) {
            r_.fail(f.mark, "server_name: " + quoted(*name) + " " + problem);
            return;
        }
        t.server_name = std::move(*name);
    }

    /// The resolved path of a non-empty file name.
    std::optional<std::string> file_path(const field& f) {
        const std::optional<std::string> text = r_.text(f);
        if (!text) return std::nullopt;
        if (text->empty()) {
            r_.fail(f.mark, f.label + ": must not be empty");
            return std::nullopt;
        }
        return r_.path(*text);
    }

    /// Reads `cert` and `key` (either may be missing, which the caller reports), checks
    /// each, and that the key is the certificate's. Sets the resolved paths.
    void read_pair(const std::optional<field>& cert, const std::optional<field>& key, std::string& cert_path,
                   std::string& key_path) {
        x509_ptr leaf;
        pkey_ptr private_key;
        if (cert) {
            if (auto path = file_path(*cert)) {
                leaf = load_certificate(*cert, *path);
                cert_path = std::move(*path);
            }
        }
        if (key) {
            if (auto path = file_path(*key)) {
                private_key = load_key(*key, *path);
                key_path = std::move(*path);
            }
        }
        if (leaf && private_key && X509_check_private_key(leaf.get(), private_key.get()) != 1) {
            ERR_clear_error();
            r_.fail(key->mark, "key: " + quoted(key_path) + " does not match certificate " + quoted(cert_path));
        }
    }

    /// The first certificate of a PEM file (the rest is its chain, which must parse too),
    /// with its validity dates checked; null when it cannot be used at all.
    x509_ptr load_certificate(const field& f, const std::string& path) {
        std::string problem;
        const std::optional<std::string> pem = read_file(path, problem);
        if (!pem) {
            r_.fail(f.mark, f.label + ": cannot read " + quoted(path) + ": " + problem);
            return nullptr;
        }
        std::vector<x509_ptr> chain;
        if (std::string reason = read_certificates(*pem, chain); !reason.empty()) {
            r_.fail(f.mark, f.label + ": " + certificates_problem(path, "a PEM X.509 certificate", chain, reason));
            return nullptr;
        }
        x509_ptr leaf = std::move(chain.front());
        // X509_cmp_current_time: -1 before now, 1 after, 0 when the date cannot be read.
        const ASN1_TIME* not_after = X509_get0_notAfter(leaf.get());
        const ASN1_TIME* not_before = X509_get0_notBefore(leaf.get());
        if (X509_cmp_current_time(not_after) < 0) {
            r_.fail(f.mark, f.label + ": certificate " + quoted(path) + " expired on " + utc(not_after));
        } else if (X509_cmp_current_time(not_before) > 0) {
            r_.fail(f.mark, f.label + ": certificate " + quoted(path) + " is not valid until " + utc(not_before));
        }
        ERR_clear_error();
        // Still returned when out of date, so that a mismatched key is reported as well.
        return leaf;
    }

    pkey_ptr load_key(const field& f, const std::string& path) {
        std::string problem;
        std::optional<std::string> pem = read_file(path, problem);
        if (!pem) {
            r_.fail(f.mark, f.label + ": cannot read " + quoted(path) + ": " + problem);
            return nullptr;
        }
        ERR_clear_error();
        bool asked = false;
        pkey_ptr key;
        if (bio_ptr in{BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()))}) {
            key.reset(PEM_read_bio_PrivateKey(in.get(), nullptr, &refuse_passphrase, &asked));
        }
        // OpenSSL 3's decoders say only "unsupported" when there is no key block at all.
        const bool has_key_block = pem->find("PRIVATE KEY-----") != std::string::npos;
        OPENSSL_cleanse(pem->data(), pem->size());  // no copy of the secret left in freed memory
        if (!key && asked) {
            ERR_clear_error();
            r_.fail(f.mark, f.label + ": " + quoted(path) +
                                " is encrypted; tracegate needs an unencrypted key (protect it with file permissions)");
        } else if (!key && !has_key_block) {
            ERR_clear_error();
            r_.fail(f.mark, f.label + ": " + quoted(path) +
                                " is not a PEM private key: it has no \"-----BEGIN ... PRIVATE KEY-----\" block");
        } else if (!key) {
            r_.fail(f.mark, f.label + ": " + quoted(path) + " is not a PEM private key: " + openssl_reason());
        }
        return key;
    }

    /// The resolved path of a readable PEM bundle holding at least one certificate.
    std::optional<std::string> ca_bundle(const field& f) {
        std::optional<std::string> path = file_path(f);
        if (!path) return std::nullopt;
        std::string problem;
        const std::optional<std::string> pem = read_file(*path, problem);
        if (!pem) {
            r_.fail(f.mark, f.label + ": cannot read " + quoted(*path) + ": " + problem);
            return std::nullopt;
        }
        std::vector<x509_ptr> certificates;
        if (std::string reason = read_certificates(*pem, certificates); !reason.empty()) {
            r_.fail(f.mark, f.label + ": " +
                                certificates_problem(*path, "a PEM bundle of CA certificates", certificates, reason));
            return std::nullopt;
        }
        return path;
    }

    yaml_reader& r_;
};

}  // namespace

listener_tls_config read_listener_tls(const field& tls, yaml_reader& reader) {
    return tls_reader(reader).read_listener(tls);
}

upstream_tls_config read_upstream_tls(const field& tls, yaml_reader& reader) {
    return tls_reader(reader).read_upstream(tls);
}

}  // namespace tracegate::config::detail
