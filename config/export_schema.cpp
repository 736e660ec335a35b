// The export part of the schema: `tracing.export`, `tracing.exporters`, `tracing.store`,
// and OpenTelemetry's exporter and resource environment variables.
#include "config/schema.hpp"

#include "config/edit_distance.hpp"
#include "config/http_tokens.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>

namespace tracegate::config::detail {

namespace {

using kind = exporter_config::kind;

constexpr std::array<std::string_view, 4> export_keys{"max_queue_spans", "max_batch_spans", "flush_interval",
                                                      "shutdown_timeout"};
constexpr std::array<std::string_view, 2> store_keys{"max_traces", "max_bytes"};
constexpr std::array<std::string_view, 12> exporter_keys{
    "type",     "endpoint",   "encoding",   "compression", "headers",   "timeout",
    "ca_file",  "project_id", "token_file", "token_env",   "metadata_server", "path"};
constexpr std::array<std::string_view, 5> type_names{"otlp", "zipkin", "cloudtrace", "file", "memory"};

// Which keys each type takes (besides `type`).
std::span<const std::string_view> keys_of(kind type) {
    static constexpr std::array<std::string_view, 6> otlp{"endpoint", "encoding", "compression",
                                                          "headers",  "timeout",  "ca_file"};
    static constexpr std::array<std::string_view, 5> zipkin{"endpoint", "compression", "headers", "timeout",
                                                            "ca_file"};
    static constexpr std::array<std::string_view, 8> cloudtrace{
        "endpoint", "timeout", "ca_file", "project_id", "token_file", "token_env", "metadata_server", "headers"};
    static constexpr std::array<std::string_view, 1> file{"path"};
    switch (type) {
        case kind::otlp: return otlp;
        case kind::zipkin: return zipkin;
        case kind::cloudtrace: return cloudtrace;
        case kind::file: return file;
        case kind::memory: break;
    }
    return {};
}

constexpr std::string_view default_otlp_endpoint = "http://localhost:4318/v1/traces";
constexpr std::string_view default_zipkin_endpoint = "http://localhost:9411/api/v2/spans";
constexpr std::string_view default_cloudtrace_endpoint = "https://cloudtrace.googleapis.com";
constexpr std::uint64_t max_spans_bound = 1u << 24;

std::string quoted(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view space = " \t\r\n";
    const std::size_t first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

/// Why `url` is not an http(s) URL tracegate can post to; empty when it is.
std::string url_problem(std::string_view url) {
    std::string_view rest;
    if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else if (url.starts_with("https://")) {
        rest = url.substr(8);
    } else {
        return "must start with http:// or https://";
    }
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos) return "must not carry user:password (use headers)";
    std::string_view host = authority;
    std::string_view port;
    if (host.starts_with('[')) {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos) return "has an unclosed [ in its host";
        port = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!port.empty() && !port.starts_with(':')) return "has text after the ] of its host";
        if (!port.empty()) port.remove_prefix(1);
    } else if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
    }
    if (host.empty()) return "has no host";
    if (authority.find_first_of(" \t") != std::string_view::npos) return "must not contain spaces";
    if (authority.size() != 0 && authority.back() == ':') return "has an empty port";
    if (!port.empty()) {
        if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
            std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
            return "has an invalid port " + quoted(port);
        }
    }
    if (url.find_first_of(" \t\r\n") != std::string_view::npos) return "must not contain spaces";
    return {};
}

bool readable(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return in.good() && in.peek() != std::ifstream::traits_type::eof();
}

/// Decodes %XX in an OpenTelemetry header / resource attribute value.
std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0) return std::nullopt;
        out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
        i += 2;
    }
    return out;
}

