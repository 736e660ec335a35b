// `listeners[].tls` and `upstreams[].tls`: values read, paths resolved, and each file
// problem reported at its line and column, against certificates made by `openssl`.
#include "config/dump.hpp"
#include "config/loader.hpp"

#include "config_test_support.hpp"
#include "test_pki.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tracegate::config {
namespace {

using test::has_error;
using test::has_only_error;

// Lines 1-4 fixed; the listener's `tls:` is on line 5, indented by four.
constexpr std::string_view listener_head = R"(upstreams: [{name: app}]
listeners:
  - name: l
    address: 127.0.0.1:0
)";

// Lines 1-4 fixed; the upstream's `tls:` is on line 5, indented by four.
constexpr std::string_view upstream_head = R"(listeners: [{name: l, address: 127.0.0.1:0}]
upstreams:
  - name: legacy
    endpoints: [10.0.0.5:443]
)";

/// Restores the current directory when it goes.
struct current_directory_guard {
    std::filesystem::path saved = std::filesystem::current_path();
    ~current_directory_guard() { std::filesystem::current_path(saved); }
};

class tls_schema : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        try {
            pki_ = std::make_unique<test::test_pki>();
        } catch (const std::exception& e) {
            setup_error_ = e.what();
        }
    }
    static void TearDownTestSuite() { pki_.reset(); }

    void SetUp() override {
        if (!pki_) FAIL() << setup_error_;
    }

    /// The absolute path of a file made by test_pki.
    static std::string file(const std::string& name) { return pki_->path(name); }

    /// `text` (raw-string YAML) after `head`, with ${PKI} the certificates' directory.
    static load_result load(std::string_view head, std::string_view text) {
        return test::load(std::string(head) + test::yaml(text), {{"PKI", pki_->dir}});
    }
    static load_result load_listener(std::string_view text) { return load(listener_head, text); }
    static load_result load_upstream(std::string_view text) { return load(upstream_head, text); }

    static const listener_tls_config& listener_tls(const load_result& r) { return *r.value->listeners.at(0).tls; }
    static const upstream_tls_config& upstream_tls(const load_result& r) { return *r.value->upstreams.at(0).tls; }

    static inline std::unique_ptr<test::test_pki> pki_;
    static inline std::string setup_error_;
};

// --- listeners ---------------------------------------------------------------------------

TEST_F(tls_schema, listener_reads_certificates_server_names_version_and_client_ca) {
    const load_result r = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/a.key
        - cert: ${PKI}/b.pem
          key: ${PKI}/b.key
          server_names: [B.Example.COM, "*.B.example.com"]
      min_version: "1.3"
      client_ca: ${PKI}/ca.pem
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_TRUE(r.value->listeners.at(0).tls.has_value());
    const listener_tls_config& t = listener_tls(r);
    ASSERT_EQ(t.certificates.size(), 2u);
    EXPECT_EQ(t.certificates[0], (tls_certificate_config{file("a.pem"), file("a.key"), {}}));
    EXPECT_EQ(t.certificates[1],
              (tls_certificate_config{file("b.pem"), file("b.key"), {"b.example.com", "*.b.example.com"}}));
    EXPECT_EQ(t.min_version, tls_version::v1_3);
    EXPECT_EQ(t.client_ca, file("ca.pem"));
}

TEST_F(tls_schema, listener_min_version_defaults_to_1_2_and_may_be_a_yaml_float) {
    const load_result none = load_listener(R"(
    tls:
      certificates: [{cert: "${PKI}/a.pem", key: "${PKI}/a.key"}]
)");
    ASSERT_TRUE(none) << test::all_errors(none);
    EXPECT_EQ(listener_tls(none).min_version, tls_version::v1_2);
    EXPECT_EQ(listener_tls(none).client_ca, std::nullopt);

    for (const auto& [text, version] : {std::pair{"1.3", tls_version::v1_3}, std::pair{"1.2", tls_version::v1_2},
                                        std::pair{"\"1.3\"", tls_version::v1_3}}) {
        const load_result r = load_listener(R"(
    tls:
      certificates: [{cert: "${PKI}/a.pem", key: "${PKI}/a.key"}]
      min_version: )" + std::string(text) + "\n");
        ASSERT_TRUE(r) << text << test::all_errors(r);
        EXPECT_EQ(listener_tls(r).min_version, version) << text;
    }
}

