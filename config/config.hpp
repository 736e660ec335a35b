// tracegate configuration: plain typed structs with in-class defaults.
//
// A settings object is produced once by load_config() (config/loader.hpp), validated
// whole, and then shared read-only as std::shared_ptr<const settings>. Reload
// builds a new one; nothing mutates loaded settings. Components take only the
// part they need; none of them sees YAML.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracegate::config {

using duration = std::chrono::milliseconds;

/// A host and port as written in config: "host:port" or "[v6]:port".
struct address {
    std::string host;       ///< IP literal or DNS name, without brackets.
    std::uint16_t port = 0; ///< 0 only allowed for listeners (ephemeral port).

    /// "host:port", with brackets around IPv6 literals.
    std::string to_string() const;
    /// Appends to_string() to `out` (which keeps its capacity: no allocation once grown).
    void append_to(std::string& out) const;
    friend bool operator==(const address&, const address&) = default;
};

/// One certificate a TLS listener can present (`listeners[].tls.certificates[]`).
struct tls_certificate_config {
    std::string cert;  ///< PEM file: the certificate, then its chain.
    std::string key;   ///< PEM file: the private key for `cert`.
    /// SNI names this certificate answers: exact ("b.example.com") or one leading wildcard
    /// label ("*.b.example.com"), lowercase. Empty: the default certificate (the first one
    /// without names answers when SNI is absent or matches nothing).
    std::vector<std::string> server_names;
    friend bool operator==(const tls_certificate_config&, const tls_certificate_config&) = default;
};

enum class tls_version { v1_2, v1_3 };

/// HTTPS on a listener (`listeners[].tls`).
struct listener_tls_config {
    /// At least one; the first is the default: the loader moves the certificate without
    /// server_names to the front, and when every one has names the first written stays first.
    /// All paths here and in upstream_tls_config are absolute (relative ones in the file are
    /// taken against its directory), and every file was readable and valid at load.
    std::vector<tls_certificate_config> certificates;
    tls_version min_version = tls_version::v1_2;       ///< TLS 1.0 and 1.1 are never offered.
    /// PEM CA bundle: when set, clients must present a certificate it verifies (mTLS).
    std::optional<std::string> client_ca;
    friend bool operator==(const listener_tls_config&, const listener_tls_config&) = default;
};

/// HTTPS to an upstream's endpoints (`upstreams[].tls`).
struct upstream_tls_config {
    /// SNI sent and the name verified in the certificate; nullopt: the endpoint's host.
    std::optional<std::string> server_name;
    std::optional<std::string> ca_file;  ///< PEM CA bundle; nullopt: the system store.
    std::optional<std::string> cert;     ///< Client certificate (PEM), with `key`.
    std::optional<std::string> key;
    bool verify = true;                  ///< false: no verification (logged as a warning at startup).
    friend bool operator==(const upstream_tls_config&, const upstream_tls_config&) = default;
};

/// One listening socket; every worker accepts on it (SO_REUSEPORT).
struct listener_config {
    std::string name;
    address bind;                 ///< `address:` key; host must be an IP literal.
    /// false (a listener facing the internet): an incoming trace context is never the
    /// parent; it becomes a span link, and its sampled flag and the force header are ignored.
    bool trust_incoming_trace = true;
    /// `traceresponse` on this listener's responses. nullopt: tracing.response_header on
    /// trusted listeners, off on untrusted ones (outsiders learn no trace ids unless asked).
    std::optional<bool> response_header;
    std::optional<listener_tls_config> tls;  ///< nullopt: plain HTTP.
    /// Protocols a client may switch to through this listener (Upgrade tokens, lowercase,
    /// compared case-insensitively). Others are removed from the request; empty: none.
    std::vector<std::string> upgrades{"websocket"};
};

enum class lb_policy { round_robin, least_request, random };

/// A named group of interchangeable endpoints.
struct upstream_config {
    std::string name;
    std::vector<address> endpoints;  ///< May be empty: every request then gets 503.
    lb_policy lb = lb_policy::round_robin;
    duration connect_timeout{2000};
    std::uint32_t max_idle_connections = 64;  ///< Pooled idle connections per worker.
    std::optional<upstream_tls_config> tls;   ///< nullopt: plain HTTP.
};

