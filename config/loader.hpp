// Loading and validating settings from YAML.
#pragma once

#include "config/config.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::config {

/// One problem found in a config file, with its position (1-based line and column).
struct error {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;

    /// "FILE:LINE:COLUMN: message"
    std::string to_string() const;
};

/// Either settings (errors empty) or every error found (value null).
struct load_result {
    std::shared_ptr<const settings> value;
    std::vector<error> errors;

    explicit operator bool() const { return value != nullptr; }
};

/// Looks up an environment variable; nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment (getenv).
std::optional<std::string> process_env(const std::string& name);

/// Reads, substitutes ${VAR} / ${VAR:-default} in scalars, parses and validates `path`.
/// An unreadable file is one error at line 1, column 1 of that file. Relative paths in it
/// (TLS certificates, keys, CA files) are taken against the directory `path` is in.
load_result load_file(const std::string& path, const env_lookup& env = process_env);

/// Same for YAML text; `source` names it in errors. Relative paths in it are taken
/// against the current directory.
load_result load_string(std::string_view yaml, const std::string& source,
                        const env_lookup& env = process_env);

/// The YAML tracegate runs with when started without --config (a demo service on
/// 127.0.0.1:9000 behind a listener on 0.0.0.0:8080).
std::string_view embedded_default_yaml();

/// "250ms", "10s", "2m", "1h", or "0". nullopt when malformed.
std::optional<duration> parse_duration(std::string_view text);

/// "host:port" or "[v6]:port". nullopt when malformed or port out of range.
std::optional<address> parse_address(std::string_view text);

/// Replaces ${VAR} and ${VAR:-default}; `$$` is a literal `$`.
/// Returns nullopt and sets `problem` when a variable is unset without default
/// or the syntax is broken.
std::optional<std::string> substitute_env(std::string_view text, const env_lookup& env,
                                          std::string& problem);

}  // namespace tracegate::config
