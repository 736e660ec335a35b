// Test fakes at the tracing seams: fixed ids and an in-memory span sink.
#pragma once

#include "tracing/id_generator.hpp"
#include "tracing/sampler.hpp"
#include "tracing/span_sink.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <mutex>
#include <vector>

namespace tracegate::tracing {

/// Counts up from fixed starting values, so every test knows the ids it will see.
class fixed_id_generator final : public id_generator {
public:
    explicit fixed_id_generator(std::uint64_t first_trace_low = 0x1000, std::uint64_t first_span = 0x100)
        : next_trace_(first_trace_low), next_span_(first_span) {}
    trace_id new_trace_id() override { return trace_id::from_uint64(0xabcdef, next_trace_++); }
    span_id new_span_id() override { return span_id::from_uint64(next_span_++); }
    bool trace_ids_are_random() const noexcept override { return random_; }

    bool random_ = true;

private:
    std::uint64_t next_trace_;
    std::uint64_t next_span_;
};

/// Sampler options without designated initializers (GCC warns about the fields left out).
inline sampler_options sampling(double ratio, bool keep_errors = true,
                                std::chrono::milliseconds keep_slower_than = {},
                                std::optional<double> max_per_second = {}, bool parent_based = true) {
    sampler_options options;
    options.ratio = ratio;
    options.keep_errors = keep_errors;
    options.keep_slower_than = keep_slower_than;
    options.max_per_second = max_per_second;
    options.parent_based = parent_based;
    return options;
}

/// Keeps every submitted span.
class memory_sink final : public span_sink {
public:
    void submit(span_data&& span) noexcept override {
        const std::lock_guard lock(mutex_);
        spans_.push_back(std::move(span));
    }
    std::vector<span_data> spans() const {
        const std::lock_guard lock(mutex_);
        return spans_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<span_data> spans_;
};

}  // namespace tracegate::tracing
