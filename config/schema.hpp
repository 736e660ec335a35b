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

namespace tracegate::config::detail {

/// Reads a listener's `tls:` map. Each certificate's `cert` and `key` are read with OpenSSL:
/// readable PEM, key matching certificate, certificate within its validity dates. Server
/// names are checked, lowercased and unique across the listener; at most one certificate
/// has none, and it is moved first (certificates[0] is always the default). Paths come back
/// resolved (yaml_reader::path()). Problems go to `reader`.
listener_tls_config read_listener_tls(const field& tls, yaml_reader& reader);

/// Reads an upstream's `tls:` map (`tls: {}` is HTTPS with the defaults): server_name a
/// host name, ca_file a PEM bundle with at least one certificate, cert and key both or
/// neither and checked like a listener's. Paths come back resolved. Problems go to `reader`.
upstream_tls_config read_upstream_tls(const field& tls, yaml_reader& reader);

}  // namespace tracegate::config::detail

namespace tracegate::config::detail {

/// Keys the file set itself: OpenTelemetry's environment variables fill in only the others.
struct keys_in_file {
    bool service_name = false;
    bool extract = false;
    bool inject = false;
    bool ratio = false;
    bool parent_based = false;
    bool exporters = false;                              ///< `tracing.exporters` present.
    std::vector<std::string> export_keys;                ///< Keys set under `tracing.export`.
    std::vector<std::vector<std::string>> exporter_keys; ///< Per exporter, the keys it set.
};

/// Reads the top-level `tracing:` map, noting in `in_file` which keys it set.
tracing_config read_tracing(const field& tracing, yaml_reader& reader, keys_in_file& in_file);

/// Reads `tracing.export` (the batch pipeline's bounds).
export_config read_export(const field& f, yaml_reader& reader, keys_in_file& in_file);

/// Reads `tracing.store` (the in-memory store's bounds).
store_config read_store(const field& f, yaml_reader& reader, keys_in_file& in_file);

/// Reads `tracing.exporters`, checking each type's keys, endpoints, files and tokens.
std::vector<exporter_config> read_exporters(const field& f, yaml_reader& reader, keys_in_file& in_file);

/// Applies OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*, OTEL_TRACES_EXPORTER and
/// OTEL_EXPORTER_OTLP_* / OTEL_EXPORTER_ZIPKIN_ENDPOINT to what the file left unset.
void apply_otel_export_env(settings& s, keys_in_file& in_file, yaml_reader& reader);

/// Reads a list of `{name, header | literal | env}` tags (global or a route's).
std::vector<tag_config> read_tags(const field& tags, yaml_reader& reader);

/// Reads a route's `span_name` template, checking its placeholders.
std::optional<std::string> read_span_name(const field& f, yaml_reader& reader);

/// Applies OTEL_SERVICE_NAME, OTEL_PROPAGATORS, OTEL_TRACES_SAMPLER and
/// OTEL_TRACES_SAMPLER_ARG (read through reader.env()) to what the file left unset.
/// A bad value is an error at line 1, column 1, its message starting with the variable.
void apply_otel_env(settings& s, const keys_in_file& in_file, yaml_reader& reader);

}  // namespace tracegate::config::detail
