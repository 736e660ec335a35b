#include "tracing/id_generator.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>

namespace tracegate::tracing {
namespace {

// xoshiro256** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/): 256 bits of state, period
// 2^256 - 1, a few ns per 64-bit output. Ids need to be unique and unpredictable enough
// for sampling by trace-id ratio, not cryptographically secure.
class xoshiro256 {
public:
    xoshiro256() { seed_from_os(); }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }

    void seed_from_os() {
        std::array<unsigned char, sizeof(state_)> seed{};
        std::size_t filled = 0;
        while (filled < seed.size()) {
            const ssize_t n = ::getrandom(seed.data() + filled, seed.size() - filled, 0);
            if (n > 0) {
                filled += static_cast<std::size_t>(n);
            } else if (n < 0 && errno != EINTR) {
                break;  // e.g. ENOSYS in an old sandbox: fall back below
            }
        }
        std::memcpy(state_.data(), seed.data(), seed.size());
        if (filled < seed.size()) {
            std::random_device device;
            for (auto& word : state_) word ^= (std::uint64_t{device()} << 32) ^ device();
        }
        // The all-zero state is the generator's one fixed point.
        if ((state_[0] | state_[1] | state_[2] | state_[3]) == 0) state_[0] = 0x9e3779b97f4a7c15ULL;
    }

    std::array<std::uint64_t, 4> state_{};
};

xoshiro256& thread_generator() {
    thread_local xoshiro256 generator;
    return generator;
}

}  // namespace

trace_id random_id_generator::new_trace_id() {
    auto& generator = thread_generator();
    for (;;) {
        const std::uint64_t high = generator.next();
        const std::uint64_t low = generator.next();
        if ((high | low) != 0) return trace_id::from_uint64(high, low);
    }
}

span_id random_id_generator::new_span_id() {
    auto& generator = thread_generator();
    for (;;) {
        if (const std::uint64_t value = generator.next(); value != 0)
            return span_id::from_uint64(value);
    }
}

}  // namespace tracegate::tracing