/// A label put on spans: `{name, header}`, `{name, literal}` or `{name, env}`.
struct tag_config {
    enum class source { header, literal, env, client_certificate };

    std::string name;                ///< Span attribute name; unique within its list.
    source from = source::literal;
    /// header: the request header's name (lowercase); literal: the text;
    /// env: the environment variable's value, read when the config was loaded;
    /// client_certificate: "subject" (the verified client certificate's, RFC 2253).
    std::string value;

    friend bool operator==(const tag_config&, const tag_config&) = default;
};

/// How a route selects requests. Every present criterion must hold.
struct route_match {
    std::optional<std::string> host;         ///< Exact ("api.example.com") or "*.suffix"; lowercase.
    std::optional<std::string> path;         ///< Exact path (query excluded).
    std::optional<std::string> path_prefix;  ///< Path starts with this.
    std::optional<std::string> path_regex;   ///< RE2 regex matched against the whole path.
    std::vector<std::string> methods;        ///< Empty = any method. Uppercase.
    std::map<std::string, std::string> headers;  ///< Lowercase name -> exact value.
};

struct route_config {
    std::string name;
    route_match match;
    std::string upstream;
    duration timeout{30000};  ///< Whole upstream exchange; 0 = no limit.
    /// Server span name; placeholders {method} {path} {host} {route} (route = `name`).
    std::string span_name = "{method} {route}";
    std::vector<tag_config> tags;  ///< Added to this route's server spans, after the global ones.
};

/// Every limit has a name here and a safe default.
struct limits_config {
    std::uint64_t max_header_bytes = 65536;
    duration header_timeout{10000};
    duration idle_timeout{60000};
    duration body_timeout{300000};     ///< A whole request body, from its header; 0 = no limit.
    std::uint64_t max_body_bytes = 0;  ///< 0 = unlimited.
    std::uint64_t max_connections = 10000;
    duration drain_timeout{15000};
};

/// Head sampling and the exceptions to it.
struct sampling_config {
    double ratio = 1.0;       ///< 0..1, OpenTelemetry TraceIdRatioBased on the trace id.
    bool parent_based = true; ///< Honour the incoming sampled flag (trusted listeners only).
    std::optional<std::string> force_header;  ///< Lowercase; present forces sampling. nullopt = off.
    std::optional<double> max_per_second;     ///< Cap on new sampled root traces (> 0). nullopt = none.
    bool keep_errors = true;         ///< Record the proxy's span of a 5xx / proxy error anyway.
    duration keep_slower_than{0};    ///< Record the proxy's span of a slower request anyway; 0 = off.
};

/// Propagation format names, as OpenTelemetry spells them (OTEL_PROPAGATORS).
/// `none` (alone) is also accepted in the file and means an empty list.
inline constexpr std::array<std::string_view, 7> propagation_format_names{
    "tracecontext", "baggage", "b3", "b3multi", "jaeger", "cloudtrace", "xray"};

/// The batch pipeline between the request path and the exporters (`tracing.export`).
struct export_config {
    std::uint64_t max_queue_spans = 8192;  ///< Spans waiting for export; more are dropped and counted.
    std::uint64_t max_batch_spans = 512;   ///< Spans per export request.
    duration flush_interval{1000};         ///< Longest a span waits for its batch to fill.
    duration shutdown_timeout{5000};       ///< On SIGTERM, time to send what is queued.
};

/// The in-memory trace store, the embedded default backend (`tracing.store`).
struct store_config {
    std::uint64_t max_traces = 1000;        ///< Most recent traces kept.
    std::uint64_t max_bytes = 64u << 20;    ///< Most bytes of span data kept.
};

/// One backend spans are sent to (`tracing.exporters[]`).
struct exporter_config {
    enum class kind { otlp, zipkin, cloudtrace, file, memory };
    enum class encoding { protobuf, json };