TEST_F(tls_schema, listener_rejects_tls_1_0_and_1_1_and_other_versions) {
    for (const std::string text : {"1.1", "1.0", "\"1.1\""}) {
        const load_result r = load_listener(R"(
    tls:
      certificates: [{cert: "${PKI}/a.pem", key: "${PKI}/a.key"}]
      min_version: )" + text + "\n");
        EXPECT_TRUE(has_only_error(r, 7, 20, "min_version: TLS 1.0 and 1.1 are not supported")) << text;
    }
    const load_result r = load_listener(R"(
    tls:
      certificates: [{cert: "${PKI}/a.pem", key: "${PKI}/a.key"}]
      min_version: TLSv1.3
)");
    EXPECT_TRUE(has_only_error(r, 7, 20, "min_version: expected \"1.2\" or \"1.3\", got \"TLSv1.3\""));
}

TEST_F(tls_schema, listener_paths_resolve_against_the_config_files_directory) {
    const std::filesystem::path conf_dir = std::filesystem::path(pki_->dir) / "conf";
    std::filesystem::create_directories(conf_dir);
    const std::string config = (conf_dir / "tracegate.yaml").string();
    std::ofstream(config) << listener_head << "    tls:\n"
                          << "      certificates:\n"
                          << "        - {cert: ../a.pem, key: ./../a.key}\n"
                          << "      client_ca: " << file("ca.pem") << "\n";
    const load_result r = load_file(config, test::fake_env());
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(listener_tls(r).certificates.at(0).cert, file("a.pem"));
    EXPECT_EQ(listener_tls(r).certificates.at(0).key, file("a.key"));
    EXPECT_EQ(listener_tls(r).client_ca, file("ca.pem"));  // absolute stays as written
}

TEST_F(tls_schema, listener_paths_in_text_resolve_against_the_current_directory) {
    const current_directory_guard guard;
    std::filesystem::current_path(pki_->dir);
    const load_result r = load_listener(R"(
    tls:
      certificates: [{cert: a.pem, key: a.key}]
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(listener_tls(r).certificates.at(0).cert, file("a.pem"));
    EXPECT_EQ(listener_tls(r).certificates.at(0).key, file("a.key"));
}

TEST_F(tls_schema, listener_requires_at_least_one_certificate) {
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls: {min_version: "1.2"}
)"),
                               5, 10, "tls: missing required key \"certificates\""));
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
)"),
                               5, 5, "tls: missing required key \"certificates\""));
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates: []
)"),
                               6, 21, "certificates: at least one certificate is required"));
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls: on
)"),
                               5, 10, "tls: expected a map, got \"on\""));
}

TEST_F(tls_schema, listener_certificate_needs_cert_and_key) {
    const load_result r = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
        - key: ${PKI}/b.key
          server_names: [b.example.com]
)");
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
    EXPECT_TRUE(has_error(r, 7, 11, "certificate: missing required key \"key\""));
    EXPECT_TRUE(has_error(r, 8, 11, "certificate: missing required key \"cert\""));
}

TEST_F(tls_schema, listener_names_an_unreadable_certificate_file) {
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/missing.pem
          key: ${PKI}/a.key
)"),
                               7, 17,
                               "cert: cannot read \"" + file("missing.pem") + "\": No such file or directory"));
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}
          key: ${PKI}/a.key
)"),
                               7, 17, "cert: cannot read \"" + pki_->dir + "\": Is a directory"));
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ""
          key: ${PKI}/a.key
)"),
                               7, 17, "cert: must not be empty"));
}

TEST_F(tls_schema, listener_names_a_file_that_is_not_a_certificate_with_openssl_reason) {
    for (const std::string name : {"not_pem.txt", "empty.pem", "a.key"}) {
        const load_result r = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/)" + name + R"(
          key: ${PKI}/a.key
)");
        EXPECT_TRUE(has_only_error(r, 7, 17,
                                   "cert: \"" + file(name) + "\" is not a PEM X.509 certificate: no start line"))
            << name;
    }
}

TEST_F(tls_schema, listener_accepts_a_certificate_followed_by_its_chain_but_not_a_broken_one) {
    const load_result chain = load_listener(R"(
    tls:
      certificates: [{cert: "${PKI}/a_chain.pem", key: "${PKI}/a.key"}]
)");
    ASSERT_TRUE(chain) << test::all_errors(chain);
    EXPECT_EQ(listener_tls(chain).certificates.at(0).cert, file("a_chain.pem"));

    const load_result broken = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a_bad_chain.pem
          key: ${PKI}/a.key
)");
    EXPECT_TRUE(has_only_error(broken, 7, 17,
                               "cert: certificate 2 in \"" + file("a_bad_chain.pem") + "\" is not valid PEM: "));
}

