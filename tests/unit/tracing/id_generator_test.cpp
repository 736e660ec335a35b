#include "tracing/id_generator.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <set>
#include <thread>
#include <vector>

namespace tracegate::tracing {
namespace {

TEST(random_id_generator, ids_are_valid_and_distinct) {
    random_id_generator generator;
    std::set<std::string> traces;
    std::set<std::uint64_t> spans;
    for (int i = 0; i < 10000; ++i) {
        const auto trace = generator.new_trace_id();
        const auto span = generator.new_span_id();
        ASSERT_TRUE(trace.is_valid());
        ASSERT_TRUE(span.is_valid());
        traces.insert(trace.to_hex());
        spans.insert(span.to_uint64());
    }
    EXPECT_EQ(traces.size(), 10000u);
    EXPECT_EQ(spans.size(), 10000u);
}

TEST(random_id_generator, both_halves_of_trace_ids_vary) {
    random_id_generator generator;
    std::set<std::uint64_t> highs;
    std::set<std::uint64_t> lows;
    for (int i = 0; i < 100; ++i) {
        const auto id = generator.new_trace_id();
        highs.insert(id.high());
        lows.insert(id.low());
    }
    EXPECT_EQ(highs.size(), 100u);
    EXPECT_EQ(lows.size(), 100u);
}

TEST(random_id_generator, bits_are_roughly_balanced) {
    // 64,000 bits: a stuck or biased bit source lands far outside 50% +- 2%.
    random_id_generator generator;
    int ones = 0;
    for (int i = 0; i < 1000; ++i) ones += std::popcount(generator.new_span_id().to_uint64());
    EXPECT_GT(ones, 64000 * 48 / 100);
    EXPECT_LT(ones, 64000 * 52 / 100);
}

TEST(random_id_generator, threads_are_seeded_independently) {
    random_id_generator generator;
    std::vector<std::uint64_t> first(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < first.size(); ++i)
        threads.emplace_back([&, i] { first[i] = generator.new_span_id().to_uint64(); });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(std::set<std::uint64_t>(first.begin(), first.end()).size(), first.size());
}

TEST(random_id_generator, says_its_trace_ids_are_random) {
    EXPECT_TRUE(random_id_generator{}.trace_ids_are_random());
}

}  // namespace
}  // namespace tracegate::tracing
