// Where new trace and span ids come from. An interface so tests can substitute fixed ids.
#pragma once

#include "tracing/ids.hpp"

namespace tracegate::tracing {

/// Source of new ids. Implementations must be safe to call from every worker thread.
class id_generator {
public:
    virtual ~id_generator() = default;
    /// A new valid (never all-zero) trace id.
    virtual trace_id new_trace_id() = 0;
    /// A new valid (never all-zero) span id.
    virtual span_id new_span_id() = 0;
    /// True when trace ids are random enough for the W3C Level 2 `random` flag
    /// (https://www.w3.org/TR/trace-context-2/#random-trace-id-flag): at least the
    /// right-most 7 bytes uniformly random.
    virtual bool trace_ids_are_random() const noexcept = 0;
};

/// Random ids from a per-thread xoshiro256** generator, seeded from the OS (getrandom(2))
/// the first time a thread asks. No lock and no system call per id.
class random_id_generator final : public id_generator {
public:
    /// 128 random bits; retried in the (2^-128) case that they are all zero.
    trace_id new_trace_id() override;
    /// 64 random bits; retried in the (2^-64) case that they are all zero.
    span_id new_span_id() override;
    /// Always true: every bit is drawn from the generator.
    bool trace_ids_are_random() const noexcept override { return true; }
};

}  // namespace tracegate::tracing