TEST_F(tls_schema, listener_accepts_certificate_and_key_in_one_file) {
    const load_result r = load_listener(R"(
    tls:
      certificates: [{cert: "${PKI}/a_combined.pem", key: "${PKI}/a_combined.pem"}]
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_EQ(listener_tls(r).certificates.at(0).key, file("a_combined.pem"));
}

TEST_F(tls_schema, listener_key_must_be_a_pem_private_key) {
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/a.pem
)"),
                               8, 16,
                               "key: \"" + file("a.pem") +
                                   "\" is not a PEM private key: it has no \"-----BEGIN ... PRIVATE KEY-----\" block"));
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/broken.key
)"),
                               8, 16, "key: \"" + file("broken.key") + "\" is not a PEM private key: "));
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/missing.key
)"),
                               8, 16, "key: cannot read \"" + file("missing.key") + "\": No such file"));
}

TEST_F(tls_schema, listener_refuses_an_encrypted_key_without_prompting) {
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/encrypted.key
)"),
                               8, 16, "key: \"" + file("encrypted.key") + "\" is encrypted"));
}

TEST_F(tls_schema, listener_key_must_match_its_certificate) {
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/other.key
)"),
                               8, 16,
                               "key: \"" + file("other.key") + "\" does not match certificate \"" + file("a.pem") +
                                   "\""));
}

TEST_F(tls_schema, listener_expired_certificate_is_named_with_its_date) {
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/expired.pem
          key: ${PKI}/a.key
)"),
                               7, 17,
                               "cert: certificate \"" + file("expired.pem") +
                                   "\" expired on 2020-01-02 00:00:00 UTC"));
}

TEST_F(tls_schema, listener_certificate_not_yet_valid_is_an_error) {
    EXPECT_TRUE(has_only_error(load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/future.pem
          key: ${PKI}/a.key
)"),
                               7, 17,
                               "cert: certificate \"" + file("future.pem") +
                                   "\" is not valid until 2099-01-01 00:00:00 UTC"));
}

TEST_F(tls_schema, listener_expired_certificate_with_the_wrong_key_reports_both) {
    const load_result r = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/expired.pem
          key: ${PKI}/b.key
)");
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
    EXPECT_TRUE(has_error(r, 7, 17, "expired on"));
    EXPECT_TRUE(has_error(r, 8, 16, "does not match certificate"));
}

TEST_F(tls_schema, listener_server_names_must_be_host_names_or_wildcards) {
    const std::string long_label(64, 'x');
    struct bad_name {
        std::string yaml;     // as written in the list
        std::string name;     // as the message quotes it
        std::string problem;  // what the message says of it
    };
    const std::vector<bad_name> bad{
        {"\"a.*.com\"", "a.*.com", "has a \"*\" other than a leading \"*.\""},
        {"\"*example.com\"", "*example.com", "has a \"*\" other than a leading \"*.\""},
        {"\"*.\"", "*.", "needs a name after \"*.\""},
        {"10.0.0.1", "10.0.0.1", "is an IP address; SNI carries host names only (RFC 6066 section 3)"},
        {"-a.com", "-a.com", "has a label that starts or ends with \"-\""},
        {"a..com", "a..com", "has an empty label"},
        {"a.com.", "a.com.", "has an empty label"},
        {"\"a b.com\"", "a b.com", "is not a host name: \" \" is not allowed"},
        {"\"\"", "", "must not be empty"},
        {long_label + ".com", long_label + ".com", "has a label longer than 63 characters"},
    };
    for (const bad_name& b : bad) {
        // "          server_names: [" is 25 characters: the name starts in column 26.
        const load_result r = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/a.key
          server_names: [)" + b.yaml + "]\n");
        EXPECT_TRUE(has_only_error(r, 9, 26, "server_names: \"" + b.name + "\" " + b.problem)) << b.yaml;
    }
}

TEST_F(tls_schema, listener_server_names_are_lowercased_and_unique_across_certificates) {
    const load_result r = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/a.key
          server_names: [a.example.com]
        - cert: ${PKI}/b.pem
          key: ${PKI}/b.key
          server_names: [b.example.com, A.EXAMPLE.com]
)");
    EXPECT_TRUE(has_only_error(r, 12, 41, "server_names: duplicate \"a.example.com\" (first at line 9)"));
}

TEST_F(tls_schema, listener_allows_one_certificate_without_server_names) {
    const load_result r = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/a.key
        - cert: ${PKI}/b.pem
          key: ${PKI}/b.key
)");
    EXPECT_TRUE(has_only_error(r, 9, 11,
                               "certificate: only one certificate may leave out server_names (it is the default; "
                               "the one at line 7 already is)"));
}

