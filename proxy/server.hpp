// The running proxy: listeners bound on every worker, the worker threads, and the main
// thread's signal loop (SIGHUP reload, SIGTERM/SIGINT drain). No Beast here.
#pragma once

#include "config/config.hpp"

#include <memory>
#include <optional>
#include <string>

namespace tracegate::proxy {

class server {
public:
    /// `config_path` is what SIGHUP reloads; nullopt for the embedded defaults.
    server(std::shared_ptr<const config::settings> settings,
           std::optional<std::string> config_path);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds, serves until SIGTERM/SIGINT, drains; returns the process exit code.
    int run();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace tracegate::proxy
