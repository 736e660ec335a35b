// The command line: --check-config reports every error as FILE:LINE:COLUMN, exit codes
// are stable, and every shipped example config stays valid.
#include "tests/support/proxy_fixture.hpp"
#include "tests/support/text_template.hpp"
#include "tests/support/tracegate_process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

namespace tracegate::test {
namespace {

namespace fs = std::filesystem;

/// Line numbers of the `PATH:LINE:COLUMN: message` lines in `text` that name `path`.
std::set<int> error_lines(const std::string& text, const std::string& path) {
    const std::regex line("^" + regex_escape(path) + R"(:(\d+):(\d+): (.+)$)");
    std::set<int> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        std::smatch m;
        if (std::regex_match(l, m, line) && std::stoi(m[2].str()) >= 1) lines.insert(std::stoi(m[1].str()));
    }
    return lines;
}

TEST(config_cli, check_config_accepts_a_valid_file) {
    temp_dir dir;
    const auto path = dir.write("good.yaml", single_upstream_config("127.0.0.1:9000"));
    const auto r = check_config_file(path);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.find(path + ":") == std::string::npos) << r.err;
}

TEST(config_cli, check_config_reports_every_error_with_file_line_column_and_exits_2) {
    temp_dir dir;
    const auto path = dir.write("bad.yaml", R"(service_name: broken
workers: 2
listeners:
  - name: main
    address: "not an address"
upstreams:
  - name: app
    endpoints: [127.0.0.1:99999]
    lb: sideways
routes:
  - name: r
    match: {path_prefix: /}
    upstream: missing
limits:
  header_timeout: 5 parsecs
)");
    const auto r = check_config_file(path);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    const auto lines = error_lines(r.err, path);
    for (int expected : {5, 8, 9, 13, 15})
        EXPECT_TRUE(lines.count(expected)) << "no " << path << ":" << expected << ":COLUMN: error in:\n" << r.err;
}

TEST(config_cli, check_config_reports_a_yaml_syntax_error_with_its_location) {
    temp_dir dir;
    const auto path = dir.write("syntax.yaml", "listeners:\n  - name: main\n    address: [unclosed\n");
    const auto r = check_config_file(path);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_FALSE(error_lines(r.err, path).empty()) << r.err;
}

TEST(config_cli, check_config_on_a_missing_file_fails) {
    temp_dir dir;
    const auto r = check_config_file(dir.path() + "/absent.yaml");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(r.err.empty());
}

TEST(config_cli, running_with_an_invalid_config_exits_2_without_listening) {
    temp_dir dir;
    const auto path = dir.write("bad.yaml", "listeners:\n  - name: main\n    address: nowhere\n");
    const auto r = run_tracegate({"--config", path});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.find("listening on"), std::string::npos);
    EXPECT_FALSE(error_lines(r.err, path).empty()) << r.err;
}

TEST(config_cli, version_and_help_exit_0) {
    const auto version = run_tracegate({"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_NE(version.out.find("tracegate"), std::string::npos) << version.out;
    const auto help = run_tracegate({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--check-config"), std::string::npos) << help.out;
}

TEST(config_cli, unknown_option_is_a_usage_error) {
    const auto r = run_tracegate({"--no-such-option"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("--no-such-option"), std::string::npos) << r.err;
}

TEST(config_cli, every_example_in_deploy_passes_check_config) {
    const fs::path examples = fs::path(TRACEGATE_SOURCE_DIR) / "deploy" / "examples";
    std::vector<fs::path> files;
    if (fs::is_directory(examples))
        for (const auto& entry : fs::recursive_directory_iterator(examples))
            if (entry.is_regular_file() &&
                (entry.path().extension() == ".yaml" || entry.path().extension() == ".yml"))
                files.push_back(entry.path());
    if (files.empty()) GTEST_SKIP() << "no YAML in " << examples << " yet";
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        const auto r = check_config_file(file.string());
        EXPECT_EQ(r.exit_code, 0) << file << ":\n" << r.err;
    }
}

}  // namespace
}  // namespace tracegate::test
