#include "tests/support/openssl_pki.hpp"

#include <cstdio>
#include <stdexcept>
#include <sys/wait.h>

namespace tracegate::test {

std::pair<int, std::string> shell(const std::string& command) {
    std::FILE* pipe = ::popen(("timeout 20 sh -c '" + command + "' 2>&1").c_str(), "r");
    if (!pipe) return {-1, "popen failed"};
    std::string out;
    char buffer[4096];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

pki::pki() {
    run("openssl ecparam -name prime256v1 -genkey -noout -out ca.key");
    run("openssl req -x509 -new -key ca.key -subj /CN=tracegate-test-ca -days 2 -out ca.pem");
    issue("a", "a.example.com", "DNS:a.example.com");
    issue("b", "b.example.com", "DNS:b.example.com,DNS:*.b.example.com");
    issue("a2", "a.example.com rotated", "DNS:a.example.com");
    issue("client", "checkout-service", "DNS:checkout.internal");
    issue("localhost", "localhost", "DNS:localhost,IP:127.0.0.1");
}

void pki::issue(const std::string& name, const std::string& cn, const std::string& san) {
    run("openssl ecparam -name prime256v1 -genkey -noout -out " + name + ".key");
    run("openssl req -new -key " + name + ".key -subj \"/CN=" + cn + "\" -out " + name + ".csr");
    dir_.write(name + ".ext", "subjectAltName=" + san + "\n");
    run("openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile " + name +
        ".ext -out " + name + ".pem");
}

void pki::run(const std::string& command) const {
    const auto [code, out] = shell("cd " + dir_.path() + " && " + command);
    if (code != 0) throw std::runtime_error(command + ": " + out);
}

}  // namespace tracegate::test
