// The tracing part of the schema: the top-level `tracing:` map, tag lists (global and
// per route), route span name templates, and OpenTelemetry's environment variables.
#include "config/schema.hpp"

#include "config/edit_distance.hpp"
#include "config/http_tokens.hpp"
#include "config/scalar_parsers.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <map>

namespace tracegate::config::detail {

namespace {

constexpr std::array<std::string_view, 12> tracing_keys{
    "propagation",  "upstream_span",       "response_header", "request_id_header",
    "record_query", "max_tag_value_bytes", "sampling",        "tags",
    "file",         "export",              "exporters",       "store"};
constexpr std::array<std::string_view, 2> propagation_keys{"extract", "inject"};
constexpr std::array<std::string_view, 5> sampling_keys{
    "ratio", "parent_based", "force_header", "max_per_second", "keep"};
constexpr std::array<std::string_view, 2> keep_keys{"errors", "slower_than"};
constexpr std::array<std::string_view, 5> tag_keys{"name", "header", "literal", "env", "client_certificate"};
constexpr std::array<std::string_view, 4> span_name_placeholders{"method", "path", "host", "route"};

constexpr std::string_view no_propagation = "none";

// OTEL_TRACES_SAMPLER values tracegate implements (the OpenTelemetry SDK names).
struct sampler_choice {
    std::string_view name;
    std::optional<double> ratio;  ///< nullopt: from OTEL_TRACES_SAMPLER_ARG (default 1).
    bool parent_based;
};
constexpr std::array<sampler_choice, 6> samplers{{
    {"always_on", 1.0, false},
    {"always_off", 0.0, false},
    {"traceidratio", std::nullopt, false},
    {"parentbased_always_on", 1.0, true},
    {"parentbased_always_off", 0.0, true},
    {"parentbased_traceidratio", std::nullopt, true},
}};

std::string quoted(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

std::string format_list() {
    std::string out;
    for (std::string_view name : propagation_format_names) out += std::string(name) + ", ";
    return out + "or none";
}

bool is_env_name(std::string_view name) {
    const auto start = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    return !name.empty() && start(name.front()) &&
           std::all_of(name.begin(), name.end(), [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view space = " \t\r\n";
    const std::size_t first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

/// "unknown X "word"; did you mean "y"?" when something is close.
std::string with_suggestion(std::string message, std::string_view word,
                            std::span<const std::string_view> candidates) {
    if (auto suggestion = nearest(word, candidates)) message += "; did you mean \"" + *suggestion + "\"?";
    return message;
}

class tracing_reader {
public:
    explicit tracing_reader(yaml_reader& reader) : r_(reader) {}

    tracing_config read(const field& tracing, keys_in_file& in_file) {
        r_.for_each_key(tracing, "tracing", tracing_keys, [&](const field& f) {
            if (f.label == "propagation") {
                r_.for_each_key(f, "propagation", propagation_keys, [&](const field& p) {
                    const bool extract = p.label == "extract";
                    (extract ? in_file.extract : in_file.inject) = true;
                    if (auto list = read_format_list(p)) (extract ? t_.extract : t_.inject) = std::move(*list);
                });
            } else if (f.label == "sampling") {
                read_sampling(f, in_file);
            } else if (f.label == "tags") {
                t_.tags = read_tags(f, r_);
            } else if (f.label == "request_id_header") {
                if (auto name = header_name(f)) t_.request_id_header = std::move(*name);
            } else if (f.label == "max_tag_value_bytes") {
                const auto n = r_.integer(f, std::numeric_limits<std::uint32_t>::max());
                if (n && *n == 0) r_.fail(f.mark, "max_tag_value_bytes: must be at least 1, got 0");
                if (n) t_.max_tag_value_bytes = static_cast<std::uint32_t>(*n);
            } else if (f.label == "file") {
                if (auto path = r_.text(f)) {
                    if (path->empty()) {
                        r_.fail(f.mark, "file: must not be empty (leave it out to write no span file)");
                    }
                    t_.file = std::move(*path);
                }
            } else if (f.label == "export") {
                t_.exporting = read_export(f, r_, in_file);
            } else if (f.label == "store") {
                t_.store = read_store(f, r_, in_file);
            } else if (f.label == "exporters") {
                in_file.exporters = true;
                t_.exporters = read_exporters(f, r_, in_file);
            } else if (auto b = r_.boolean(f)) {
                (f.label == "upstream_span"     ? t_.upstream_span
                 : f.label == "response_header" ? t_.response_header
                                                : t_.record_query) = *b;
            }
        });
        if (t_.file) {
            // `file:` is shorthand for a file exporter, listed first.
            exporter_config e;
            e.type = exporter_config::kind::file;
            e.path = *t_.file;
            e.origin = "tracing.file";
            t_.exporters.insert(t_.exporters.begin(), std::move(e));
            in_file.exporter_keys.insert(in_file.exporter_keys.begin(), {"path"});
        }
        return std::move(t_);
    }

    /// A header name: a token, stored lowercase. nullopt (reported) otherwise.
    std::optional<std::string> header_name(const field& f) {
        std::optional<std::string> name = r_.text(f);
        if (!name) return std::nullopt;
        if (name->empty()) {
            r_.fail(f.mark, f.label + ": must not be empty");
            return std::nullopt;
        }
        if (!is_token(*name)) {
            r_.fail(f.mark, f.label + ": " + quoted(*name) + " is not a valid header name");
            return std::nullopt;
        }
        lowercase_ascii(*name);
        return name;
    }

private:
    /// `extract:` or `inject:`: known format names, each once, or `[none]` (empty result).
    std::optional<std::vector<std::string>> read_format_list(const field& f) {
        if (f.node.IsNull() || (f.node.IsSequence() && f.node.size() == 0)) {
            r_.fail(f.mark, f.label + ": must name at least one format, or be [none] for no propagation");
            return std::nullopt;
        }
        std::vector<std::string> formats;
        std::map<std::string, int> first_line;
        std::optional<YAML::Mark> none_at;
        std::size_t entries = 0;
        bool ok = true;
        const bool is_list = r_.for_each_item(f, f.label, [&](const field& item) {
            ++entries;
            std::optional<std::string> name = r_.text(item);
            if (!name) {
                ok = false;
                return;
            }
            if (*name == no_propagation) {
                none_at = item.mark;
                return;
            }
            if (std::find(propagation_format_names.begin(), propagation_format_names.end(), *name) ==
                propagation_format_names.end()) {
                r_.fail(item.mark, with_suggestion(f.label + ": unknown propagation format " + quoted(*name) +
                                                       " (expected " + format_list() + ")",
                                                   *name, propagation_format_names));
                ok = false;
                return;
            }
            const auto [seen, inserted] = first_line.emplace(*name, item.mark.line + 1);
            if (!inserted) {
                r_.fail(item.mark, f.label + ": " + quoted(*name) + " is listed twice (first at line " +
                                       std::to_string(seen->second) + ")");
                ok = false;
                return;
            }
            formats.push_back(std::move(*name));
        });
        if (!is_list) return std::nullopt;
        if (none_at && entries > 1) {
            r_.fail(*none_at, f.label + ": \"none\" must be the only entry when present");
            return std::nullopt;
        }
        if (!ok) return std::nullopt;
        return formats;
    }

    void read_sampling(const field& sampling, keys_in_file& in_file) {
        sampling_config& s = t_.sampling;
        r_.for_each_key(sampling, "sampling", sampling_keys, [&](const field& f) {
            if (f.label == "ratio") {
                in_file.ratio = true;
                if (auto ratio = number(f)) {
                    if (*ratio < 0 || *ratio > 1) {
                        r_.fail(f.mark, "ratio: must be from 0 to 1, got " + *r_.text(f));
                    }
                    s.ratio = *ratio;
                }
            } else if (f.label == "parent_based") {
                in_file.parent_based = true;
                if (auto b = r_.boolean(f)) s.parent_based = *b;
            } else if (f.label == "force_header") {
                if (auto name = header_name(f)) s.force_header = std::move(*name);
            } else if (f.label == "max_per_second") {
                if (auto rate = number(f)) {
                    if (!(*rate > 0)) {
                        r_.fail(f.mark, "max_per_second: must be greater than 0, got " + *r_.text(f) +
                                            " (leave it out for no cap)");
                    }
                    s.max_per_second = *rate;
                }
            } else {
                r_.for_each_key(f, "keep", keep_keys, [&](const field& k) {
                    if (k.label == "errors") {
                        if (auto b = r_.boolean(k)) s.keep_errors = *b;
                    } else if (auto d = r_.duration_value(k)) {
                        s.keep_slower_than = *d;
                    }
                });
            }
        });
    }

    std::optional<double> number(const field& f) {
        const std::optional<std::string> text = r_.text(f);
        if (!text) return std::nullopt;
        std::optional<double> value = parse_number(*text);
        if (!value) {
            r_.fail(f.mark, f.label + ": expected a number, got " +
                                (f.node.IsNull() ? std::string("nothing") : quoted(*text)));
        }
        return value;
    }

    yaml_reader& r_;
    tracing_config t_;
};

/// A tag's `env:` value: "NAME" or "NAME:-default", read now.
std::optional<std::string> env_tag_value(const field& f, yaml_reader& r) {
    const std::optional<std::string> text = r.text(f);
    if (!text) return std::nullopt;
    const std::size_t dash = text->find(":-");
    const std::string name = text->substr(0, dash);
    if (!is_env_name(name)) {
        r.fail(f.mark, "env: " + quoted(*text) +
                           " is not an environment variable name (expected NAME or NAME:-default)");
        return std::nullopt;
    }
    const std::optional<std::string> value = r.env()(name);
    if (dash != std::string::npos && (!value || value->empty())) return text->substr(dash + 2);
    if (!value) {
        r.fail(f.mark, "env: environment variable " + quoted(name) + " is not set (write " + name +
                           ":-default to give a default)");
    }
    return value;
}

}  // namespace

tracing_config read_tracing(const field& tracing, yaml_reader& reader, keys_in_file& in_file) {
    return tracing_reader(reader).read(tracing, in_file);
}

std::vector<tag_config> read_tags(const field& tags, yaml_reader& r) {
    std::vector<tag_config> out;
    std::map<std::string, int> first_line;
    r.for_each_item(tags, "tag", [&](const field& item) {
        std::optional<field> name;
        std::vector<field> sources;
        const bool is_map = r.for_each_key(item, "tag", tag_keys, [&](const field& f) {
            if (f.label == "name") {
                name = f;
            } else {
                sources.push_back(f);
            }
        });
        if (!is_map) return;
        tag_config tag;
        bool ok = true;
        if (!name) {
            r.fail(item.mark, "tag: missing required key \"name\"");
            ok = false;
        } else if (auto n = r.text(*name)) {
            if (n->empty()) {
                r.fail(name->mark, "tag: \"name\" must not be empty");
                ok = false;
            } else {
                const auto [seen, inserted] = first_line.emplace(*n, name->mark.line + 1);
                if (!inserted) {
                    r.fail(name->mark, "name: duplicate tag name " + quoted(*n) + " (first defined at line " +
                                           std::to_string(seen->second) + ")");
                }
                tag.name = std::move(*n);
            }
        } else {
            ok = false;
        }
        if (sources.empty()) {
            r.fail(item.mark, "tag: needs one of \"header\", \"literal\", \"env\" or \"client_certificate\"");
            return;
        }
        for (std::size_t i = 1; i < sources.size(); ++i) {
            r.fail(sources[i].mark, sources[i].label + ": conflicts with " + quoted(sources[0].label) +
                                        "; a tag takes exactly one of header, literal, env, client_certificate");
        }
        const field& source = sources.front();
        std::optional<std::string> value;
        if (source.label == "header") {
            tag.from = tag_config::source::header;
            value = tracing_reader(r).header_name(source);
        } else if (source.label == "literal") {
            tag.from = tag_config::source::literal;
            value = r.text(source);
        } else if (source.label == "client_certificate") {
            // The verified client certificate of an mTLS listener; only its subject so far.
            tag.from = tag_config::source::client_certificate;
            value = r.text(source);
            if (value && *value != "subject") {
                r.fail(source.mark, "client_certificate: expected subject, got " + quoted(*value));
                value.reset();
            }
        } else {
            tag.from = tag_config::source::env;
            value = env_tag_value(source, r);
        }
        if (!value || !ok || sources.size() > 1) return;
        tag.value = std::move(*value);
        out.push_back(std::move(tag));
    });
    return out;
}

std::optional<std::string> read_span_name(const field& f, yaml_reader& r) {
    std::optional<std::string> text = r.text(f);
    if (!text) return std::nullopt;
    if (text->empty()) {
        r.fail(f.mark, "span_name: must not be empty (leave it out for \"{method} {route}\")");
        return std::nullopt;
    }
    for (std::size_t i = 0; i < text->size(); ++i) {
        const char c = (*text)[i];
        if (c == '}') {
            r.fail(f.mark, "span_name: \"}\" without \"{\" in " + quoted(*text));
            return std::nullopt;
        }
        if (c != '{') continue;
        const std::size_t close = text->find('}', i + 1);
        if (close == std::string::npos) {
            r.fail(f.mark, "span_name: unclosed \"{\" in " + quoted(*text));
            return std::nullopt;
        }
        const std::string_view name = std::string_view(*text).substr(i + 1, close - i - 1);
        if (std::find(span_name_placeholders.begin(), span_name_placeholders.end(), name) ==
            span_name_placeholders.end()) {
            std::string message = "span_name: unknown placeholder \"{" + std::string(name) + "}\" in " +
                                  quoted(*text) + " (expected {method}, {path}, {host} or {route})";
            if (auto suggestion = nearest(name, span_name_placeholders)) {
                message += "; did you mean \"{" + *suggestion + "}\"?";
            }
            r.fail(f.mark, std::move(message));
            return std::nullopt;
        }
        i = close;
    }
    return text;
}

void apply_otel_env(settings& s, const keys_in_file& in_file, yaml_reader& r) {
    // OpenTelemetry: an empty variable is treated as unset.
    const auto variable = [&](const std::string& name) -> std::optional<std::string> {
        const std::optional<std::string> value = r.env()(name);
        if (!value || trim(*value).empty()) return std::nullopt;
        return std::string(trim(*value));
    };
    const YAML::Mark start = YAML::Mark::null_mark();  // reported as line 1, column 1

    if (!in_file.service_name) {
        if (auto name = variable("OTEL_SERVICE_NAME")) s.service_name = std::move(*name);
    }

    if (!in_file.extract || !in_file.inject) {
        if (auto value = variable("OTEL_PROPAGATORS")) {
            std::vector<std::string> formats;
            bool ok = true, none = false;
            std::size_t entries = 0;
            for (std::size_t pos = 0;;) {
                const std::size_t comma = value->find(',', pos);
                const std::string_view entry =
                    trim(std::string_view(*value).substr(pos, comma == std::string::npos ? comma : comma - pos));
                if (!entry.empty()) {
                    ++entries;
                    if (entry == no_propagation) {
                        none = true;
                    } else if (std::find(propagation_format_names.begin(), propagation_format_names.end(),
                                         entry) == propagation_format_names.end()) {
                        r.fail(start, with_suggestion("OTEL_PROPAGATORS: unknown propagator " +
                                                          quoted(entry) + " in " + quoted(*value) +
                                                          " (expected " + format_list() + ")",
                                                      entry, propagation_format_names));
                        ok = false;
                    } else if (std::find(formats.begin(), formats.end(), entry) == formats.end()) {
                        formats.emplace_back(entry);  // repeats ignored, as OpenTelemetry specifies
                    }
                }
                if (comma == std::string::npos) break;
                pos = comma + 1;
            }
            if (entries == 0) {
                r.fail(start, "OTEL_PROPAGATORS: names no propagator, got " + quoted(*value));
                ok = false;
            }
            if (none && entries > 1) {
                r.fail(start, "OTEL_PROPAGATORS: \"none\" must be the only entry, got " + quoted(*value));
                ok = false;
            }
            if (ok) {
                if (!in_file.extract) s.tracing.extract = formats;
                if (!in_file.inject) s.tracing.inject = std::move(formats);
            }
        }
    }

    if (!in_file.ratio || !in_file.parent_based) {
        if (auto name = variable("OTEL_TRACES_SAMPLER")) {
            const auto choice = std::find_if(samplers.begin(), samplers.end(),
                                             [&](const sampler_choice& c) { return c.name == *name; });
            if (choice == samplers.end()) {
                std::array<std::string_view, samplers.size()> names;
                std::transform(samplers.begin(), samplers.end(), names.begin(),
                               [](const sampler_choice& c) { return c.name; });
                std::string message = "OTEL_TRACES_SAMPLER: unsupported sampler " + quoted(*name) +
                                      " (expected always_on, always_off, traceidratio, "
                                      "parentbased_always_on, parentbased_always_off or "
                                      "parentbased_traceidratio)";
                r.fail(start, with_suggestion(std::move(message), *name, names));
                return;
            }
            std::optional<double> ratio = choice->ratio;
            if (!ratio && !in_file.ratio) {
                ratio = 1.0;  // OpenTelemetry's default when the argument is absent
                if (auto arg = variable("OTEL_TRACES_SAMPLER_ARG")) {
                    ratio = parse_number(*arg);
                    if (!ratio || *ratio < 0 || *ratio > 1) {
                        r.fail(start, "OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 to 1 for " +
                                          std::string(choice->name) + ", got " + quoted(*arg));
                        return;
                    }
                }
            }
            if (!in_file.ratio && ratio) s.tracing.sampling.ratio = *ratio;
            if (!in_file.parent_based) s.tracing.sampling.parent_based = choice->parent_based;
        }
    }
}

}  // namespace tracegate::config::detail
