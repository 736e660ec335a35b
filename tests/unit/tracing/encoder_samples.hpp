// Test support for the span encoder tests: realistic spans as the proxy makes them (see
// proxy/request_trace.cpp) with every value type and the edge cases users would notice.
// Expected values in the tests are literals, never output of the code under test.
#pragma once

#include "tracing/resource.hpp"
#include "tracing/span_data.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tracegate::tracing::test {

/// 2023-11-14T22:13:20.123456789Z
inline constexpr std::uint64_t sample_start = 1'700'000'000'123'456'789;

/// A resource with known values (make_process_resource has a random id and the host's name).
inline resource sample_resource() {
    resource res;
    res.attributes = {{"service.name", std::string("checkout")},
                      {"host.name", std::string("web-1")},
                      {"process.pid", std::int64_t{4242}},
                      {"deployment.environment", std::string("prod")}};
    return res;
}

/// The server span of a request that came with a W3C context: remote parent, tracestate,
/// 22 attributes of every type (zero, false, negative, non-ASCII, characters to escape),
/// three events, a link with attributes, status error with a message, dropped counts.
inline span_data sample_server_span() {
    span_data s;
    s.trace_id = trace_id::from_uint64(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736);
    s.span_id = span_id::from_uint64(0x00f067aa0ba902b7);
    s.parent_span_id = span_id::from_uint64(0x53995c3f42cd8ad8);
    s.parent_is_remote = true;
    s.trace_flags = sampled_flag | random_flag;
    s.tracestate = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
    s.name = "GET /users/{id}";
    s.kind = span_kind::server;
    s.start_time_unix_nano = sample_start;
    s.end_time_unix_nano = sample_start + 2'500'999;  // 2500.999 µs
    s.attributes = {
        {"http.request.method", std::string("GET")},
        {"url.path", std::string("/users/42")},
        {"url.query", std::string("q=\"quoted\"&path=C:\\tmp")},
        {"url.scheme", std::string("http")},
        {"server.address", std::string("api.example.com")},
        {"server.port", std::int64_t{8080}},
        {"client.address", std::string("203.0.113.7")},
        {"network.peer.address", std::string("203.0.113.7")},
        {"network.peer.port", std::int64_t{51234}},
        {"network.protocol.version", std::string("1.1")},
        {"user_agent.original", std::string("Mozilla/5.0 Grüße \xE2\x82\xAC \xF0\x9F\x9A\x80")},
        {"http.request.header.x-request-id", std::string("req-7f3c\n\t\x01 end")},
        {"http.route", std::string("users")},
        {"tracegate.route", std::string("users")},
        {"tracegate.upstream", std::string("users-v2")},
        {"http.response.status_code", std::int64_t{503}},
        {"http.request.body.size", std::int64_t{0}},
        {"http.response.body.size", std::int64_t{1'048'576}},
        {"test.ratio", 0.25},
        {"test.negative", std::int64_t{-42}},
        {"test.retry", true},
        {"test.cached", false},
    };
    s.events = {{"first upstream byte", sample_start + 1'000'000},
                {"upstream attempt failed: connect", sample_start + 1'500'000},
                {"response complete", sample_start + 2'400'000}};
    span_link link;
    link.context.trace_id = trace_id::from_uint64(0x0af7651916cd43dd, 0x8448eb211c80319c);
    link.context.span_id = span_id::from_uint64(0xb7ad6b7169203331);
    link.context.trace_flags = sampled_flag;
    link.context.tracestate = "vendor=1";
    link.context.is_remote = true;
    link.attributes = {{"link.reason", std::string("untrusted listener")}, {"link.count", std::int64_t{2}}};
    s.links = {link};
    s.status = status_code::error;
    s.status_message = "upstream \"users\" returned 503";
    s.dropped_attributes_count = 2;
    s.dropped_events_count = 1;
    return s;
}

/// The client span of the same request: local parent, upstream host by name and IP.
inline span_data sample_client_span() {
    span_data s;
    s.trace_id = trace_id::from_uint64(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736);
    s.span_id = span_id::from_uint64(0x1122334455667788);
    s.parent_span_id = span_id::from_uint64(0x00f067aa0ba902b7);
    s.parent_is_remote = false;
    s.trace_flags = sampled_flag;
    s.name = "GET";
    s.kind = span_kind::client;
    s.start_time_unix_nano = sample_start + 100'000;
    s.end_time_unix_nano = sample_start + 2'300'000;
    s.attributes = {{"http.request.method", std::string("GET")},
                    {"server.address", std::string("users.internal")},
                    {"server.port", std::int64_t{9000}},
                    {"network.peer.address", std::string("10.1.2.3")},
                    {"http.response.status_code", std::int64_t{200}}};
    s.events = {{"first upstream byte", sample_start + 1'000'000}};
    return s;
}

/// A root span: no parent, no tracestate, no links; status OK; an IPv6 client.
inline span_data sample_root_span() {
    span_data s;
    s.trace_id = trace_id::from_uint64(0x0102030405060708, 0x090a0b0c0d0e0f10);
    s.span_id = span_id::from_uint64(0xa1a2a3a4a5a6a7a8);
    s.trace_flags = sampled_flag;
    s.name = "POST /orders";
    s.kind = span_kind::server;
    s.start_time_unix_nano = 1'709'251'199'999'999'999;  // 2024-02-29T23:59:59.999999999Z
    s.end_time_unix_nano = 1'709'251'200'000'000'400;    // 2024-03-01T00:00:00.000000400Z
    s.attributes = {{"http.request.method", std::string("POST")},
                    {"client.address", std::string("2001:db8::1")},
                    {"network.peer.address", std::string("2001:db8::1")},
                    {"network.peer.port", std::int64_t{443}}};
    s.status = status_code::ok;
    return s;
}

}  // namespace tracegate::tracing::test
