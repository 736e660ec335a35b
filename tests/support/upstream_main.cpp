// tracegate-test-upstream: the test upstream as a standalone program, the demo service of
// the quickstart and the upstream of the load script.
//
//   tracegate-test-upstream [--listen HOST:PORT] [--name NAME]
//
// Serves until SIGINT or SIGTERM; prints "listening on HOST:PORT" once bound. The
// endpoints are those of tests/support/upstream_server.hpp.
#include "tests/support/upstream_server.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view usage =
    "usage: tracegate-test-upstream [--listen HOST:PORT] [--name NAME]\n"
    "  --listen HOST:PORT  address to bind (default 127.0.0.1:9000; [::1]:PORT for IPv6)\n"
    "  --name NAME         value of the x-upstream-name response header (default upstream)\n";

/// Splits "host:port" / "[v6]:port"; false when malformed.
bool split_address(std::string_view text, tracegate::test::upstream_options& out) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == text.size()) return false;
    std::string_view host = text.substr(0, colon);
    if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
    char* end = nullptr;
    const std::string port(text.substr(colon + 1));
    const unsigned long value = std::strtoul(port.c_str(), &end, 10);
    if (*end != '\0' || value > 65535 || host.empty()) return false;
    out.host = std::string(host);
    out.port = static_cast<std::uint16_t>(value);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    tracegate::test::upstream_options options;
    options.port = 9000;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--listen" || arg == "--name") && i + 1 < argc) {
            const std::string_view value = argv[++i];
            if (arg == "--name") {
                options.name = std::string(value);
            } else if (!split_address(value, options)) {
                std::cerr << "tracegate-test-upstream: bad --listen " << value << "\n" << usage;
                return 2;
            }
        } else if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            return 0;
        } else {
            std::cerr << "tracegate-test-upstream: unknown argument " << arg << "\n" << usage;
            return 2;
        }
    }

    // Block the stop signals before the server thread starts so only sigwait sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    try {
        tracegate::test::upstream_server server(options);
        std::cout << "listening on " << server.address() << std::endl;
        int sig = 0;
        while (sigwait(&signals, &sig) != 0) {
        }
        std::cout << "stopping on signal " << sig << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "tracegate-test-upstream: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