/// "k1=v1,k2=v2" (W3C-baggage-like, as OTEL_EXPORTER_OTLP_HEADERS and
/// OTEL_RESOURCE_ATTRIBUTES are written); nullopt and `problem` when malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_key_values(std::string_view text,
                                                                                  std::string& problem) {
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t pos = 0; pos <= text.size();) {
        std::size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos) comma = text.size();
        const std::string_view entry = trim(text.substr(pos, comma - pos));
        pos = comma + 1;
        if (entry.empty()) continue;
        const std::size_t eq = entry.find('=');
        if (eq == std::string_view::npos) {
            problem = "entry " + quoted(entry) + " has no \"=\"";
            return std::nullopt;
        }
        const std::string_view key = trim(entry.substr(0, eq));
        if (key.empty()) {
            problem = "entry " + quoted(entry) + " has an empty key";
            return std::nullopt;
        }
        auto value = percent_decode(trim(entry.substr(eq + 1)));
        if (!value) {
            problem = "entry " + quoted(entry) + " has a broken %-escape";
            return std::nullopt;
        }
        out.emplace_back(std::string(key), std::move(*value));
    }
    return out;
}

bool valid_header_value(std::string_view value) {
    return std::none_of(value.begin(), value.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
    });
}

class export_reader {
public:
    export_reader(yaml_reader& r, keys_in_file& in_file) : r_(r), in_file_(in_file) {}

    export_config read_export(const field& f) {
        export_config e;
        r_.for_each_key(f, "export", export_keys, [&](const field& k) {
            in_file_.export_keys.push_back(k.label);
            if (k.label == "max_queue_spans" || k.label == "max_batch_spans") {
                if (auto n = positive(k, max_spans_bound)) (k.label == "max_queue_spans" ? e.max_queue_spans : e.max_batch_spans) = *n;
            } else if (auto d = r_.duration_value(k)) {
                if (d->count() <= 0) {
                    r_.fail(k.mark, k.label + ": must be greater than 0");
                } else {
                    (k.label == "flush_interval" ? e.flush_interval : e.shutdown_timeout) = *d;
                }
            }
        });
        return e;
    }

    store_config read_store(const field& f) {
        store_config s;
        r_.for_each_key(f, "store", store_keys, [&](const field& k) {
            if (k.label == "max_traces") {
                if (auto n = positive(k, 1u << 20)) s.max_traces = *n;
            } else if (auto n = positive(k, std::uint64_t{1} << 40)) {
                if (*n < 4096) {
                    r_.fail(k.mark, "max_bytes: must be at least 4096, got " + std::to_string(*n));
                } else {
                    s.max_bytes = *n;
                }
            }
        });
        return s;
    }

    std::vector<exporter_config> read_exporters(const field& f) {
        std::vector<exporter_config> out;
        std::map<std::string, int> file_paths;
        int memory_line = 0;
        r_.for_each_item(f, "exporter", [&](const field& item) {
            std::optional<exporter_config> e = read_exporter(item);
            if (!e) return;
            const int line = item.mark.line + 1;
            if (e->type == kind::memory) {
                if (memory_line) {
                    r_.fail(item.mark, "exporter: a second memory exporter (first at line " +
                                           std::to_string(memory_line) + "); there is one store");
                    in_file_.exporter_keys.pop_back();
                    return;
                }
                memory_line = line;
            }
            if (e->type == kind::file) {
                const auto [seen, inserted] = file_paths.emplace(e->path, line);
                if (!inserted) {
                    r_.fail(item.mark, "exporter: file " + quoted(e->path) + " is already written by the exporter at line " +
                                           std::to_string(seen->second));
                    in_file_.exporter_keys.pop_back();
                    return;
                }
            }
            out.push_back(std::move(*e));
        });
        return out;
    }

private:
    std::optional<std::uint64_t> positive(const field& f, std::uint64_t max) {
        auto n = r_.integer(f, max);
        if (n && *n == 0) {
            r_.fail(f.mark, f.label + ": must be at least 1, got 0");
            return std::nullopt;
        }
        return n;
    }

