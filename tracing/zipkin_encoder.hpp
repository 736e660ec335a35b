// Zipkin v2 JSON (POST /api/v2/spans): an array of spans.
#pragma once

#include "tracing/resource.hpp"
#include "tracing/span_data.hpp"

#include <span>
#include <string>

namespace tracegate::tracing {

/// Replaces `out` with the Zipkin v2 JSON array for `spans` (OpenTelemetry's Zipkin
/// mapping): 128-bit hex traceId, id, parentId (absent for a root), name, kind
/// SERVER/CLIENT, timestamp and duration in whole microseconds (duration at least 1),
/// localEndpoint {serviceName: the resource's service.name}, remoteEndpoint from the peer
/// attributes (the client of a SERVER span, the upstream of a CLIENT span; IP literals in
/// ipv4/ipv6, names in serviceName), every attribute as a string tag, status as
/// `otel.status_code` plus `error` = message for an error, events as annotations.
/// An empty batch is `[]`.
void encode_zipkin_v2(std::span<const span_data> spans, const resource& res, std::string& out);

}  // namespace tracegate::tracing
