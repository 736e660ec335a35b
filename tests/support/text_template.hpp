// Fills ${name} placeholders, so a test's config reads as YAML with holes for ports.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tracegate::test {

/// Replaces every `${name}` in `text` by its value; throws std::invalid_argument on a
/// placeholder without a value (a typo in a test).
std::string fill(std::string_view text,
                 std::initializer_list<std::pair<std::string_view, std::string>> values);

/// `text` with every ECMAScript regex metacharacter escaped, to match it literally.
std::string regex_escape(std::string_view text);

}  // namespace tracegate::test
