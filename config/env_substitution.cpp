#include "config/loader.hpp"

#include <algorithm>
#include <cstdlib>

namespace tracegate::config {

namespace {

bool is_name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

// The syntax is the POSIX shell's parameter expansion, reduced to the two forms
// compose files and Kubernetes manifests use: ${NAME} and ${NAME:-default}. As in the
// shell, ":-" also applies the default when NAME is set but empty. A '$' followed by
// anything else stays a literal '$' so regexes such as "^/u/[0-9]+$" need no escaping.
std::optional<std::string> substitute_env(std::string_view text, const env_lookup& env,
                                          std::string& problem) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c != '$' || i + 1 == text.size()) {
            out += c;
            ++i;
            continue;
        }
        if (text[i + 1] == '$') {
            out += '$';
            i += 2;
            continue;
        }
        if (text[i + 1] != '{') {
            out += '$';
            ++i;
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            problem = "unterminated \"${\" (missing \"}\")";
            return std::nullopt;
        }
        const std::string_view body = text.substr(i + 2, close - i - 2);
        const std::size_t dash = body.find(":-");
        const std::string_view name = body.substr(0, dash);
        if (name.empty() || !is_name_start(name.front()) ||
            !std::all_of(name.begin(), name.end(), is_name_char)) {
            problem = "invalid variable reference \"${" + std::string(body) +
                      "}\"; expected ${NAME} or ${NAME:-default}";
            return std::nullopt;
        }
        const std::optional<std::string> value = env(std::string(name));
        if (dash != std::string_view::npos && (!value || value->empty())) {
            out += body.substr(dash + 2);
        } else if (value) {
            out += *value;
        } else {
            problem = "environment variable \"" + std::string(name) +
                      "\" is not set (write ${" + std::string(name) +
                      ":-default} to give a default)";
            return std::nullopt;
        }
        i = close + 1;
    }
    return out;
}

}  // namespace tracegate::config
