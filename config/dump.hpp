// The effective config, written back out for GET /config: every value after defaults,
// ${VAR} substitution and OTEL_* variables, with secrets (exporter headers) redacted.
#pragma once

#include "config/config.hpp"

#include <string>

namespace tracegate::config {

/// What a redacted value is written as.
inline constexpr std::string_view redacted = "<redacted>";

/// The settings as one JSON object (pretty, two-space indent, newline at the end).
std::string dump_json(const settings& s);

/// The same tree as YAML, in the shape of a config file tracegate would load.
std::string dump_yaml(const settings& s);

}  // namespace tracegate::config
