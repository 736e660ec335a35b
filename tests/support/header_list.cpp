#include "tests/support/header_list.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace tracegate::test {

std::optional<std::string> find_header(const header_list& headers, std::string_view name) {
    for (const auto& [n, v] : headers)
        if (boost::beast::iequals(n, name)) return v;
    return std::nullopt;
}

std::size_t count_header(const header_list& headers, std::string_view name) {
    return static_cast<std::size_t>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) {
        return boost::beast::iequals(h.first, name);
    }));
}

}  // namespace tracegate::test
