#include "config/dump.hpp"

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

namespace tracegate::config {
namespace {

namespace json = boost::json;

std::string text(duration d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::string_view text(lb_policy p) {
    switch (p) {
        case lb_policy::round_robin: return "round_robin";
        case lb_policy::least_request: return "least_request";
        case lb_policy::random: return "random";
    }
    return "round_robin";
}

std::string_view text(exporter_config::kind k) {
    switch (k) {
        case exporter_config::kind::otlp: return "otlp";
        case exporter_config::kind::zipkin: return "zipkin";
        case exporter_config::kind::cloudtrace: return "cloudtrace";
        case exporter_config::kind::file: return "file";
        case exporter_config::kind::memory: return "memory";
    }
    return "memory";
}

json::array strings(const std::vector<std::string>& v) {
    json::array out;
    for (const auto& s : v) out.emplace_back(s);
    return out;
}

json::array tags(const std::vector<tag_config>& list) {
    json::array out;
    for (const auto& t : list) {
        // An env tag holds the variable's value as read at load: that is what spans get.
        const std::string_view from = t.from == tag_config::source::header               ? "header"
                                      : t.from == tag_config::source::client_certificate ? "client_certificate"
                                                                                         : "literal";
        out.emplace_back(json::object{{"name", t.name}, {from, t.value}});
    }
    return out;
}

json::object match(const route_match& m) {
    json::object out;
    if (m.host) out["host"] = *m.host;
    if (m.path) out["path"] = *m.path;
    if (m.path_prefix) out["path_prefix"] = *m.path_prefix;
    if (m.path_regex) out["path_regex"] = *m.path_regex;
    if (!m.methods.empty()) out["methods"] = strings(m.methods);
    if (!m.headers.empty()) {
        json::object headers;
        for (const auto& [name, value] : m.headers) headers[name] = value;
        out["headers"] = std::move(headers);
    }
    return out;
}

json::object exporter(const exporter_config& e) {
    using kind = exporter_config::kind;
    json::object out{{"type", text(e.type)}};
    if (e.type == kind::otlp || e.type == kind::zipkin || e.type == kind::cloudtrace) {
        out["endpoint"] = e.endpoint;
        if (e.type == kind::otlp)
            out["encoding"] = e.otlp_encoding == exporter_config::encoding::json ? "json" : "protobuf";
        out["compression"] = e.gzip ? "gzip" : "none";
        json::object headers;
        for (const auto& h : e.headers) headers[h.first] = redacted;
        out["headers"] = std::move(headers);
        out["timeout"] = text(e.timeout);
        if (e.ca_file) out["ca_file"] = *e.ca_file;
    }
    if (e.type == kind::cloudtrace) {
        out["project_id"] = e.project_id;
        if (e.token_file) out["token_file"] = *e.token_file;
        if (e.token_env) out["token_env"] = *e.token_env;
        if (e.metadata_server) out["metadata_server"] = *e.metadata_server;
    }
    if (e.type == kind::file) out["path"] = e.path;
    return out;
}

json::object tracing(const tracing_config& t) {
    const sampling_config& s = t.sampling;
    json::object sampling{{"ratio", s.ratio},
                          {"parent_based", s.parent_based},
                          {"keep", json::object{{"errors", s.keep_errors},
                                                {"slower_than", text(s.keep_slower_than)}}}};
    if (s.force_header) sampling["force_header"] = *s.force_header;
    if (s.max_per_second) sampling["max_per_second"] = *s.max_per_second;
    json::array exporters;
    for (const auto& e : t.exporters) exporters.emplace_back(exporter(e));
    return json::object{
        {"propagation", json::object{{"extract", strings(t.extract)}, {"inject", strings(t.inject)}}},
        {"upstream_span", t.upstream_span},
        {"response_header", t.response_header},
        {"request_id_header", t.request_id_header},
        {"record_query", t.record_query},
        {"max_tag_value_bytes", t.max_tag_value_bytes},
        {"sampling", std::move(sampling)},
        {"tags", tags(t.tags)},
        {"export",
         json::object{{"max_queue_spans", t.exporting.max_queue_spans},
                      {"max_batch_spans", t.exporting.max_batch_spans},
                      {"flush_interval", text(t.exporting.flush_interval)},
                      {"shutdown_timeout", text(t.exporting.shutdown_timeout)}}},
        {"exporters", std::move(exporters)},
        {"store", json::object{{"max_traces", t.store.max_traces}, {"max_bytes", t.store.max_bytes}}},
    };
}

// File paths only: the keys themselves never leave the files they are in.
json::object tls(const listener_tls_config& t) {
    json::array certificates;
    for (const auto& c : t.certificates) {
        json::object o{{"cert", c.cert}, {"key", c.key}};
        if (!c.server_names.empty()) o["server_names"] = strings(c.server_names);
        certificates.emplace_back(std::move(o));
    }
    json::object out{{"certificates", std::move(certificates)},
                     {"min_version", t.min_version == tls_version::v1_3 ? "1.3" : "1.2"}};
    if (t.client_ca) out["client_ca"] = *t.client_ca;
    return out;
}

json::object tls(const upstream_tls_config& t) {
    json::object out;
    if (t.server_name) out["server_name"] = *t.server_name;
    if (t.ca_file) out["ca_file"] = *t.ca_file;
    if (t.cert) out["cert"] = *t.cert;
    if (t.key) out["key"] = *t.key;
    out["verify"] = t.verify;
    return out;
}

json::object tree(const settings& s) {
    json::array listeners;
    for (const auto& l : s.listeners) {
        json::object o{{"name", l.name}, {"address", l.bind.to_string()},
                       {"trust_incoming_trace", l.trust_incoming_trace}};
        if (l.response_header) o["response_header"] = *l.response_header;
        if (l.tls) o["tls"] = tls(*l.tls);
        o["upgrades"] = strings(l.upgrades);
        listeners.emplace_back(std::move(o));
    }
    json::array upstreams;
    for (const auto& u : s.upstreams) {
        json::array endpoints;
        for (const auto& e : u.endpoints) endpoints.emplace_back(e.to_string());
        json::object o{{"name", u.name},
                       {"endpoints", std::move(endpoints)},
                       {"lb", text(u.lb)},
                       {"connect_timeout", text(u.connect_timeout)},
                       {"max_idle_connections", u.max_idle_connections}};
        if (u.tls) o["tls"] = tls(*u.tls);
        upstreams.emplace_back(std::move(o));
    }
    json::array routes;
    for (const auto& r : s.routes)
        routes.emplace_back(json::object{{"name", r.name},
                                         {"match", match(r.match)},
                                         {"upstream", r.upstream},
                                         {"timeout", text(r.timeout)},
                                         {"span_name", r.span_name},
                                         {"tags", tags(r.tags)}});
    const limits_config& l = s.limits;
    json::object access_log;
    if (s.access_log.enabled)
        access_log = {{"path", s.access_log.path},
                      {"format", s.access_log.style == access_log_config::format::json ? "json" : "text"}};
    json::object out{
        {"service_name", s.service_name},
        {"workers", s.workers},
        {"listeners", std::move(listeners)},
        {"upstreams", std::move(upstreams)},
        {"routes", std::move(routes)},
        {"limits", json::object{{"max_header_bytes", l.max_header_bytes},
                                {"header_timeout", text(l.header_timeout)},
                                {"idle_timeout", text(l.idle_timeout)},
                                {"body_timeout", text(l.body_timeout)},
                                {"max_body_bytes", l.max_body_bytes},
                                {"max_connections", l.max_connections},
                                {"drain_timeout", text(l.drain_timeout)}}},
        {"tracing", tracing(s.tracing)},
        {"admin", json::object{{"enabled", s.admin.enabled},
                               {"address", s.admin.bind.to_string()},
                               {"max_receive_bytes", s.admin.max_receive_bytes},
                               {"hosts", strings(s.admin.hosts)}}},
    };
    if (s.access_log.enabled) out["access_log"] = std::move(access_log);
    return out;
}

void pretty(std::string& out, const json::value& v, int indent) {
    const auto newline = [&](int level) {
        out += '\n';
        out.append(static_cast<std::size_t>(level) * 2, ' ');
    };
    if (const auto* o = v.if_object(); o && !o->empty()) {
        out += '{';
        bool first = true;
        for (const auto& kv : *o) {
            if (!first) out += ',';
            first = false;
            newline(indent + 1);
            out += json::serialize(json::value(kv.key()));
            out += ": ";
            pretty(out, kv.value(), indent + 1);
        }
        newline(indent);
        out += '}';
    } else if (const auto* a = v.if_array(); a && !a->empty()) {
        out += '[';
        bool first = true;
        for (const auto& item : *a) {
            if (!first) out += ',';
            first = false;
            newline(indent + 1);
            pretty(out, item, indent + 1);
        }
        newline(indent);
        out += ']';
    } else {
        out += json::serialize(v);
    }
}

void emit(YAML::Emitter& out, const json::value& v) {
    switch (v.kind()) {
        case json::kind::object:
            out << YAML::BeginMap;
            for (const auto& kv : v.get_object()) {
                out << YAML::Key << std::string(kv.key()) << YAML::Value;
                emit(out, kv.value());
            }
            out << YAML::EndMap;
            break;
        case json::kind::array:
            out << YAML::BeginSeq;
            for (const auto& item : v.get_array()) emit(out, item);
            out << YAML::EndSeq;
            break;
        case json::kind::string: {
            const std::string s(v.get_string());
            // Quoted when YAML would read it back as something else (true, 1, null, ...).
            out << YAML::DoubleQuoted << s;
            break;
        }
        case json::kind::bool_: out << v.get_bool(); break;
        case json::kind::int64: out << v.get_int64(); break;
        case json::kind::uint64: out << v.get_uint64(); break;
        case json::kind::double_: out << v.get_double(); break;
        case json::kind::null: out << YAML::Null; break;
    }
}

}  // namespace

std::string dump_json(const settings& s) {
    std::string out;
    pretty(out, tree(s), 0);
    out += '\n';
    return out;
}

std::string dump_yaml(const settings& s) {
    YAML::Emitter out;
    out.SetIndent(2);
    emit(out, tree(s));
    std::string text = out.c_str();
    text += '\n';
    return text;
}

}  // namespace tracegate::config
