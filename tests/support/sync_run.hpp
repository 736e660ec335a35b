// Runs one coroutine to completion on a private io_context: how the blocking test
// clients drive Beast. Every operation inside must carry its own deadline (tcp_stream
// expiry or a timer), which is what bounds the wait here.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>
#include <utility>

namespace tracegate::test {

/// Runs `op` on `ioc` until it finishes; rethrows what it threw.
template <class T>
T sync_run(boost::asio::io_context& ioc, boost::asio::awaitable<T> op) {
    std::optional<T> result;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e) result.emplace(std::move(value));
    });
    ioc.restart();
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

}  // namespace tracegate::test
