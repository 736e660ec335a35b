// Shared bits of the integration tests: standard deadlines, the usual configs, and
// starting tracegate until it listens.
#pragma once

#include "tests/support/tracegate_process.hpp"
#include "tests/support/upstream_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace tracegate::test {

/// How long tracegate may take to start listening (a loaded CI machine).
inline constexpr std::chrono::milliseconds ready_timeout{15000};
/// Deadline for one ordinary request/response.
inline constexpr std::chrono::milliseconds io_timeout{10000};

/// A config with listener "main" on 127.0.0.1:0, `workers` workers, one upstream "app" at
/// `endpoint` and no routes (so everything goes to app); `extra` is appended verbatim
/// (e.g. a `limits:` block).
std::string single_upstream_config(const std::string& endpoint, std::string_view extra = "",
                                   unsigned workers = 2);

/// Starts tracegate with `yaml` and waits for `listeners` listeners; on failure records a
/// test failure with the log and returns nullptr (so: `ASSERT_TRUE(proxy)`).
std::unique_ptr<tracegate_process> start_proxy(std::string_view yaml, std::size_t listeners = 1);

/// A test with a real upstream_server "app" behind a tracegate started by start().
class proxied_upstream_test : public ::testing::Test {
protected:
    /// Starts tracegate with single_upstream_config(app, extra).
    void start(std::string_view extra = "") {
        proxy_ = start_proxy(single_upstream_config(up_.address(), extra));
        ASSERT_TRUE(proxy_);
    }
    std::uint16_t port() const { return proxy_->port("main"); }

    upstream_server up_{"app"};
    std::unique_ptr<tracegate_process> proxy_;
};

}  // namespace tracegate::test
