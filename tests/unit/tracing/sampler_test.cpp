#include "tracing/sampler.hpp"

#include "tracing/id_generator.hpp"

#include "tests/unit/tracing/tracing_fakes.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

using namespace std::chrono_literals;

// Expected values computed here from the OpenTelemetry spec's formula, independently of
// sampler.cpp: R = trace id's least-significant 56 bits, T = (1 - ratio) * 2^56,
// sampled iff R >= T. For ratio 0.5, T = 2^55 = 0x0080000000000000.
constexpr std::uint64_t two_56 = std::uint64_t{1} << 56;

trace_id with_low(std::uint64_t low, std::uint64_t high = 0x0123456789abcdef) {
    return trace_id::from_uint64(high, low);
}

TEST(sampler, ratio_half_splits_at_two_to_the_55) {
    EXPECT_EQ(sampler::rejection_threshold(0.5), two_56 / 2);
    EXPECT_TRUE(sampler::ratio_samples(0.5, with_low(0x0080000000000000)));   // R == T
    EXPECT_FALSE(sampler::ratio_samples(0.5, with_low(0x007fffffffffffff)));  // R == T - 1
    EXPECT_TRUE(sampler::ratio_samples(0.5, with_low(0x00ffffffffffffff)));
    EXPECT_FALSE(sampler::ratio_samples(0.5, with_low(0x0000000000000000, 1)));
}

TEST(sampler, only_the_right_most_56_bits_count) {
    // Byte 8 (the top byte of the low half) and the high half are not random in every
    // generator (X-Ray puts a timestamp first); they must not change the decision.
    EXPECT_FALSE(sampler::ratio_samples(0.5, with_low(0xff7fffffffffffff, 0xffffffffffffffff)));
    EXPECT_TRUE(sampler::ratio_samples(0.5, with_low(0x0080000000000000, 0)));
}

TEST(sampler, ratio_quarter_threshold) {
    const std::uint64_t t = two_56 - two_56 / 4;  // 0x00c0000000000000
    EXPECT_EQ(sampler::rejection_threshold(0.25), t);
    EXPECT_TRUE(sampler::ratio_samples(0.25, with_low(t)));
    EXPECT_FALSE(sampler::ratio_samples(0.25, with_low(t - 1)));
}

TEST(sampler, ratio_zero_samples_nothing_and_one_everything) {
    EXPECT_FALSE(sampler::ratio_samples(0.0, with_low(0x00ffffffffffffff)));
    EXPECT_TRUE(sampler::ratio_samples(1.0, with_low(0)));
    sampler none(sampling(0.0, false));
    sampler all(sampling(1.0));
    EXPECT_EQ(none.decide(std::nullopt, with_low(0x00ffffffffffffff)).sampled, false);
    EXPECT_EQ(none.decide(std::nullopt, with_low(0x00ffffffffffffff)).record, false);
    EXPECT_TRUE(all.decide(std::nullopt, with_low(0)).sampled);
}

TEST(sampler, higher_ratio_samples_a_superset_at_about_the_ratio) {
    random_id_generator ids;
    int at_low = 0;
    int at_high = 0;
    for (int i = 0; i < 100000; ++i) {
        const auto id = ids.new_trace_id();
        const bool low = sampler::ratio_samples(0.1, id);
        const bool high = sampler::ratio_samples(0.3, id);
        ASSERT_TRUE(!low || high);
        at_low += low;
        at_high += high;
    }
    EXPECT_NEAR(at_low, 10000, 600);
    EXPECT_NEAR(at_high, 30000, 900);
}

span_context parent_with(std::optional<bool> decision) {
    span_context parent;
    parent.trace_id = with_low(0x00ffffffffffffff);
    parent.span_id = span_id::from_uint64(7);
    parent.set_sampling_decision(decision);
    parent.is_remote = true;
    return parent;
}

TEST(sampler, parent_based_honours_the_incoming_decision) {
    sampler never(sampling(0.0, false));
    sampler always(sampling(1.0, false));
    EXPECT_TRUE(never.decide(parent_with(true), with_low(0)).sampled);
    EXPECT_FALSE(always.decide(parent_with(false), with_low(0x00ffffffffffffff)).sampled);
    EXPECT_FALSE(always.decide(parent_with(false), with_low(0x00ffffffffffffff)).record);
    // Deferred (b3 without a sampling state): our ratio decides.
    EXPECT_TRUE(always.decide(parent_with(std::nullopt), with_low(0)).sampled);
    EXPECT_FALSE(never.decide(parent_with(std::nullopt), with_low(0x00ffffffffffffff)).sampled);
}

TEST(sampler, not_parent_based_ignores_the_incoming_decision) {
    sampler half(sampling(0.5, true, {}, {}, false));
    EXPECT_FALSE(half.decide(parent_with(true), with_low(0x007fffffffffffff)).sampled);
    EXPECT_TRUE(half.decide(parent_with(false), with_low(0x0080000000000000)).sampled);
}

TEST(sampler, unsampled_records_when_a_keep_rule_is_on) {
    sampler keep_errors(sampling(0.0));
    sampler keep_slow(sampling(0.0, false, 2s));
    const auto a = keep_errors.decide(std::nullopt, with_low(1));
    const auto b = keep_slow.decide(parent_with(false), with_low(1));
    EXPECT_FALSE(a.sampled);
    EXPECT_TRUE(a.record);
    EXPECT_FALSE(b.sampled);
    EXPECT_TRUE(b.record);
}

TEST(sampler, keep_rules) {
    sampler s(sampling(0.0, true, 2s));
    EXPECT_TRUE(s.keeps(status_code::error, 1ms));
    EXPECT_TRUE(s.keeps(status_code::unset, 2001ms));
    EXPECT_FALSE(s.keeps(status_code::ok, 2000ms));
    EXPECT_FALSE(s.keeps(status_code::unset, 1ms));
    sampler off(sampling(0.0, false));
    EXPECT_FALSE(off.keeps(status_code::error, 10s));
    EXPECT_FALSE(off.any_keep_rule());
}

TEST(sampler, max_per_second_caps_new_roots) {
    sampler s(sampling(1.0, true, {}, 10.0));
    const auto t0 = std::chrono::steady_clock::now();
    int sampled = 0;
    for (int i = 0; i < 100; ++i) sampled += s.decide_at(std::nullopt, with_low(i), t0).sampled;
    EXPECT_EQ(sampled, 10);  // a burst of one second's worth
    EXPECT_EQ(s.rate_limited(), 90u);
    sampled = 0;
    for (int i = 0; i < 100; ++i) sampled += s.decide_at(std::nullopt, with_low(i), t0 + 500ms).sampled;
    EXPECT_EQ(sampled, 5);  // refilled at 10 per second
    // An incoming "sampled" decision is honoured, never capped.
    EXPECT_TRUE(s.decide_at(parent_with(true), with_low(1), t0 + 500ms).sampled);
}

TEST(sampler, max_per_second_zero_samples_no_new_roots) {
    sampler s(sampling(1.0, true, {}, 0.0));
    EXPECT_FALSE(s.decide(std::nullopt, with_low(1)).sampled);
}

}  // namespace
}  // namespace tracegate::tracing
