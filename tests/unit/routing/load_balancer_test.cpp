#include "routing/load_balancer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace tracegate::routing {
namespace {

using config::lb_policy;

const std::vector<bool> none_excluded;

std::vector<std::size_t> pick_n(load_balancer& lb, std::size_t n,
                                const std::vector<bool>& excluded = none_excluded) {
    std::vector<std::size_t> picks;
    for (std::size_t i = 0; i < n; ++i) {
        picks.push_back(lb.pick(excluded));
    }
    return picks;
}

// --- every policy ---------------------------------------------------------------------

class every_policy : public ::testing::TestWithParam<lb_policy> {};

TEST_P(every_policy, no_endpoints_returns_endpoint_count) {
    load_balancer lb(GetParam(), 0, 1);
    EXPECT_EQ(lb.endpoint_count(), 0u);
    EXPECT_EQ(lb.pick(none_excluded), 0u);
    EXPECT_EQ(lb.pick({}), 0u);
}

TEST_P(every_policy, all_excluded_returns_endpoint_count) {
    load_balancer lb(GetParam(), 3, 1);
    EXPECT_EQ(lb.pick({true, true, true}), 3u);
}

TEST_P(every_policy, only_remaining_endpoint_is_picked) {
    load_balancer lb(GetParam(), 3, 1);
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(lb.pick({true, false, true}), 1u);
    }
}

TEST_P(every_policy, never_picks_an_excluded_endpoint) {
    load_balancer lb(GetParam(), 5, 7);
    const std::vector<bool> excluded{false, true, false, true, false};
    for (std::size_t pick : pick_n(lb, 200, excluded)) {
        ASSERT_LT(pick, 5u);
        EXPECT_FALSE(excluded[pick]) << "picked excluded endpoint " << pick;
    }
}

TEST_P(every_policy, reaches_every_endpoint) {
    load_balancer lb(GetParam(), 4, 42);
    const auto picks = pick_n(lb, 200);
    EXPECT_EQ(std::set<std::size_t>(picks.begin(), picks.end()),
              (std::set<std::size_t>{0, 1, 2, 3}));
}

INSTANTIATE_TEST_SUITE_P(load_balancer, every_policy,
                         ::testing::Values(lb_policy::round_robin, lb_policy::least_request,
                                           lb_policy::random),
                         [](const auto& info) {
                             switch (info.param) {
                             case lb_policy::round_robin: return "round_robin";
                             case lb_policy::least_request: return "least_request";
                             case lb_policy::random: return "random";
                             }
                             return "unknown";
                         });

// --- round_robin ----------------------------------------------------------------------

TEST(round_robin, cycles_through_endpoints_in_order) {
    load_balancer lb(lb_policy::round_robin, 3, 0);
    EXPECT_EQ(pick_n(lb, 7), (std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(round_robin, skips_excluded_and_continues_after_the_pick) {
    load_balancer lb(lb_policy::round_robin, 4, 0);
    EXPECT_EQ(pick_n(lb, 5, {false, true, false, false}),
              (std::vector<std::size_t>{0, 2, 3, 0, 2}));
}

TEST(round_robin, retry_with_first_pick_excluded_moves_to_the_next_endpoint) {
    load_balancer lb(lb_policy::round_robin, 3, 0);
    EXPECT_EQ(lb.pick(none_excluded), 0u);
    // The retry of the same request excludes endpoint 0.
    EXPECT_EQ(lb.pick({true, false, false}), 1u);
    EXPECT_EQ(lb.pick(none_excluded), 2u);
}

// --- least_request --------------------------------------------------------------------

TEST(least_request, prefers_the_endpoint_with_fewest_active_requests) {
    load_balancer lb(lb_policy::least_request, 3, 0);
    lb.on_start(0);
    lb.on_start(0);
    lb.on_start(1);
    lb.on_start(2);
    lb.on_start(2);
    lb.on_start(2);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(lb.pick(none_excluded), 1u);
    }
}

TEST(least_request, finished_requests_make_an_endpoint_preferred_again) {
    load_balancer lb(lb_policy::least_request, 2, 0);
    lb.on_start(0);
    lb.on_start(0);
    lb.on_start(1);
    EXPECT_EQ(lb.pick(none_excluded), 1u);
    lb.on_finish(0);
    lb.on_finish(0);
    EXPECT_EQ(lb.pick(none_excluded), 0u);
}

TEST(least_request, skips_excluded_even_when_least_loaded) {
    load_balancer lb(lb_policy::least_request, 3, 0);
    lb.on_start(1);
    lb.on_start(2);
    lb.on_start(2);
    EXPECT_EQ(lb.pick({true, false, false}), 1u);
}

TEST(least_request, ties_rotate_so_load_spreads) {
    load_balancer lb(lb_policy::least_request, 3, 0);
    EXPECT_EQ(pick_n(lb, 6), (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(least_request, ties_rotate_among_the_least_loaded_only) {
    load_balancer lb(lb_policy::least_request, 4, 0);
    lb.on_start(1);
    EXPECT_EQ(pick_n(lb, 6), (std::vector<std::size_t>{0, 2, 3, 0, 2, 3}));
}

TEST(least_request, tracks_load_when_every_pick_starts_a_request) {
    load_balancer lb(lb_policy::least_request, 3, 0);
    lb.on_start(0);
    lb.on_start(0);  // endpoint 0 already busy with two requests
    std::vector<std::size_t> picks;
    for (int i = 0; i < 4; ++i) {
        const std::size_t pick = lb.pick(none_excluded);
        lb.on_start(pick);
        picks.push_back(pick);
    }
    // 1 and 2 catch up with 0 before 0 gets another request.
    EXPECT_EQ(std::count(picks.begin(), picks.end(), 0u), 0);
    EXPECT_EQ(std::count(picks.begin(), picks.end(), 1u), 2);
    EXPECT_EQ(std::count(picks.begin(), picks.end(), 2u), 2);
}

TEST(least_request, finish_without_start_does_not_underflow) {
    load_balancer lb(lb_policy::least_request, 2, 0);
    lb.on_finish(0);  // count stays 0 instead of wrapping to UINT32_MAX
    lb.on_start(1);
    EXPECT_EQ(lb.pick(none_excluded), 0u);
}

// --- random ---------------------------------------------------------------------------

TEST(random, same_seed_gives_same_sequence) {
    load_balancer a(lb_policy::random, 10, 1234);
    load_balancer b(lb_policy::random, 10, 1234);
    EXPECT_EQ(pick_n(a, 50), pick_n(b, 50));
}

TEST(random, spreads_roughly_uniformly_over_non_excluded) {
    load_balancer lb(lb_policy::random, 4, 99);
    const std::vector<bool> excluded{false, true, false, false};
    std::vector<int> counts(4, 0);
    constexpr int draws = 3000;
    for (std::size_t pick : pick_n(lb, draws, excluded)) {
        ++counts.at(pick);
    }
    EXPECT_EQ(counts[1], 0);
    // Expected 1000 each; a fair picker stays well within +-20%.
    for (std::size_t i : {0u, 2u, 3u}) {
        EXPECT_GT(counts[i], 800) << "endpoint " << i;
        EXPECT_LT(counts[i], 1200) << "endpoint " << i;
    }
}

}  // namespace
}  // namespace tracegate::routing