TEST_F(tls_schema, listener_certificate_without_server_names_is_moved_first_as_the_default) {
    const load_result r = load_listener(R"(
    tls:
      certificates:
        - {cert: "${PKI}/b.pem", key: "${PKI}/b.key", server_names: [b.example.com]}
        - {cert: "${PKI}/a.pem", key: "${PKI}/a.key"}
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(listener_tls(r).certificates.size(), 2u);
    EXPECT_EQ(listener_tls(r).certificates[0].cert, file("a.pem"));
    EXPECT_EQ(listener_tls(r).certificates[1].cert, file("b.pem"));
}

TEST_F(tls_schema, listener_first_certificate_is_the_default_when_all_have_server_names) {
    const load_result r = load_listener(R"(
    tls:
      certificates:
        - {cert: "${PKI}/b.pem", key: "${PKI}/b.key", server_names: [b.example.com]}
        - {cert: "${PKI}/a.pem", key: "${PKI}/a.key", server_names: [a.example.com]}
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    ASSERT_EQ(listener_tls(r).certificates.size(), 2u);
    EXPECT_EQ(listener_tls(r).certificates[0].cert, file("b.pem"));
    EXPECT_EQ(listener_tls(r).certificates[1].cert, file("a.pem"));
}

TEST_F(tls_schema, listener_client_ca_must_be_readable_and_hold_a_certificate) {
    const auto with_client_ca = [](const std::string& name) {
        return load_listener(R"(
    tls:
      certificates: [{cert: "${PKI}/a.pem", key: "${PKI}/a.key"}]
      client_ca: ${PKI}/)" + name + "\n");
    };
    EXPECT_TRUE(has_only_error(with_client_ca("empty.pem"), 7, 18,
                               "client_ca: \"" + file("empty.pem") +
                                   "\" is not a PEM bundle of CA certificates: no start line"));
    EXPECT_TRUE(has_only_error(with_client_ca("missing.pem"), 7, 18,
                               "client_ca: cannot read \"" + file("missing.pem") + "\""));
    const load_result bundle = with_client_ca("a_chain.pem");
    ASSERT_TRUE(bundle) << test::all_errors(bundle);
    EXPECT_EQ(listener_tls(bundle).client_ca, file("a_chain.pem"));
}

TEST_F(tls_schema, listener_unknown_tls_keys_suggest_the_nearest) {
    const load_result r = load_listener(R"(
    tls:
      certificates:
        - cert: ${PKI}/a.pem
          key: ${PKI}/a.key
          server_name: [a.example.com]
      min_verison: "1.2"
)");
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
    EXPECT_TRUE(has_error(r, 9, 11,
                          "unknown key \"server_name\" in certificate; did you mean \"server_names\"?"));
    EXPECT_TRUE(has_error(r, 10, 7, "unknown key \"min_verison\" in tls; did you mean \"min_version\"?"));
}

TEST_F(tls_schema, listener_and_upstream_without_tls_are_plain_http) {
    const load_result r = load_listener("");
    ASSERT_TRUE(r) << test::all_errors(r);
    EXPECT_FALSE(r.value->listeners.at(0).tls.has_value());
    EXPECT_FALSE(r.value->upstreams.at(0).tls.has_value());
}

// --- upstreams ---------------------------------------------------------------------------

TEST_F(tls_schema, upstream_reads_every_key) {
    const load_result r = load_upstream(R"(
    tls:
      server_name: Legacy.Internal
      ca_file: ${PKI}/ca.pem
      cert: ${PKI}/b.pem
      key: ${PKI}/b.key
      verify: false
)");
    ASSERT_TRUE(r) << test::all_errors(r);
    const upstream_tls_config& t = upstream_tls(r);
    EXPECT_EQ(t.server_name, "legacy.internal");
    EXPECT_EQ(t.ca_file, file("ca.pem"));
    EXPECT_EQ(t.cert, file("b.pem"));
    EXPECT_EQ(t.key, file("b.key"));
    EXPECT_FALSE(t.verify);
}

TEST_F(tls_schema, upstream_empty_tls_map_is_https_with_the_defaults) {
    for (const std::string text : {"    tls: {}\n", "    tls:\n"}) {
        const load_result r = load_upstream(text);
        ASSERT_TRUE(r) << text << test::all_errors(r);
        ASSERT_TRUE(r.value->upstreams.at(0).tls.has_value()) << text;
        EXPECT_EQ(upstream_tls(r), upstream_tls_config{}) << text;
        EXPECT_TRUE(upstream_tls(r).verify);
    }
}

TEST_F(tls_schema, upstream_cert_and_key_come_together) {
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      cert: ${PKI}/b.pem
)"),
                               6, 13, "cert: needs \"key\" as well"));
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      key: ${PKI}/b.key
)"),
                               6, 12, "key: needs \"cert\" as well"));
}

