#include "tracing/sampler.hpp"

#include <algorithm>
#include <cmath>

namespace tracegate::tracing {

sampler::sampler(const sampler_options& options) : options_(options) {
    options_.ratio = std::isnan(options_.ratio) ? 0.0 : std::clamp(options_.ratio, 0.0, 1.0);
    threshold_ = rejection_threshold(options_.ratio);
    capped_ = options_.max_per_second.has_value();
    if (capped_ && *options_.max_per_second > 0) {
        const double rate = *options_.max_per_second;
        emission_interval_ns_ = static_cast<std::int64_t>(std::ceil(1e9 / rate));
        const double burst = std::clamp(std::floor(rate), 1.0, 1e9);
        burst_tolerance_ns_ = static_cast<std::int64_t>((burst - 1.0) * static_cast<double>(emission_interval_ns_));
        if (emission_interval_ns_ <= 0) capped_ = false;  // more than 1e9/s: no cap
    }
}

// OpenTelemetry trace SDK spec, "TraceIdRatioBased sampler algorithm" (consistent
// probability sampling, OTEP 235): with R the 56 random bits of the trace id and
// T = (1 - ratio) * 2^56, the trace is sampled iff R >= T. Every hop that uses the same
// ratio therefore agrees, and a higher ratio samples a superset.
std::uint64_t sampler::rejection_threshold(double ratio) noexcept {
    if (!(ratio > 0.0)) return max_adjusted_count;  // nothing: R < 2^56 always
    if (ratio >= 1.0) return 0;                     // everything
    const auto scaled = static_cast<std::uint64_t>(std::llround(ratio * static_cast<double>(max_adjusted_count)));
    return max_adjusted_count - std::min(scaled, max_adjusted_count);
}

bool sampler::take_token(std::chrono::steady_clock::time_point now) noexcept {
    const std::int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    std::int64_t tat = next_token_ns_.load(std::memory_order_relaxed);
    for (;;) {
        const std::int64_t start = std::max(tat, now_ns);
        if (start - now_ns > burst_tolerance_ns_) return false;
        if (next_token_ns_.compare_exchange_weak(tat, start + emission_interval_ns_,
                                                 std::memory_order_relaxed))
            return true;
    }
}

sampling_decision sampler::decide(const std::optional<span_context>& parent, const trace_id& trace) noexcept {
    // Read the clock only when a cap needs it.
    return decide_at(parent, trace,
                     capped_ ? std::chrono::steady_clock::now()
                                                : std::chrono::steady_clock::time_point{});
}

sampling_decision sampler::decide_at(const std::optional<span_context>& parent, const trace_id& trace,
                                     std::chrono::steady_clock::time_point now) noexcept {
    const bool keep_candidate = any_keep_rule();
    if (options_.parent_based && parent) {
        if (const auto incoming = parent->sampling_decision())
            return {*incoming || parent->debug, *incoming || parent->debug || keep_candidate};
        if (parent->debug) return {true, true};
    }
    bool sampled = randomness(trace) >= threshold_;
    if (sampled && capped_ && (emission_interval_ns_ == 0 || !take_token(now))) {
        rate_limited_.fetch_add(1, std::memory_order_relaxed);
        sampled = false;
    }
    return {sampled, sampled || keep_candidate};
}

bool sampler::keeps(status_code status, std::chrono::nanoseconds duration) const noexcept {
    if (options_.keep_errors && status == status_code::error) return true;
    return options_.keep_slower_than.count() > 0 && duration > options_.keep_slower_than;
}

}  // namespace tracegate::tracing
