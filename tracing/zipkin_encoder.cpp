#include "tracing/zipkin_encoder.hpp"

#include "tracing/encode_util.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>

// The mapping follows the OpenTelemetry → Zipkin transformation
// (opentelemetry-specification, trace/sdk_exporters/zipkin.md) and the Zipkin v2 API
// (openzipkin/zipkin-api zipkin2-api.yaml):
// - times in whole microseconds, truncated; a duration under 1 µs is sent as 1, because
//   Zipkin reads a missing or zero duration as "unknown";
// - attributes become string tags; status OK/ERROR becomes `otel.status_code`, ERROR also
//   `error` = the status message (empty when none). An attribute named `error` is never
//   sent as a tag: Zipkin marks any span with an `error` tag failed, even "false";
// - dropped counts become `otel.dropped_{attributes,events,links}_count` tags
//   (common/mapping-to-non-otlp.md); links and tracestate have no Zipkin field and are
//   left out, as the specification leaves them;
// - SERVER, CLIENT, PRODUCER, CONSUMER keep their kind; INTERNAL has none in Zipkin and
//   is sent without `kind`, as the specification asks;
// - `shared` and `debug` are never sent.

namespace tracegate::tracing {
namespace {

using namespace std::string_view_literals;

/// Which kind of IP literal a peer address is.
enum class ip_family { none, v4, v6 };

/// The family of `text` as an IP literal (inet_pton(3), so "1.2.3.4" and "2001:db8::1";
/// host names and IPv6 with a zone give none).
ip_family ip_family_of(std::string_view text) noexcept {
    char buffer[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof buffer) return ip_family::none;
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    unsigned char address[sizeof(in6_addr)];
    if (::inet_pton(AF_INET, buffer, address) == 1) return ip_family::v4;
    if (::inet_pton(AF_INET6, buffer, address) == 1) return ip_family::v6;
    return ip_family::none;
}

/// The attributes a remote endpoint is made of, found in one pass over the span's.
struct peer_attributes {
    const std::string* peer_service = nullptr;          // peer.service
    const std::string* server_address = nullptr;        // server.address
    const std::string* client_address = nullptr;        // client.address
    const std::string* network_peer_address = nullptr;  // network.peer.address
    std::optional<std::int64_t> server_port;            // server.port
    std::optional<std::int64_t> client_port;            // client.port
    std::optional<std::int64_t> network_peer_port;      // network.peer.port

    explicit peer_attributes(const std::vector<attribute>& attributes) noexcept {
        for (const auto& a : attributes) {
            if (const auto* text = std::get_if<std::string>(&a.value)) {
                if (a.key == "peer.service"sv) peer_service = text;
                else if (a.key == "server.address"sv) server_address = text;
                else if (a.key == "client.address"sv) client_address = text;
                else if (a.key == "network.peer.address"sv) network_peer_address = text;
            } else if (const auto* number = std::get_if<std::int64_t>(&a.value)) {
                if (a.key == "server.port"sv) server_port = *number;
                else if (a.key == "client.port"sv) client_port = *number;
                else if (a.key == "network.peer.port"sv) network_peer_port = *number;
            }
        }
    }
};

/// A Zipkin Endpoint: serviceName, ipv4 or ipv6, port; empty fields are left out.
struct endpoint {
    std::string_view service_name;
    std::string_view ip;
    ip_family family = ip_family::none;
    std::optional<std::int64_t> port;

    bool empty() const noexcept { return service_name.empty() && family == ip_family::none && !port; }

    /// Sets the IP from the first of `candidates` that is an IP literal.
    void set_ip(std::initializer_list<const std::string*> candidates) noexcept {
        for (const auto* candidate : candidates) {
            if (candidate == nullptr) continue;
            if (const auto f = ip_family_of(*candidate); f != ip_family::none) {
                ip = *candidate;
                family = f;
                return;
            }
        }
    }

