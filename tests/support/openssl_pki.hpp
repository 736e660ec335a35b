// Certificates made with the `openssl` command for TLS tests, as an operator would make
// them: a private CA and certificates it signed, in a temp dir that lives with the object.
#pragma once

#include "tests/support/tracegate_process.hpp"

#include <string>
#include <utility>

namespace tracegate::test {

/// Runs `command` through sh with a hard limit of 20 s; its exit status and stdout+stderr.
std::pair<int, std::string> shell(const std::string& command);

/// A private CA (ca.pem, ca.key) and certificates it signed (NAME.pem, NAME.key): "a" for
/// a.example.com, "b" for b.example.com and *.b.example.com, "a2" (a.example.com again,
/// subject "a.example.com rotated"), "client" (CN checkout-service), "localhost" (DNS
/// localhost and IP 127.0.0.1). EC P-256, valid for two days.
class pki {
public:
    pki();
    /// The path of `name` in the directory.
    std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
    const std::string& dir() const { return dir_.path(); }
    /// Signs a certificate `name`.pem with key `name`.key for `cn` and subjectAltName `san`.
    void issue(const std::string& name, const std::string& cn, const std::string& san);

private:
    void run(const std::string& command) const;
    temp_dir dir_;
};

}  // namespace tracegate::test
