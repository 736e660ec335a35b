// The OpenTelemetry Resource every exported span is reported under: who produced it.
#pragma once

#include "tracing/span_data.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracegate::tracing {

/// The version tracegate reports as telemetry.sdk.version and the instrumentation scope's.
std::string_view tracegate_version() noexcept;

/// Resource attributes (OTLP Resource.attributes), `service.name` always first.
struct resource {
    std::vector<attribute> attributes;  ///< In order, keys unique.

    /// The value of `service.name` ("tracegate" when somehow absent).
    std::string_view service_name() const noexcept;
    /// The string value of `key`, or empty when absent or not a string.
    std::string_view get(std::string_view key) const noexcept;
};

/// The resource of this process: service.name = `service_name`, service.instance.id (a
/// random UUID made once per process), host.name (gethostname), process.pid,
/// telemetry.sdk.name = "tracegate", telemetry.sdk.language = "cpp",
/// telemetry.sdk.version = tracegate_version(); then each of `extra` (parsed from
/// OTEL_RESOURCE_ATTRIBUTES) that does not name one of the keys above, in order. A key
/// repeated in `extra` keeps its first place and takes its last value.
resource make_process_resource(std::string_view service_name,
                               const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace tracegate::tracing
