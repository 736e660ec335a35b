// Private to config/: typed reading of a parsed YAML tree, recording every problem
// as an error with its position instead of stopping at the first one.
#pragma once

#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tracegate::config::detail {

/// One YAML value being read: what to call it in messages and where errors about it point.
struct field {
    std::string label;  ///< Usually the key ("connect_timeout"); for list items, the item kind.
    YAML::Node node;
    YAML::Mark mark;    ///< The value's position, or its key's when the value is empty.
};

/// "a map", "a list", "nothing" or the quoted scalar: how a value is named in messages.
std::string describe(const YAML::Node& node);

/// Converts YAML values to typed ones, substituting ${VAR} in every scalar it reads.
class yaml_reader {
public:
    /// `file` names the source in errors; `env` answers ${VAR} lookups; relative file
    /// paths in the config resolve against `base_directory` (empty: the current directory).
    yaml_reader(std::string file, env_lookup env, std::string base_directory = {});

    /// Records `message` at `at` (yaml-cpp's 0-based mark; stored 1-based).
    void fail(const YAML::Mark& at, std::string message);

    /// Every error recorded so far, in the order found.
    std::vector<error>& errors() { return errors_; }

    /// For a map: reports keys not in `known` (suggesting the nearest) and repeated keys,
    /// and calls `on_key` with each other entry. An empty value is an empty map.
    /// Reports and returns false for anything else.
    bool for_each_key(const field& map, std::string_view context,
                      std::span<const std::string_view> known,
                      const std::function<void(const field&)>& on_key);

    /// For a list: calls `on_item` with each element, labelled `item_label`.
    /// An empty value is an empty list. Reports and returns false for anything else.
    bool for_each_item(const field& list, std::string_view item_label,
                       const std::function<void(const field&)>& on_item);

    /// The scalar after ${VAR} substitution; "" for an empty value. Reports a map or list.
    std::optional<std::string> text(const field& f);

    /// A non-negative integer no greater than `max`.
    std::optional<std::uint64_t> integer(const field& f, std::uint64_t max);

    /// `true` or `false` (also `True`, `TRUE`, `False`, `FALSE`, as YAML 1.2 spells them).
    std::optional<bool> boolean(const field& f);

    /// A duration (see parse_duration()).
    std::optional<duration> duration_value(const field& f);

    /// "host:port" or "[v6]:port" (see parse_address(); port 0 passes).
    std::optional<address> address_value(const field& f);

    /// The file errors are reported against.
    const std::string& file() const { return file_; }

    /// A file path written in the config as an absolute, lexically normal path: a relative
    /// one is taken against the config file's directory (the current directory, as it is
    /// now, for text not loaded from a file), so that it means the same after a chdir.
    std::string path(std::string_view written) const;

    /// The environment ${VAR} lookups read (also OTEL_* and `env:` tags).
    const env_lookup& env() const { return env_; }

private:
    std::string file_;
    env_lookup env_;
    std::string base_directory_;
    std::vector<error> errors_;
};

}  // namespace tracegate::config::detail