TEST_F(tls_schema, upstream_client_certificate_is_checked_like_a_listeners) {
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      cert: ${PKI}/b.pem
      key: ${PKI}/a.key
)"),
                               7, 12,
                               "key: \"" + file("a.key") + "\" does not match certificate \"" + file("b.pem") + "\""));
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      cert: ${PKI}/expired.pem
      key: ${PKI}/a.key
)"),
                               6, 13, "expired on 2020-01-02 00:00:00 UTC"));
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      cert: ${PKI}/not_pem.txt
      key: ${PKI}/a.key
)"),
                               6, 13, "is not a PEM X.509 certificate: no start line"));
}

TEST_F(tls_schema, upstream_ca_file_must_be_readable_and_hold_a_certificate) {
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      ca_file: ${PKI}/missing.pem
)"),
                               6, 16, "ca_file: cannot read \"" + file("missing.pem") + "\": No such file"));
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      ca_file: ${PKI}/not_pem.txt
)"),
                               6, 16, "ca_file: \"" + file("not_pem.txt") + "\" is not a PEM bundle of CA certificates"));
}

TEST_F(tls_schema, upstream_server_name_must_be_a_host_name) {
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      server_name: "*.legacy.internal"
)"),
                               6, 20, "server_name: \"*.legacy.internal\" is not a host name: \"*\" is not allowed"));
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      server_name: 10.0.0.5
)"),
                               6, 20, "server_name: \"10.0.0.5\" is an IP address"));
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      server_name: ""
)"),
                               6, 20, "server_name: \"\" must not be empty"));
}

TEST_F(tls_schema, upstream_verify_is_a_boolean) {
    EXPECT_TRUE(has_only_error(load_upstream(R"(
    tls:
      verify: maybe
)"),
                               6, 15, "verify: expected true or false, got \"maybe\""));
}

TEST_F(tls_schema, upstream_unknown_tls_keys_suggest_the_nearest) {
    const load_result r = load_upstream(R"(
    tls:
      ca_flie: ${PKI}/ca.pem
      verfy: true
)");
    EXPECT_EQ(r.errors.size(), 2u) << test::all_errors(r);
    EXPECT_TRUE(has_error(r, 6, 7, "unknown key \"ca_flie\" in tls; did you mean \"ca_file\"?"));
    EXPECT_TRUE(has_error(r, 7, 7, "unknown key \"verfy\" in tls; did you mean \"verify\"?"));
}

// --- the effective config ------------------------------------------------------------------

TEST_F(tls_schema, tls_settings_survive_a_dump_and_reload) {
    const load_result first = test::load(R"(
listeners:
  - name: public
    address: 127.0.0.1:0
    tls:
      certificates:
        - {cert: "${PKI}/a.pem", key: "${PKI}/a.key"}
        - {cert: "${PKI}/b.pem", key: "${PKI}/b.key", server_names: [b.example.com, "*.b.example.com"]}
      min_version: "1.3"
      client_ca: ${PKI}/ca.pem
upstreams:
  - name: legacy
    endpoints: [10.0.0.5:443]
    tls: {server_name: legacy.internal, ca_file: "${PKI}/ca.pem", cert: "${PKI}/b.pem", key: "${PKI}/b.key", verify: false}
  - name: plain
    endpoints: [10.0.0.6:443]
    tls: {}
routes: [{name: r, upstream: legacy}]
)",
                                         {{"PKI", pki_->dir}});
    ASSERT_TRUE(first) << test::all_errors(first);
    const std::string yaml = dump_yaml(*first.value);
    EXPECT_EQ(yaml.find("BEGIN"), std::string::npos) << "file contents must not be dumped";
    const load_result again = load_string(yaml, "dump.yaml", test::fake_env());
    ASSERT_TRUE(again) << test::all_errors(again) << "\n" << yaml;
    EXPECT_EQ(again.value->listeners.at(0).tls, first.value->listeners.at(0).tls);
    EXPECT_EQ(again.value->upstreams.at(0).tls, first.value->upstreams.at(0).tls);
    EXPECT_EQ(again.value->upstreams.at(1).tls, upstream_tls_config{});
    EXPECT_EQ(dump_json(*again.value), dump_json(*first.value));
}

}  // namespace
}  // namespace tracegate::config
