// Helpers shared by the config unit tests.
#pragma once

#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>

namespace tracegate::config::test {

/// A fixed environment for ${VAR} lookups.
inline env_lookup fake_env(std::map<std::string, std::string> vars = {}) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

/// Raw-string YAML written from the line after `R"(`: drops that first newline so
/// line 1 of the text is the first line the reader sees.
inline std::string yaml(std::string_view text) {
    if (text.starts_with('\n')) text.remove_prefix(1);
    return std::string(text);
}

/// Loads `text` as "test.yaml" with `vars` as the whole environment.
inline load_result load(std::string_view text, std::map<std::string, std::string> vars = {}) {
    return load_string(yaml(text), "test.yaml", fake_env(std::move(vars)));
}

inline std::string all_errors(const load_result& result) {
    std::string out;
    for (const error& e : result.errors) out += "\n  " + e.to_string();
    return out.empty() ? "\n  (no errors)" : out;
}

/// True when some error is at line:column and its message contains `fragment`.
inline ::testing::AssertionResult has_error(const load_result& result, int line, int column,
                                            std::string_view fragment) {
    for (const error& e : result.errors) {
        if (e.line == line && e.column == column &&
            e.message.find(fragment) != std::string::npos) {
            return ::testing::AssertionSuccess();
        }
    }
    return ::testing::AssertionFailure()
           << "no error at " << line << ":" << column << " containing \"" << fragment
           << "\"; got:" << all_errors(result);
}

/// True when that is the one and only error, and no settings were produced.
inline ::testing::AssertionResult has_only_error(const load_result& result, int line, int column,
                                                 std::string_view fragment) {
    if (result.value) return ::testing::AssertionFailure() << "settings produced despite errors";
    if (result.errors.size() != 1) {
        return ::testing::AssertionFailure()
               << "expected exactly one error, got " << result.errors.size() << ":"
               << all_errors(result);
    }
    return has_error(result, line, column, fragment);
}

}  // namespace tracegate::config::test
