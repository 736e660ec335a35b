#include "proxy/request_trace.hpp"

#include "proxy/log.hpp"
#include "tracing/w3c_baggage.hpp"

#include <boost/beast/http/field.hpp>

#include <array>
#include <charconv>
#include <list>

namespace tracegate::proxy {
namespace http = boost::beast::http;

namespace {

/// Beast's header as the tracing carrier. Several lines of one header read as one value
/// joined with ","; joined values live as long as the carrier (propagators hold several).
class fields_carrier final : public tracing::carrier {
public:
    explicit fields_carrier(http::fields& fields) : fields_(fields) {
        for (const auto& f : fields_) present_ |= name_bit(f.name_string());
    }
    std::optional<std::string_view> get(std::string_view name) const override {
        if ((present_ & name_bit(name)) == 0) return std::nullopt;
        auto [first, last] = fields_.equal_range(name);
        if (first == last) return std::nullopt;
        if (std::next(first) == last) return std::string_view(first->value());
        std::string& joined = joined_.emplace_back();
        for (auto it = first; it != last; ++it) {
            if (!joined.empty()) joined += ',';
            joined += it->value();
        }
        return std::string_view(joined);
    }
    void set(std::string_view name, std::string_view value) override {
        fields_.set(name, value);
        present_ |= name_bit(name);
    }
    void remove(std::string_view name) override {
        if ((present_ & name_bit(name)) != 0) fields_.erase(name);
    }

private:
    /// One bit of a 64-bit set per header name, ASCII case folded. Propagators ask for
    /// many headers a request does not have (every format's, on extract and before
    /// inject); a clear bit answers those without searching Beast's field tree.
    static std::uint64_t name_bit(std::string_view name) {
        if (name.empty()) return 1;
        // Length and the case-folded first, middle and last characters: constant time,
        // and apart enough for the dozen trace header names.
        const auto fold = [](char c) { return static_cast<std::uint32_t>(static_cast<unsigned char>(c) | 0x20u); };
        const std::uint32_t h = static_cast<std::uint32_t>(name.size()) * 0x9e3779b1u ^
                                fold(name.front()) * 0x85ebca6bu ^
                                fold(name[name.size() / 2]) * 0xc2b2ae35u ^ fold(name.back()) * 0x27d4eb2fu;
        return std::uint64_t{1} << (h >> 26);
    }

    http::fields& fields_;
    std::uint64_t present_ = 0;
    mutable std::list<std::string> joined_;
};

tracing::sampler_options sampler_options_of(const config::sampling_config& s) {
    tracing::sampler_options o;
    o.ratio = s.ratio;
    o.parent_based = s.parent_based;
    o.max_per_second = s.max_per_second;
    o.keep_errors = s.keep_errors;
    o.keep_slower_than = s.keep_slower_than;
    return o;
}

std::optional<tracing::composite_propagator> make_extractor(const config::tracing_config& c) {
    if (c.extract.empty()) return std::nullopt;
    auto result = tracing::composite_propagator::create(c.extract);
    if (!result) {
        TG_LOG(error) << "tracing.propagation.extract: " << result.error->message;
        return std::nullopt;
    }
    return std::move(*result.value);
}

tracing::format_set inject_set_of(const config::tracing_config& c) {
    tracing::format_set set;
    for (const auto& name : c.inject)
        if (auto format = tracing::parse_propagation_format(name)) set.insert(*format);
    return set;
}

/// The route's span_name with {method} {path} {host} {route} filled in.
std::string span_name(const routing::route* route, std::string_view method, std::string_view path,
                      std::string_view host) {
    if (route == nullptr) return std::string(method);
    const std::string& pattern = route->config.span_name;
    std::string name;
    name.reserve(pattern.size() + 16);
    for (std::size_t i = 0; i < pattern.size();) {
        if (pattern[i] == '{') {
            const auto close = pattern.find('}', i);
            if (close != std::string::npos) {
                const std::string_view key(pattern.data() + i + 1, close - i - 1);
                const bool known = key == "method" || key == "path" || key == "host" || key == "route";
                if (known) {
                    name += key == "method" ? method
                            : key == "path" ? path
                            : key == "host" ? host
                                            : std::string_view(route->config.name);
                    i = close + 1;
                    continue;
                }
            }
        }
        name += pattern[i++];
    }
    return name;
}

void apply_tags(tracing::span& span, const std::vector<config::tag_config>& tags,
                const http::fields& request, std::size_t max_value, std::string_view client_subject) {
    for (const auto& tag : tags) {
        switch (tag.from) {
        case config::tag_config::source::header:
            if (auto it = request.find(tag.value); it != request.end())
                span.set_attribute(tag.name, std::string_view(it->value()).substr(0, max_value));
            break;
        case config::tag_config::source::literal:
        case config::tag_config::source::env: span.set_attribute(tag.name, tag.value); break;
        case config::tag_config::source::client_certificate:
            if (!client_subject.empty()) span.set_attribute(tag.name, client_subject.substr(0, max_value));
            break;
        }
    }
}

/// "host[:port]" split, IPv6 brackets kept off the host.
std::pair<std::string_view, std::optional<std::uint16_t>> split_host(std::string_view host) {
    std::string_view name = host;
    std::string_view port;
    if (host.starts_with('[')) {
        const auto close = host.find(']');
        if (close != std::string_view::npos) {
            name = host.substr(1, close - 1);
            if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
        }
    } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
        name = host.substr(0, colon);
        port = host.substr(colon + 1);
    }
    std::uint16_t value = 0;
    if (!port.empty() &&
        std::from_chars(port.data(), port.data() + port.size(), value).ec == std::errc{})
        return {name, value};
    return {name, std::nullopt};
}

}  // namespace

