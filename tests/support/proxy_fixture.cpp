#include "tests/support/proxy_fixture.hpp"

#include "tests/support/text_template.hpp"

#include <gtest/gtest.h>

namespace tracegate::test {

std::string single_upstream_config(const std::string& endpoint, std::string_view extra, unsigned workers) {
    return fill(R"(service_name: itest
workers: ${workers}
listeners:
  - name: main
    address: 127.0.0.1:0
upstreams:
  - name: app
    endpoints: [${endpoint}]
)",
                {{"endpoint", endpoint}, {"workers", std::to_string(workers)}}) +
           std::string(extra);
}

std::unique_ptr<tracegate_process> start_proxy(std::string_view yaml, std::size_t listeners) {
    auto proxy = std::make_unique<tracegate_process>(yaml);
    if (!proxy->wait_ready(ready_timeout, listeners)) {
        ADD_FAILURE() << "tracegate did not report " << listeners << " listener(s) within "
                      << ready_timeout.count() << " ms; config:\n"
                      << yaml;
        return nullptr;
    }
    return proxy;
}

}  // namespace tracegate::test