    kind type = kind::memory;
    /// otlp, zipkin, cloudtrace: the http:// or https:// URL spans are POSTed to
    /// (cloudtrace: the API root; the request goes to {endpoint}/v2/projects/{id}/traces:batchWrite).
    std::string endpoint;
    encoding otlp_encoding = encoding::protobuf;  ///< otlp only.
    bool gzip = false;                            ///< `compression: gzip`.
    std::vector<std::pair<std::string, std::string>> headers;  ///< Sent with every request.
    duration timeout{10000};                      ///< One export request, connect to last byte.
    std::optional<std::string> ca_file;           ///< https: PEM CA bundle; nullopt = system store.
    std::string project_id;                       ///< cloudtrace.
    std::optional<std::string> token_file;        ///< cloudtrace: OAuth access token file, re-read when it changes.
    std::optional<std::string> token_env;         ///< cloudtrace: variable holding the token.
    std::optional<std::string> metadata_server;   ///< cloudtrace: GCE metadata server base URL.
    std::string path;                             ///< file: "-" = stdout.
    std::string origin;                           ///< Where it was defined ("FILE:LINE", or the variable).
};

struct tracing_config {
    /// Formats read from requests, in precedence order (first valid wins). Empty = `[none]`.
    std::vector<std::string> extract{"tracecontext", "b3multi", "b3", "jaeger", "cloudtrace", "xray"};
    /// Formats always written upstream (plus every format that arrived). Empty = `[none]`.
    std::vector<std::string> inject{"tracecontext"};
    bool upstream_span = true;    ///< A CLIENT span per upstream attempt.
    bool response_header = true;  ///< W3C `traceresponse` on responses to the client.
    std::string request_id_header = "x-request-id";  ///< Lowercase header name.
    bool record_query = false;    ///< `url.query` attribute (may hold secrets).
    std::uint32_t max_tag_value_bytes = 256;  ///< Header-sourced tag values are cut to this (>= 1).
    sampling_config sampling;
    std::vector<tag_config> tags;  ///< Global labels on every server span.
    /// `tracing.file`: shorthand for a `file` exporter (kept first in `exporters`).
    std::optional<std::string> file;
    export_config exporting;                  ///< `tracing.export`.
    /// Where spans go. Empty = the in-memory store (the embedded default).
    std::vector<exporter_config> exporters;
    store_config store;                       ///< `tracing.store`.
    /// OTEL_RESOURCE_ATTRIBUTES, decoded, in order (service.name from it is applied to
    /// service_name when neither the file nor OTEL_SERVICE_NAME set one).
    std::vector<std::pair<std::string, std::string>> resource_attributes;
};

/// The admin listener: health, readiness, metrics, effective config, the trace viewer
/// and its API, and an OTLP/HTTP receiver into the trace store (`admin`).
struct admin_config {
    bool enabled = true;
    address bind{"127.0.0.1", 9901};  ///< `address:`; loopback by default, never public unless set so.
    std::uint64_t max_receive_bytes = 16u << 20;  ///< Largest POST /v1/traces body (after gunzip).
    /// Host names (lowercase) the admin server answers besides IP addresses and localhost:
    /// any other Host is refused, so a web page cannot reach it through DNS rebinding.
    std::vector<std::string> hosts;
};

/// One line per request (`access_log`). Absent from the file = no access log.
struct access_log_config {
    enum class format { text, json };
    bool enabled = false;
    std::string path = "-";  ///< "-" = stdout, else a file opened for appending.
    format style = format::text;
};

struct settings {
    std::string service_name = "tracegate";
    unsigned workers = 0;  ///< 0 = one per core.
    std::vector<listener_config> listeners;
    std::vector<upstream_config> upstreams;
    std::vector<route_config> routes;  ///< When empty and one upstream: everything goes there.
    limits_config limits;
    tracing_config tracing;
    admin_config admin;
    access_log_config access_log;
    std::string source;  ///< File the config came from ("<embedded>" for the defaults).
};

}  // namespace tracegate::config