    std::optional<exporter_config> read_exporter(const field& item) {
        std::map<std::string, field> keys;
        if (!r_.for_each_key(item, "exporter", exporter_keys,
                             [&](const field& k) { keys.emplace(k.label, k); })) {
            return std::nullopt;
        }
        const auto type_field = keys.find("type");
        if (type_field == keys.end()) {
            r_.fail(item.mark, "exporter: missing required key \"type\" (otlp, zipkin, cloudtrace, file or memory)");
            return std::nullopt;
        }
        const std::optional<std::string> type_name = r_.text(type_field->second);
        if (!type_name) return std::nullopt;
        const auto at = std::find(type_names.begin(), type_names.end(), *type_name);
        if (at == type_names.end()) {
            std::string message = "type: unknown exporter type " + quoted(*type_name) +
                                  " (expected otlp, zipkin, cloudtrace, file or memory)";
            if (auto s = nearest(*type_name, type_names)) message += "; did you mean \"" + *s + "\"?";
            r_.fail(type_field->second.mark, std::move(message));
            return std::nullopt;
        }
        exporter_config e;
        e.type = static_cast<kind>(at - type_names.begin());
        e.origin = r_.file() + ":" + std::to_string(item.mark.line + 1);
        const std::span<const std::string_view> allowed = keys_of(e.type);
        bool ok = true;
        std::vector<std::string> set;
        for (const auto& [label, f] : keys) {
            if (label == "type") continue;
            if (std::find(allowed.begin(), allowed.end(), label) == allowed.end()) {
                r_.fail(f.mark, label + ": does not apply to a " + *type_name + " exporter");
                ok = false;
                continue;
            }
            set.push_back(label);
            ok = read_exporter_key(e, f) && ok;
        }
        in_file_.exporter_keys.push_back(set);
        const auto has = [&](std::string_view key) { return keys.count(std::string(key)) > 0; };
        switch (e.type) {
            case kind::otlp:
                if (!has("endpoint")) e.endpoint = default_otlp_endpoint;
                break;
            case kind::zipkin:
                if (!has("endpoint")) e.endpoint = default_zipkin_endpoint;
                break;
            case kind::cloudtrace: {
                if (!has("endpoint")) e.endpoint = default_cloudtrace_endpoint;
                if (!has("project_id")) {
                    if (auto project = r_.env()("GOOGLE_CLOUD_PROJECT"); project && !trim(*project).empty()) {
                        e.project_id = std::string(trim(*project));
                    } else {
                        r_.fail(item.mark, "exporter: cloudtrace needs \"project_id\" (or GOOGLE_CLOUD_PROJECT in the environment)");
                        ok = false;
                    }
                }
                const int sources = has("token_file") + has("token_env") + has("metadata_server");
                if (sources == 0) {
                    r_.fail(item.mark, "exporter: cloudtrace needs one of \"token_file\", \"token_env\" or \"metadata_server\" to authenticate");
                    ok = false;
                } else if (sources > 1) {
                    r_.fail(item.mark, "exporter: cloudtrace takes only one of \"token_file\", \"token_env\", \"metadata_server\"");
                    ok = false;
                }
                break;
            }
            case kind::file:
                if (!has("path")) {
                    r_.fail(item.mark, "exporter: file needs \"path\" (\"-\" for standard output)");
                    ok = false;
                }
                break;
            case kind::memory: break;
        }
        if (!ok) {
            in_file_.exporter_keys.pop_back();
            return std::nullopt;
        }
        return e;
    }

