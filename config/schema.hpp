// Private to config/: the tracegate config schema, YAML tree -> settings.
#pragma once

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

#include <yaml-cpp/yaml.h>

namespace tracegate::config::detail {

/// Reads `root` into settings, checking every key, type, value and cross-reference,
/// and synthesizing the catch-all route when there are none. Problems go to `reader`;
/// the returned settings are only meaningful when it recorded none.
settings read_settings(const YAML::Node& root, yaml_reader& reader);

}  // namespace tracegate::config::detail

namespace tracegate::config::detail {

/// Reads a route's `match:` map (host, path, path_prefix, path_regex, methods, headers),
/// normalizing case and checking each criterion. Problems go to `reader`.
route_match read_route_match(const field& match, yaml_reader& reader);

}  // namespace tracegate::config::detail
