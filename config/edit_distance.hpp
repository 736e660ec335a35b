// Private to config/: "did you mean" suggestions for misspelt keys and names.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tracegate::config::detail {

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// transpositions of adjacent characters each cost 1 ("endpionts" -> "endpoints" is 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` when it is close enough to be a plausible typo
/// (distance at most a third of the candidate's length, and at least 1); else nullopt.
std::optional<std::string> nearest(std::string_view word, std::span<const std::string_view> candidates);

/// Same for a list of owned strings (names defined elsewhere in the file).
std::optional<std::string> nearest(std::string_view word, std::span<const std::string> candidates);

}  // namespace tracegate::config::detail
