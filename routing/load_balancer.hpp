// Picking an endpoint of an upstream. One load_balancer per worker thread per upstream:
// no locks, share-nothing, like Envoy's per-worker load balancers.
#pragma once

#include "config/config.hpp"

#include <cstdint>
#include <random>
#include <vector>

namespace tracegate::routing {

class load_balancer {
public:
    load_balancer(config::lb_policy policy, std::size_t endpoint_count, std::uint64_t seed);

    /// Index of the endpoint to use next, skipping those with `excluded[i]` true
    /// (already tried for this request). nullopt-like: returns endpoint_count when none is left.
    std::size_t pick(const std::vector<bool>& excluded);

    /// least_request bookkeeping: a request started / finished on endpoint `index`.
    void on_start(std::size_t index);
    void on_finish(std::size_t index);

    std::size_t endpoint_count() const { return active_.size(); }

private:
    config::lb_policy policy_;
    std::size_t next_ = 0;
    std::vector<std::uint32_t> active_;
    std::mt19937_64 rng_;
};

}  // namespace tracegate::routing
