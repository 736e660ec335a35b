// Header fields as an ordered list of (name, value), the way they were on the wire.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracegate::test {

/// Header fields in wire order, names as sent; duplicates kept.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// First value of header `name` (case-insensitive) in `headers`.
std::optional<std::string> find_header(const header_list& headers, std::string_view name);
/// Number of fields named `name` (case-insensitive) in `headers`.
std::size_t count_header(const header_list& headers, std::string_view name);

}  // namespace tracegate::test
