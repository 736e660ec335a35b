// tracegate: a reverse proxy that traces every request it forwards.
#include "config/loader.hpp"
#include "proxy/log.hpp"
#include "proxy/server.hpp"

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#ifndef TRACEGATE_VERSION
#define TRACEGATE_VERSION "0.0.0"
#endif

namespace {

constexpr std::string_view usage = R"(usage: tracegate [--config FILE] [options]

Reverse proxy that gives unmodified HTTP services distributed tracing.

  --config FILE           YAML config (default: the embedded defaults, a listener on
                          0.0.0.0:8080 in front of 127.0.0.1:9000)
  --check-config          validate the config, print every error as FILE:LINE:COLUMN,
                          exit 0 when valid, 2 when not
  --print-default-config  print the embedded default config and exit
  --log-level LEVEL       debug | info | warn | error (default: info)
  --version               print the version and exit
  --help                  print this text and exit

Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads --config.
)";

constexpr int exit_usage = 2;
constexpr int exit_config = 2;

struct options {
    std::optional<std::string> config_path;
    bool check_only = false;
    std::string log_level = "info";
};

/// Parses argv; prints and returns an exit code when the program should stop here.
std::optional<int> parse(int argc, char** argv, options& out) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::optional<std::string> inline_value;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            inline_value = std::string(arg.substr(eq + 1));
            arg = arg.substr(0, eq);
        }
        auto value = [&](std::string_view name) -> std::optional<std::string> {
            if (inline_value) return inline_value;
            if (i + 1 < argc) return std::string(argv[++i]);
            std::cerr << "tracegate: " << name << " needs a value\n";
            return std::nullopt;
        };
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            return 0;
        } else if (arg == "--version") {
            std::cout << "tracegate " << TRACEGATE_VERSION << "\n";
            return 0;
        } else if (arg == "--print-default-config") {
            std::cout << tracegate::config::embedded_default_yaml();
            return 0;
        } else if (arg == "--check-config") {
            out.check_only = true;
        } else if (arg == "--config" || arg == "-c") {
            out.config_path = value(arg);
            if (!out.config_path) return exit_usage;
        } else if (arg == "--log-level") {
            auto v = value(arg);
            if (!v) return exit_usage;
            out.log_level = *v;
        } else {
            std::cerr << "tracegate: unknown option " << arg << "\n" << usage;
            return exit_usage;
        }
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    options opts;
    if (auto code = parse(argc, argv, opts)) return *code;

    const auto level = tracegate::log::parse_level(opts.log_level);
    if (!level) {
        std::cerr << "tracegate: --log-level must be debug, info, warn or error\n";
        return exit_usage;
    }
    tracegate::log::set_level(*level);

    auto loaded = opts.config_path
                      ? tracegate::config::load_file(*opts.config_path)
                      : tracegate::config::load_string(tracegate::config::embedded_default_yaml(),
                                                       "<embedded>");
    if (!loaded) {
        for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
        std::cerr << "tracegate: " << loaded.errors.size() << " config error(s)\n";
        return exit_config;
    }
    if (opts.check_only) {
        std::cout << (opts.config_path ? *opts.config_path : std::string("<embedded>"))
                  << ": ok\n";
        return 0;
    }
    tracegate::proxy::server server(loaded.value, opts.config_path);
    return server.run();
}
