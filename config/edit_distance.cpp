#include "config/edit_distance.hpp"

#include <algorithm>
#include <vector>

namespace tracegate::config::detail {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rows of the classic dynamic programme: the transposition step looks two back.
    std::vector<std::size_t> before(b.size() + 1);
    std::vector<std::size_t> previous(b.size() + 1);
    std::vector<std::size_t> current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                current[j] = std::min(current[j], before[j - 2] + 1);
            }
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[b.size()];
}

namespace {

template <typename String>
std::optional<std::string> nearest_of(std::string_view word, std::span<const String> candidates) {
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const String& candidate : candidates) {
        const std::string_view c(candidate);
        const std::size_t distance = edit_distance(word, c);
        const std::size_t allowed = std::max<std::size_t>(1, c.size() / 3);
        if (distance <= allowed && (!best || distance < best_distance)) {
            best = std::string(c);
            best_distance = distance;
        }
    }
    return best;
}

}  // namespace

std::optional<std::string> nearest(std::string_view word, std::span<const std::string_view> candidates) {
    return nearest_of(word, candidates);
}

std::optional<std::string> nearest(std::string_view word, std::span<const std::string> candidates) {
    return nearest_of(word, candidates);
}

}  // namespace tracegate::config::detail