    bool read_exporter_key(exporter_config& e, const field& f) {
        if (f.label == "headers") return read_headers(e, f);
        if (f.label == "timeout") {
            auto d = r_.duration_value(f);
            if (d && d->count() <= 0) {
                r_.fail(f.mark, "timeout: must be greater than 0");
                return false;
            }
            if (d) e.timeout = *d;
            return d.has_value();
        }
        std::optional<std::string> text = r_.text(f);
        if (!text) return false;
        if (text->empty()) {
            r_.fail(f.mark, f.label + ": must not be empty");
            return false;
        }
        if (f.label == "endpoint" || f.label == "metadata_server") {
            if (std::string problem = url_problem(*text); !problem.empty()) {
                r_.fail(f.mark, f.label + ": " + quoted(*text) + " " + problem);
                return false;
            }
            (f.label == "endpoint" ? e.endpoint : e.metadata_server.emplace()) = std::move(*text);
        } else if (f.label == "encoding") {
            if (*text != "protobuf" && *text != "json") {
                r_.fail(f.mark, "encoding: expected protobuf or json, got " + quoted(*text));
                return false;
            }
            e.otlp_encoding = *text == "json" ? exporter_config::encoding::json : exporter_config::encoding::protobuf;
        } else if (f.label == "compression") {
            if (*text != "gzip" && *text != "none") {
                r_.fail(f.mark, "compression: expected gzip or none, got " + quoted(*text));
                return false;
            }
            e.gzip = *text == "gzip";
        } else if (f.label == "ca_file" || f.label == "token_file") {
            if (!readable(*text)) {
                r_.fail(f.mark, f.label + ": cannot read " + quoted(*text) +
                                    (f.label == "token_file" ? " (the access token)" : " (a PEM CA bundle)"));
                return false;
            }
            (f.label == "ca_file" ? e.ca_file : e.token_file) = std::move(*text);
        } else if (f.label == "token_env") {
            const std::optional<std::string> value = r_.env()(*text);
            if (!value || trim(*value).empty()) {
                r_.fail(f.mark, "token_env: environment variable " + quoted(*text) + " is not set or empty");
                return false;
            }
            e.token_env = std::move(*text);
        } else if (f.label == "project_id") {
            e.project_id = std::move(*text);
        } else {
            e.path = std::move(*text);
        }
        return true;
    }

    bool read_headers(exporter_config& e, const field& f) {
        bool ok = true;
        if (!f.node.IsMap() && !f.node.IsNull()) {
            r_.fail(f.mark, "headers: expected a map of header name to value, got " + describe(f.node));
            return false;
        }
        for (const auto& entry : f.node) {
            const std::string name = entry.first.as<std::string>();
            const field value{name, entry.second, entry.second.Mark()};
            if (!is_token(name)) {
                r_.fail(entry.first.Mark(), "headers: " + quoted(name) + " is not a valid header name");
                ok = false;
                continue;
            }
            std::optional<std::string> text = r_.text(value);
            if (!text) {
                ok = false;
                continue;
            }
            if (!valid_header_value(*text)) {
                r_.fail(value.mark, "headers: the value of " + quoted(name) + " contains a control character");
                ok = false;
                continue;
            }
            e.headers.emplace_back(name, std::move(*text));
        }
        return ok;
    }

    yaml_reader& r_;
    keys_in_file& in_file_;
};

}  // namespace

export_config read_export(const field& f, yaml_reader& r, keys_in_file& in_file) {
    return export_reader(r, in_file).read_export(f);
}

store_config read_store(const field& f, yaml_reader& r, keys_in_file& in_file) {
    return export_reader(r, in_file).read_store(f);
}

std::vector<exporter_config> read_exporters(const field& f, yaml_reader& r, keys_in_file& in_file) {
    return export_reader(r, in_file).read_exporters(f);
}