    /// Sets the port from the first of `candidates` that is a valid port number.
    void set_port(std::initializer_list<std::optional<std::int64_t>> candidates) noexcept {
        for (const auto& candidate : candidates) {
            if (candidate && *candidate > 0 && *candidate <= 65535) {
                port = candidate;
                return;
            }
        }
    }
};

/// Zipkin's Span.kind for an OpenTelemetry kind; empty for INTERNAL, which Zipkin has no
/// kind for (the specification: "SpanKind.INTERNAL ... MUST be omitted").
std::string_view zipkin_kind(span_kind kind) noexcept {
    switch (kind) {
        case span_kind::internal: return {};
        case span_kind::client: return "CLIENT";
        case span_kind::producer: return "PRODUCER";
        case span_kind::consumer: return "CONSUMER";
        case span_kind::server: break;
    }
    return "SERVER";
}

/// The other side of the connection (Zipkin: for a SERVER span the client, for a CLIENT
/// span the server, for a PRODUCER or CONSUMER span the broker; an INTERNAL span has none).
///
/// CLIENT (the upstream call) follows the OpenTelemetry Zipkin exporter: serviceName is
/// the best-ranked of `peer.service`, `server.address`, verbatim even when it is an IP, so
/// Zipkin draws the dependency link to the (usually uninstrumented) upstream. tracegate
/// adds what the exporter would take from `network.peer.address` alone: the address in
/// ipv4/ipv6 when it is an IP literal (else `server.address` when that is one), and the
/// port (`network.peer.port`, else `server.port`).
///
/// SERVER (the downstream request): the OpenTelemetry exporter sends none; Zipkin's model
/// says it is the client, so tracegate sends the client's IP (`network.peer.address`,
/// else `client.address`) in ipv4/ipv6 and its port (`network.peer.port`, else
/// `client.port`). serviceName is `peer.service` when set, else `client.address` when that
/// is a host name rather than an IP: an address is never a service name here.
///
/// PRODUCER and CONSUMER take the CLIENT rule: the messaging conventions name the broker
/// in `server.address` / `server.port`, and Zipkin's model makes the broker the remote
/// endpoint of both.
endpoint remote_endpoint(const span_data& s) noexcept {
    endpoint remote;
    if (s.kind == span_kind::internal) return remote;
    const peer_attributes peer(s.attributes);
    if (s.kind == span_kind::client || s.kind == span_kind::producer || s.kind == span_kind::consumer) {
        if (peer.peer_service != nullptr) remote.service_name = *peer.peer_service;
        else if (peer.server_address != nullptr) remote.service_name = *peer.server_address;
        remote.set_ip({peer.network_peer_address, peer.server_address});
        remote.set_port({peer.network_peer_port, peer.server_port});
    } else {
        if (peer.peer_service != nullptr)
            remote.service_name = *peer.peer_service;
        else if (peer.client_address != nullptr && ip_family_of(*peer.client_address) == ip_family::none)
            remote.service_name = *peer.client_address;
        remote.set_ip({peer.network_peer_address, peer.client_address});
        remote.set_port({peer.network_peer_port, peer.client_port});
    }
    return remote;
}

void append_endpoint(detail::json_writer& w, const endpoint& e) {
    w.raw('{');
    bool first = true;
    const auto field = [&](std::string_view name) {
        if (!first) w.raw(',');
        first = false;
        w.raw('"');
        w.raw(name);
        w.raw("\":");
    };
    if (!e.service_name.empty()) {
        field("serviceName");
        w.string(e.service_name);
    }
    if (e.family != ip_family::none) {
        field(e.family == ip_family::v4 ? "ipv4" : "ipv6");
        w.string(e.ip);
    }
    if (e.port) {
        field("port");
        w.decimal(*e.port);
    }
    w.raw('}');
}

/// Appends an attribute value as the text of a Zipkin tag: strings as they are, booleans
/// "true"/"false", integers in decimal, doubles in the shortest form that reads back the
/// same ("NaN", "Infinity", "-Infinity" for the non-finite ones).
void append_tag_value(detail::json_writer& w, const attribute_value& value) {
    w.raw('"');
    std::visit(
        [&w](const auto& v) {
            using type = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<type, std::string>)
                w.escaped(v);
            else if constexpr (std::is_same_v<type, bool>)
                w.raw(v ? "true" : "false");
            else if constexpr (std::is_same_v<type, std::int64_t>)
                w.decimal(v);
            else if (std::isfinite(v))
                w.shortest(v);
            else
                w.raw(detail::non_finite_name(v));
        },
        value);
    w.raw('"');
}

/// Microseconds of a unix-nanosecond time (Zipkin: whole microseconds, truncated).
std::uint64_t micros(std::uint64_t nanos) noexcept {
    return nanos / 1000;
}

void append_span(detail::json_writer& w, const span_data& s, std::string_view service_name) {
    w.raw("{\"traceId\":\"");
    w.hex(s.trace_id);
    w.raw('"');
    if (s.parent_span_id) {
        w.raw(",\"parentId\":\"");
        w.hex(*s.parent_span_id);
        w.raw('"');
    }
    w.raw(",\"id\":\"");
    w.hex(s.span_id);
    w.raw('"');
    if (const std::string_view kind = zipkin_kind(s.kind); !kind.empty()) {
        w.raw(",\"kind\":\"");
        w.raw(kind);
        w.raw('"');
    }
    w.raw(",\"name\":");
    w.string(s.name);
    w.raw(",\"timestamp\":");
    w.decimal(micros(s.start_time_unix_nano));
    w.raw(",\"duration\":");
    const std::uint64_t duration =
        s.end_time_unix_nano > s.start_time_unix_nano ? micros(s.duration_nanos()) : 0;
    w.decimal(duration == 0 ? std::uint64_t{1} : duration);
    w.raw(",\"localEndpoint\":{\"serviceName\":");
    w.string(service_name);
    w.raw('}');
    if (const endpoint remote = remote_endpoint(s); !remote.empty()) {
        w.raw(",\"remoteEndpoint\":");
        append_endpoint(w, remote);
    }
    if (!s.events.empty()) {
        w.raw(",\"annotations\":[");
        bool first = true;
        for (const auto& e : s.events) {
            if (!first) w.raw(',');
            first = false;
            w.raw("{\"timestamp\":");
            w.decimal(micros(e.time_unix_nano));
            w.raw(",\"value\":");
            w.string(e.name);
            w.raw('}');
        }
        w.raw(']');
    }

    // Tags: `,"tags":{` is written with the first one, so a span without any has none.
    bool first = true;
    const auto tag = [&](std::string_view key) {
        w.raw(first ? ",\"tags\":{" : ",");
        first = false;
        w.string(key);
        w.raw(':');
    };
    for (const auto& a : s.attributes) {
        if (a.key == "error"sv) continue;  // only the status says whether a span failed
        if (a.key == "otel.status_code"sv && s.status != status_code::unset) continue;
        tag(a.key);
        append_tag_value(w, a.value);
    }
    const auto count_tag = [&](std::string_view key, std::uint32_t count) {
        if (count == 0) return;
        tag(key);
        w.quoted_decimal(count);
    };
    count_tag("otel.dropped_attributes_count", s.dropped_attributes_count);
    count_tag("otel.dropped_events_count", s.dropped_events_count);
    count_tag("otel.dropped_links_count", s.dropped_links_count);
    if (s.status == status_code::ok) {
        tag("otel.status_code");
        w.raw("\"OK\"");
    } else if (s.status == status_code::error) {
        tag("otel.status_code");
        w.raw("\"ERROR\"");
        tag("error");
        w.string(s.status_message);
    }
    w.raw(first ? "}" : "}}");
}


}  // namespace

void encode_zipkin_v2(std::span<const span_data> spans, const resource& res, std::string& out) {
    out.clear();
    detail::json_writer w(out);
    w.reserve(2 + detail::estimate_size(spans, {.per_span = 320, .per_attribute = 32, .per_event = 48,
                                               .per_link = 0, .per_link_attribute = 0}));
    const std::string_view service_name = res.service_name();
    w.raw('[');
    bool first = true;
    for (const auto& s : spans) {
        if (!first) w.raw(',');
        first = false;
        append_span(w, s, service_name);
    }
    w.raw(']');
    w.finish();
}

}  // namespace tracegate::tracing
