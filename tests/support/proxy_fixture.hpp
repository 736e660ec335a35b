// Shared bits of the integration tests: standard deadlines, the usual configs, and
// starting tracegate until it listens.
#pragma once

#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace tracegate::test {

/// How long tracegate may take to start listening (a loaded CI machine).
inline constexpr std::chrono::milliseconds ready_timeout{15000};
/// Deadline for one ordinary request/response.
inline constexpr std::chrono::milliseconds io_timeout{10000};

/// A config with listener "main" on 127.0.0.1:0, two workers, one upstream "app" at
/// `endpoint` and no routes (so everything goes to app); `extra` is appended verbatim
/// (e.g. a `limits:` block).
std::string single_upstream_config(const std::string& endpoint, std::string_view extra = "");

/// Starts tracegate with `yaml` and waits for `listeners` listeners; on failure records a
/// test failure with the log and returns nullptr (so: `ASSERT_TRUE(proxy)`).
std::unique_ptr<tracegate_process> start_proxy(std::string_view yaml, std::size_t listeners = 1);

}  // namespace tracegate::test
