// A bounded multi-producer queue that never blocks: try_push fails when full.
// Dmitry Vyukov's bounded MPMC queue (each cell carries a sequence number, so producers
// and the consumer meet only on two atomic counters; no lock, no allocation after start).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace tracegate::tracing {

/// Fixed-capacity lock-free queue. T must be nothrow move constructible.
template <typename T>
class bounded_queue {
public:
    /// A queue holding at least `capacity` items (rounded up to a power of two, >= 2).
    explicit bounded_queue(std::size_t capacity)
        : mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1),
          cells_(std::make_unique<cell[]>(mask_ + 1)) {
        for (std::size_t i = 0; i <= mask_; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
    }
    bounded_queue(const bounded_queue&) = delete;
    bounded_queue& operator=(const bounded_queue&) = delete;
    /// Destroys the items still queued.
    ~bounded_queue() {
        while (try_pop()) {
        }
    }

    /// The number of cells.
    std::size_t capacity() const noexcept { return mask_ + 1; }

    /// Moves `value` in; false (and `value` untouched) when the queue is full. Never blocks.
    bool try_push(T& value) noexcept {
        std::size_t pos = tail_.load(std::memory_order_relaxed);
        for (;;) {
            cell& c = cells_[pos & mask_];
            const std::size_t seq = c.sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
            if (diff == 0) {
                if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    ::new (static_cast<void*>(c.storage)) T(std::move(value));
                    c.sequence.store(pos + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;  // full
            } else {
                pos = tail_.load(std::memory_order_relaxed);
            }
        }
    }

    /// The oldest item, or nullopt when empty.
    std::optional<T> try_pop() noexcept {
        std::size_t pos = head_.load(std::memory_order_relaxed);
        for (;;) {
            cell& c = cells_[pos & mask_];
            const std::size_t seq = c.sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
            if (diff == 0) {
                if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    T* item = std::launder(reinterpret_cast<T*>(c.storage));
                    std::optional<T> out(std::move(*item));
                    item->~T();
                    c.sequence.store(pos + mask_ + 1, std::memory_order_release);
                    return out;
                }
            } else if (diff < 0) {
                return std::nullopt;  // empty
            } else {
                pos = head_.load(std::memory_order_relaxed);
            }
        }
    }

private:
    struct cell {
        std::atomic<std::size_t> sequence{0};
        alignas(T) unsigned char storage[sizeof(T)];
    };

    const std::size_t mask_;
    std::unique_ptr<cell[]> cells_;
    alignas(64) std::atomic<std::size_t> tail_{0};
    alignas(64) std::atomic<std::size_t> head_{0};
};

}  // namespace tracegate::tracing
