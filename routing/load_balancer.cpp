#include "routing/load_balancer.hpp"

#include <cassert>
#include <limits>

namespace tracegate::routing {

namespace {

// `excluded` may be shorter than the endpoint list (e.g. empty on the first attempt):
// missing entries mean "not excluded".
bool is_excluded(const std::vector<bool>& excluded, std::size_t index) {
    return index < excluded.size() && excluded[index];
}

}  // namespace

load_balancer::load_balancer(config::lb_policy policy, std::size_t endpoint_count,
                             std::uint64_t seed)
    : policy_(policy), active_(endpoint_count, 0), rng_(seed) {}

std::size_t load_balancer::pick(const std::vector<bool>& excluded) {
    const std::size_t n = active_.size();
    switch (policy_) {
    case config::lb_policy::round_robin:
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = (next_ + k) % n;
            if (!is_excluded(excluded, i)) {
                next_ = (i + 1) % n;
                return i;
            }
        }
        return n;

    case config::lb_policy::random: {
        std::size_t candidates = 0;
        for (std::size_t i = 0; i < n; ++i) {
            candidates += is_excluded(excluded, i) ? 0 : 1;
        }
        if (candidates == 0) {
            return n;
        }
        std::size_t nth = std::uniform_int_distribution<std::size_t>(0, candidates - 1)(rng_);
        for (std::size_t i = 0; i < n; ++i) {
            if (!is_excluded(excluded, i) && nth-- == 0) {
                return i;
            }
        }
        return n;  // unreachable: nth < candidates
    }

    case config::lb_policy::least_request: {
        // Scan from the rotating start and keep the first strictly smaller count, so
        // ties go to the next endpoint in rotation and equal load spreads evenly.
        std::size_t best = n;
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = (next_ + k) % n;
            if (!is_excluded(excluded, i) && (best == n || active_[i] < active_[best])) {
                best = i;
            }
        }
        if (best != n) {
            next_ = (best + 1) % n;
        }
        return best;
    }
    }
    return n;
}

void load_balancer::on_start(std::size_t index) {
    assert(index < active_.size());
    if (index < active_.size() && active_[index] < std::numeric_limits<std::uint32_t>::max()) {
        ++active_[index];
    }
}

void load_balancer::on_finish(std::size_t index) {
    assert(index < active_.size());
    if (index < active_.size() && active_[index] > 0) {
        --active_[index];
    }
}

}  // namespace tracegate::routing
