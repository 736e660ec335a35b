#include "tests/support/text_template.hpp"

#include <stdexcept>

namespace tracegate::test {

std::string fill(std::string_view text,
                 std::initializer_list<std::pair<std::string_view, std::string>> values) {
    std::string out;
    out.reserve(text.size());
    for (;;) {
        const auto open = text.find("${");
        if (open == std::string_view::npos) break;
        const auto close = text.find('}', open);
        if (close == std::string_view::npos) break;
        const auto name = text.substr(open + 2, close - open - 2);
        const std::string* value = nullptr;
        for (const auto& [k, v] : values)
            if (k == name) value = &v;
        if (!value) throw std::invalid_argument("no value for ${" + std::string(name) + "}");
        out.append(text.substr(0, open));
        out.append(*value);
        text.remove_prefix(close + 1);
    }
    out.append(text);
    return out;
}

std::string regex_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (std::string_view(R"(\^$.|?*+()[]{})").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

}  // namespace tracegate::test
