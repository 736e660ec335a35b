#include "tests/support/payload.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <mutex>

namespace tracegate::test {
namespace {

constexpr std::size_t period = 251;

/// pattern_chunk + period bytes, so every offset has pattern_chunk bytes after it.
const std::array<char, pattern_chunk + period>& pattern_table() {
    static const auto table = [] {
        std::array<char, pattern_chunk + period> t{};
        for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<char>(i % period);
        return t;
    }();
    return table;
}

}  // namespace

std::uint8_t pattern_byte(std::uint64_t offset) {
    return static_cast<std::uint8_t>(offset % period);
}

const char* pattern_data(std::uint64_t offset) {
    return pattern_table().data() + offset % period;
}

void body_digest::update(const void* data, std::size_t size) {
    constexpr std::uint64_t prime = 1099511628211ull;  // FNV-1a 64 prime
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t h = fnv1a;
    for (std::size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= prime;
    }
    fnv1a = h;
    bytes += size;
}

std::string body_digest::to_string() const {
    char text[64];
    std::snprintf(text, sizeof text, "bytes=%llu fnv1a=%016llx",
                  static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(fnv1a));
    return text;
}

body_digest pattern_digest(std::uint64_t n) {
    static std::mutex mutex;
    static std::map<std::uint64_t, body_digest> cache;
    {
        std::lock_guard lock(mutex);
        if (auto it = cache.find(n); it != cache.end()) return it->second;
    }
    body_digest d;
    for (std::uint64_t offset = 0; offset < n;) {
        const auto piece = static_cast<std::size_t>(std::min<std::uint64_t>(pattern_chunk, n - offset));
        d.update(pattern_data(offset), piece);
        offset += piece;
    }
    std::lock_guard lock(mutex);
    cache.emplace(n, d);
    return d;
}

}  // namespace tracegate::test
