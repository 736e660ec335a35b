#include "tracing/resource.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <random>

#ifndef TRACEGATE_VERSION
#error "TRACEGATE_VERSION must be defined by the build (tracing/CMakeLists.txt)"
#endif

namespace tracegate::tracing {
namespace {

/// The keys make_process_resource() sets itself; `extra` cannot override them.
constexpr std::array<std::string_view, 7> own_keys = {
    "service.name",       "service.instance.id",    "host.name",             "process.pid",
    "telemetry.sdk.name", "telemetry.sdk.language", "telemetry.sdk.version",
};

/// A random (version 4) UUID in its 36-character text form (RFC 9562 §5.4).
std::string random_uuid() {
    std::random_device entropy;
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < bytes.size(); i += 4) {
        const std::uint32_t word = entropy();
        for (std::size_t k = 0; k < 4; ++k) bytes[i + k] = static_cast<std::uint8_t>(word >> (8 * k));
    }
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // variant 10xx
    static constexpr char hex[] = "0123456789abcdef";
    std::string text;
    text.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        text += hex[bytes[i] >> 4];
        text += hex[bytes[i] & 0x0f];
    }
    return text;
}

/// This process's instance id: made on first use, the same for every later call.
const std::string& instance_id() {
    static const std::string id = random_uuid();
    return id;
}

std::string host_name() {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
    return name;
}

}  // namespace

std::string_view tracegate_version() noexcept {
    return TRACEGATE_VERSION;
}

std::string_view resource::service_name() const noexcept {
    const std::string_view name = get("service.name");
    return name.empty() ? std::string_view("tracegate") : name;
}

std::string_view resource::get(std::string_view key) const noexcept {
    for (const auto& a : attributes) {
        if (a.key != key) continue;
        if (const auto* text = std::get_if<std::string>(&a.value)) return *text;
        return {};
    }
    return {};
}

resource make_process_resource(std::string_view service_name,
                               const std::vector<std::pair<std::string, std::string>>& extra) {
    resource res;
    res.attributes.reserve(own_keys.size() + extra.size());
    res.attributes.push_back({"service.name", std::string(service_name)});
    res.attributes.push_back({"service.instance.id", instance_id()});
    res.attributes.push_back({"host.name", host_name()});
    res.attributes.push_back({"process.pid", std::int64_t{::getpid()}});
    res.attributes.push_back({"telemetry.sdk.name", std::string("tracegate")});
    res.attributes.push_back({"telemetry.sdk.language", std::string("cpp")});
    res.attributes.push_back({"telemetry.sdk.version", std::string(tracegate_version())});
    for (const auto& [key, value] : extra) {
        if (std::find(own_keys.begin(), own_keys.end(), key) != own_keys.end()) continue;
        // Keys stay unique (OTLP requires it): a repeated key keeps its first place and
        // takes the later value, as a later `k=v` in OTEL_RESOURCE_ATTRIBUTES wins.
        // Compared through a plain reference: clang before 16 cannot capture a structured binding.
        const std::string& wanted = key;
        const auto same = std::find_if(res.attributes.begin(), res.attributes.end(),
                                       [&](const attribute& a) { return a.key == wanted; });
        if (same != res.attributes.end())
            same->value = value;
        else
            res.attributes.push_back({key, value});
    }
    return res;
}

}  // namespace tracegate::tracing
