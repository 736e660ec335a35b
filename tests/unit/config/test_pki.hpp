// Certificates for the TLS config tests, made with the `openssl` command (OpenSSL 3.0 or
// later) into a fresh temporary directory: nothing checked in, nothing that expires under
// a test run. EC P-256 keys, so that making the whole set takes a few tens of milliseconds.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tracegate::config::test {

/// A private CA and files signed by it, in `dir`, removed with the object.
class test_pki {
public:
    /// Makes every file; throws std::runtime_error with openssl's output on failure.
    test_pki() {
        std::string pattern = (std::filesystem::temp_directory_path() / "tracegate-pki-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("test_pki: mkdtemp failed");
        dir = std::filesystem::path(pattern).lexically_normal().string();
        write("ca.cnf", ca_config);
        write("broken.pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        write("broken.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        write("index.txt", "");
        write("not_pem.txt", "this is not a certificate\n");
        write("empty.pem", "");
        // -CA on `req -x509` (OpenSSL 3.0) makes key, request and signed certificate in one
        // step. `openssl ca` is the 3.0 way to set exact validity dates (-not_before and
        // -not_after came in 3.4), for the expired and not-yet-valid certificates.
        run(R"(set -e
new_key="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $new_key -keyout ca.key -subj "/CN=tracegate test CA" -days 30 -out ca.pem
for host in a b; do
  openssl req -x509 $new_key -keyout $host.key -subj /CN=$host.example.com \
    -addext subjectAltName=DNS:$host.example.com -CA ca.pem -CAkey ca.key -days 30 -out $host.pem
done
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key
openssl pkey -in a.key -aes256 -passout pass:secret -out encrypted.key
openssl req -new -key a.key -subj /CN=a.example.com -out a.csr
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in a.csr -notext -create_serial \
  -startdate 20200101000000Z -enddate 20200102000000Z -out expired.pem
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in a.csr -notext -create_serial \
  -startdate 20990101000000Z -enddate 20990102000000Z -out future.pem
cat a.pem ca.pem > a_chain.pem
cat a.pem broken.pem > a_bad_chain.pem
cat a.pem a.key > a_combined.pem
)");
    }

    ~test_pki() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }

    test_pki(const test_pki&) = delete;
    test_pki& operator=(const test_pki&) = delete;

    /// The absolute path of `name` in the directory.
    std::string path(const std::string& name) const { return dir + "/" + name; }

    /// The directory. Files in it:
    /// - ca.pem, ca.key: the CA (self-signed);
    /// - a.pem, a.key / b.pem, b.key: a.example.com / b.example.com, 30 days, signed by the CA;
    /// - a_chain.pem: a.pem then ca.pem; a_bad_chain.pem: a.pem then broken.pem, a
    ///   CERTIFICATE block whose content is not base64; a_combined.pem: a.pem then a.key;
    /// - expired.pem: a.key's certificate for 2020-01-01 to 2020-01-02;
    /// - future.pem: a.key's certificate for 2099-01-01 to 2099-01-02;
    /// - other.key: a key no certificate is for; encrypted.key: a.key under passphrase "secret";
    ///   broken.key: a PRIVATE KEY block that holds no key;
    /// - not_pem.txt: one line of text; empty.pem: nothing.
    std::string dir;

private:
    // Only what `openssl ca` needs to sign without a system CA setup.
    static constexpr const char* ca_config = R"([ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = copy
[any]
commonName = supplied
)";

    void write(const std::string& name, const std::string& content) const {
        std::ofstream(path(name), std::ios::binary) << content;
    }

    void run(const std::string& script) const {
        write("make.sh", script);
        const std::string command = "cd '" + dir + "' && sh ./make.sh > make.log 2>&1";
        if (std::system(command.c_str()) != 0) {
            std::ostringstream log;
            log << std::ifstream(path("make.log")).rdbuf();
            throw std::runtime_error("test_pki: openssl failed:\n" + log.str());
        }
    }
};

}  // namespace tracegate::config::test