void apply_otel_export_env(settings& s, keys_in_file& in_file, yaml_reader& r) {
    const YAML::Mark start = YAML::Mark::null_mark();
    const auto variable = [&](const std::string& name) -> std::optional<std::string> {
        const std::optional<std::string> value = r.env()(name);
        if (!value || trim(*value).empty()) return std::nullopt;
        return std::string(trim(*value));
    };
    // The signal-specific variable wins over the general one, as OpenTelemetry specifies.
    const auto otlp_variable = [&](std::string_view suffix) -> std::optional<std::pair<std::string, std::string>> {
        for (const std::string& name : {"OTEL_EXPORTER_OTLP_TRACES_" + std::string(suffix),
                                       "OTEL_EXPORTER_OTLP_" + std::string(suffix)}) {
            if (auto value = variable(name)) return std::pair{name, std::move(*value)};
        }
        return std::nullopt;
    };

    // Resource attributes, and service.name from them when nothing else named the service.
    if (auto value = variable("OTEL_RESOURCE_ATTRIBUTES")) {
        std::string problem;
        if (auto pairs = parse_key_values(*value, problem)) {
            for (auto& [key, v] : *pairs) {
                if (key == "service.name") {
                    if (!in_file.service_name && !variable("OTEL_SERVICE_NAME") && !v.empty()) s.service_name = v;
                    continue;
                }
                s.tracing.resource_attributes.emplace_back(std::move(key), std::move(v));
            }
        } else {
            r.fail(start, "OTEL_RESOURCE_ATTRIBUTES: " + problem + " (expected key=value,key=value)");
        }
    }

    // The batch processor: OTEL_BSP_* where tracing.export is silent.
    const auto export_key_set = [&](std::string_view key) {
        return std::find(in_file.export_keys.begin(), in_file.export_keys.end(), key) != in_file.export_keys.end();
    };
    struct bsp_variable {
        const char* name;
        std::string_view key;
        bool is_duration;
    };
    for (const bsp_variable v : {bsp_variable{"OTEL_BSP_MAX_QUEUE_SIZE", "max_queue_spans", false},
                                 bsp_variable{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "max_batch_spans", false},
                                 bsp_variable{"OTEL_BSP_SCHEDULE_DELAY", "flush_interval", true}}) {
        if (export_key_set(v.key)) continue;
        const auto value = variable(v.name);
        if (!value) continue;
        std::uint64_t n = 0;
        const bool digits = value->size() <= 9 &&
                            std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits) n = std::stoull(*value);
        if (!digits || n == 0 || n > max_spans_bound) {
            r.fail(start, std::string(v.name) + ": expected a positive integer" +
                              (v.is_duration ? " of milliseconds" : "") + ", got " + quoted(*value));
            continue;
        }
        if (v.key == "max_queue_spans") s.tracing.exporting.max_queue_spans = n;
        if (v.key == "max_batch_spans") s.tracing.exporting.max_batch_spans = n;
        if (v.key == "flush_interval") s.tracing.exporting.flush_interval = duration(n);
    }

    // OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_*ENDPOINT add exporters only when the
    // file has no `exporters:` list of its own.
    auto& exporters = s.tracing.exporters;
    if (!in_file.exporters) {
        std::vector<std::string> wanted;
        if (auto value = variable("OTEL_TRACES_EXPORTER")) {
            for (std::size_t pos = 0; pos <= value->size();) {
                std::size_t comma = value->find(',', pos);
                if (comma == std::string::npos) comma = value->size();
                const std::string name(trim(std::string_view(*value).substr(pos, comma - pos)));
                pos = comma + 1;
                if (name.empty()) continue;
                if (name != "otlp" && name != "zipkin" && name != "console" && name != "none") {
                    r.fail(start, "OTEL_TRACES_EXPORTER: unsupported exporter " + quoted(name) +
                                      " (expected otlp, zipkin, console or none)");
                    continue;
                }
                if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) wanted.push_back(name);
            }
        } else if (otlp_variable("ENDPOINT")) {
            wanted.push_back("otlp");
        }
        for (const std::string& name : wanted) {
            exporter_config e;
            e.origin = "OTEL_TRACES_EXPORTER";
            if (name == "otlp") {
                e.type = kind::otlp;
                e.endpoint = default_otlp_endpoint;
            } else if (name == "zipkin") {
                e.type = kind::zipkin;
                e.endpoint = default_zipkin_endpoint;
                if (auto url = variable("OTEL_EXPORTER_ZIPKIN_ENDPOINT")) {
                    if (std::string problem = url_problem(*url); !problem.empty()) {
                        r.fail(start, "OTEL_EXPORTER_ZIPKIN_ENDPOINT: " + quoted(*url) + " " + problem);
                    }
                    e.endpoint = *url;
                }
            } else if (name == "console") {
                e.type = kind::file;
                e.path = "-";
            } else {
                continue;  // none: nothing exported (the in-memory store still holds the traces)
            }
            exporters.push_back(std::move(e));
            in_file.exporter_keys.emplace_back();
        }
        if (std::find(wanted.begin(), wanted.end(), "none") != wanted.end() && wanted.size() > 1) {
            r.fail(start, "OTEL_TRACES_EXPORTER: \"none\" must be the only entry");
        }
    }

    // Each otlp exporter takes from OTEL_EXPORTER_OTLP_* what its own keys leave unset.
    for (std::size_t i = 0; i < exporters.size(); ++i) {
        exporter_config& e = exporters[i];
        if (e.type != kind::otlp) continue;
        const std::vector<std::string>& set = in_file.exporter_keys[i];
        const auto unset = [&](std::string_view key) { return std::find(set.begin(), set.end(), key) == set.end(); };
        if (unset("endpoint")) {
            if (auto traces = variable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
                e.endpoint = *traces;  // used as is
            } else if (auto base = variable("OTEL_EXPORTER_OTLP_ENDPOINT")) {
                e.endpoint = *base + (base->ends_with('/') ? "v1/traces" : "/v1/traces");
            }
            if (std::string problem = url_problem(e.endpoint); !problem.empty()) {
                r.fail(start, "OTEL_EXPORTER_OTLP_ENDPOINT: " + quoted(e.endpoint) + " " + problem);
            }
        }
        if (unset("headers")) {
            if (auto value = otlp_variable("HEADERS")) {
                std::string problem;
                if (auto pairs = parse_key_values(value->second, problem)) {
                    for (auto& [name, v] : *pairs) {
                        if (!is_token(name) || !valid_header_value(v)) {
                            r.fail(start, value->first + ": " + quoted(name) + " is not a valid header");
                            continue;
                        }
                        e.headers.emplace_back(std::move(name), std::move(v));
                    }
                } else {
                    r.fail(start, value->first + ": " + problem + " (expected name=value,name=value)");
                }
            }
        }
        if (unset("encoding")) {
            if (auto value = otlp_variable("PROTOCOL")) {
                if (value->second == "http/protobuf") {
                    e.otlp_encoding = exporter_config::encoding::protobuf;
                } else if (value->second == "http/json") {
                    e.otlp_encoding = exporter_config::encoding::json;
                } else if (value->second == "grpc") {
                    r.fail(start, value->first + ": grpc is not supported; use http/protobuf (port 4318)");
                } else {
                    r.fail(start, value->first + ": expected http/protobuf or http/json, got " + quoted(value->second));
                }
            }
        }
        if (unset("compression")) {
            if (auto value = otlp_variable("COMPRESSION")) {
                if (value->second != "gzip" && value->second != "none") {
                    r.fail(start, value->first + ": expected gzip or none, got " + quoted(value->second));
                }
                e.gzip = value->second == "gzip";
            }
        }
        if (unset("timeout")) {
            if (auto value = otlp_variable("TIMEOUT")) {
                const bool digits = value->second.size() <= 9 &&
                                    std::all_of(value->second.begin(), value->second.end(),
                                                [](char c) { return c >= '0' && c <= '9'; });
                if (!digits || std::stoull(value->second) == 0) {
                    r.fail(start, value->first + ": expected a positive number of milliseconds, got " +
                                      quoted(value->second));
                } else {
                    e.timeout = duration(std::stoull(value->second));
                }
            }
        }
        if (unset("ca_file")) {
            if (auto value = otlp_variable("CERTIFICATE")) {
                if (!readable(value->second)) {
                    r.fail(start, value->first + ": cannot read " + quoted(value->second) + " (a PEM CA bundle)");
                } else {
                    e.ca_file = value->second;
                }
            }
        }
    }
}

}  // namespace tracegate::config::detail