tracing_runtime::tracing_runtime(const config::settings& settings,
                                 std::shared_ptr<tracing::span_sink> sink)
    : config(settings.tracing), extract(make_extractor(settings.tracing)),
      inject(inject_set_of(settings.tracing)),
      tracer(tracing::tracer_options{settings.service_name,
                                     sampler_options_of(settings.tracing.sampling)},
             std::move(sink)),
      request_id_attribute("http.request.header." + settings.tracing.request_id_header) {}

request_trace::request_trace(const tracing_runtime& tracing, http::fields& request,
                             std::string_view method, std::string_view target, unsigned version,
                             const routing::route* route, std::string_view upstream_name,
                             const request_facts& facts)
    : tracing_(tracing), observer_(facts.observer), worker_(facts.worker),
      client_address_(facts.client_address), target_(target), version_(version), route_(route),
      method_(method) {
    const auto& cfg = tracing.config;
    fields_carrier carrier(request);

    // The incoming context: the parent on a trusted listener, only a link on another.
    std::optional<tracing::span_context> incoming;
    if (tracing.extract) {
        auto found = tracing.extract->extract_with_source(carrier);
        incoming = std::move(found.context);
    }
    inject_ = tracing.inject | tracing::formats_present(carrier);
    // W3C baggage goes on unchanged, unless it is malformed or over the spec's limits.
    tracing::limit_baggage(carrier);
    std::optional<tracing::span_context> parent;
    std::array<tracing::span_context, 1> links;
    std::size_t link_count = 0;
    if (facts.trusted) {
        parent = incoming;
        if (cfg.sampling.force_header && request.find(*cfg.sampling.force_header) != request.end()) {
            if (!parent) parent.emplace();
            parent->set_sampling_decision(true);
        }
    } else if (incoming && incoming->is_valid()) {
        links[link_count++] = *incoming;
    }

    const std::string_view path = target.substr(0, target.find('?'));
    const auto host_it = request.find(http::field::host);
    const std::string_view host = host_it == request.end() ? std::string_view{}
                                                           : std::string_view(host_it->value());
    const auto [host_name, host_port] = split_host(host);
    server_ = tracing.tracer.start_server_span(parent, span_name(route, method, path, host_name),
                                               std::span(links.data(), link_count));

    // The request id goes upstream, back to the client and on the span.
    if (!cfg.request_id_header.empty()) {
        if (auto it = request.find(cfg.request_id_header); it != request.end()) {
            request_id_ = std::string(it->value());
        } else {
            request_id_ = tracing::tracer::default_id_generator().new_trace_id().to_hex();
            request.set(cfg.request_id_header, request_id_);
        }
    }
    response_header_ = facts.response_header.value_or(cfg.response_header && facts.trusted);
    if (observer_) observer_->span_started(worker_, server_.recording());

    if (!server_.recording()) return;  // nothing below matters for an unrecorded span
    // Distinct keys on a fresh span (add, no lookup); tags below may replace any of them.
    server_.add_attribute("http.request.method", method);
    server_.add_attribute("url.path", path);
    if (cfg.record_query && path.size() < target.size())
        server_.add_attribute("url.query", target.substr(path.size() + 1));
    server_.add_attribute("url.scheme", facts.scheme);
    if (!host_name.empty()) server_.add_attribute("server.address", host_name);
    server_.add_attribute("server.port", std::int64_t{host_port.value_or(facts.local_port)});
    server_.add_attribute("client.address", facts.client_address);
    server_.add_attribute("network.peer.address", facts.client_address);
    server_.add_attribute("network.peer.port", std::int64_t{facts.client_port});
    server_.add_attribute("network.protocol.version", version == 10 ? "1.0" : "1.1");
    if (auto ua = request.find(http::field::user_agent); ua != request.end())
        server_.add_attribute("user_agent.original", std::string_view(ua->value()));
    if (!request_id_.empty())
        server_.add_attribute(tracing.request_id_attribute, request_id_);
    if (route != nullptr) {
        server_.add_attribute("http.route", route->config.name);
        server_.add_attribute("tracegate.route", route->config.name);
        server_.add_attribute("tracegate.upstream", upstream_name);
    }
    if (!facts.client_subject.empty()) server_.add_attribute("tls.client.subject", facts.client_subject);
    apply_tags(server_, cfg.tags, request, cfg.max_tag_value_bytes, facts.client_subject);
    if (route != nullptr)
        apply_tags(server_, route->config.tags, request, cfg.max_tag_value_bytes, facts.client_subject);
}

void request_trace::begin_attempt(http::fields& request, const config::address& endpoint) {
    client_.end();  // a retry: the previous attempt is over
    endpoint_ = &endpoint;
    const bool per_attempt = tracing_.config.upstream_span;
    if (per_attempt) {
        client_ = tracing_.tracer.start_client_span(server_, method_);
        if (client_.recording()) {
            client_.add_attribute("http.request.method", method_);
            client_.add_attribute("server.address", endpoint.host);
            client_.add_attribute("server.port", std::int64_t{endpoint.port});
            client_.add_attribute("network.peer.address", endpoint.host);
        }
    }
    if (server_.recording()) server_.set_attribute("tracegate.endpoint", endpoint.to_string());
    // A service never sees two contexts that disagree: every known format out, fresh in.
    fields_carrier carrier(request);
    tracing::remove_trace_fields(carrier);
    tracing::inject_formats(per_attempt ? client_.context() : server_.context(), carrier, inject_);
}

void request_trace::attempt_failed(std::string_view reason) {
    if (tracing_.config.upstream_span)
        client_.set_error(reason);
    else if (server_.recording())
        server_.add_event(std::string("upstream attempt failed: ").append(reason));
}

void request_trace::abandoned(std::string_view reason, bool upstream) {
    error_ = reason;
    upstream_failed_ = upstream;
    client_.set_error(reason);
    server_.set_error(reason);
}

void request_trace::on_response(unsigned status) {
    status_ = status;
    attempt().add_event("first upstream byte");
    client_.set_attribute("http.response.status_code", std::int64_t{status});
    server_.set_attribute("http.response.status_code", std::int64_t{status});
    if (status >= 500) {
        // OpenTelemetry: error.type is the status code when nothing more precise is known.
        const auto text = std::to_string(status);
        client_.set_error(text);
        server_.set_error(text);
    }
}

void request_trace::on_failure(std::string_view reason, unsigned status, bool upstream) {
    status_ = status;
    error_ = reason;
    upstream_failed_ = upstream;
    server_.set_attribute("http.response.status_code", std::int64_t{status});
    client_.set_error(reason);
    if (status >= 500 || reason == "no_route") server_.set_error(reason);
}

void request_trace::decorate(http::fields& response) const {
    if (!request_id_.empty()) response.set(tracing_.config.request_id_header, request_id_);
    if (!response_header_) return;
    // W3C Trace Context Level 2 traceresponse: 00-{trace-id}-{child-id}-{flags}.
    const auto& ctx = server_.context();
    if (!ctx.is_valid()) return;
    // Formatted on the stack: the only allocation is the header field's own.
    static constexpr char hex[] = "0123456789abcdef";
    constexpr std::size_t size = 3 + tracing::trace_id::hex_size + 1 + tracing::span_id::hex_size + 3;
    char value[size];
    char* out = value;
    *out++ = '0';
    *out++ = '0';
    *out++ = '-';
    ctx.trace_id.write_hex(out);
    out += tracing::trace_id::hex_size;
    *out++ = '-';
    ctx.span_id.write_hex(out);
    out += tracing::span_id::hex_size;
    const auto f = static_cast<unsigned>(ctx.trace_flags & 0x03);
    *out++ = '-';
    *out++ = hex[f >> 4];
    *out++ = hex[f & 0xf];
    response.set("traceresponse", std::string_view(value, size));
}

void request_trace::finish(std::uint64_t request_body_bytes, std::uint64_t response_body_bytes) {
    if (finished_) return;
    finished_ = true;
    attempt().add_event("response complete");
    server_.set_attribute("http.request.body.size", std::int64_t(request_body_bytes));
    server_.set_attribute("http.response.body.size", std::int64_t(response_body_bytes));
    client_.end();
    server_.end();
    if (observer_) report(request_body_bytes, response_body_bytes);
}

void request_trace::report(std::uint64_t request_body_bytes, std::uint64_t response_body_bytes) {
    if (upstream_failed_) observer_->upstream_error(worker_, error_);
    // Ids as text on the stack: every request is reported, and the metrics never read them.
    char trace_id[tracing::trace_id::hex_size];
    char span_id[tracing::span_id::hex_size];
    request_record r;
    if (const auto& ctx = server_.context(); ctx.is_valid()) {
        ctx.trace_id.write_hex(trace_id);
        ctx.span_id.write_hex(span_id);
        r.trace_id = std::string_view(trace_id, sizeof trace_id);
        r.span_id = std::string_view(span_id, sizeof span_id);
    }
    r.start = started_wall_;
    r.duration = std::chrono::steady_clock::now() - started_;
    r.client_address = client_address_;
    r.method = method_;
    r.target = target_;
    r.version = version_;
    r.status = status_;
    r.bytes_in = request_body_bytes;
    r.bytes_out = response_body_bytes;
    if (route_) r.route = route_->config.name;
    r.upstream = endpoint_;
    r.error = error_;
    r.request_id = request_id_;
    observer_->request_done(worker_, r);
}

}  // namespace tracegate::proxy
