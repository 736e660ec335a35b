// The `match:` part of a route: what routing/ compares each request against.
#include "config/schema.hpp"

#include "config/http_tokens.hpp"

#include <algorithm>
#include <array>
#include <re2/re2.h>

namespace tracegate::config::detail {

namespace {

constexpr std::array<std::string_view, 6> match_keys{
    "host", "path", "path_prefix", "path_regex", "methods", "headers"};

// Exact names, or "*.suffix": routing/ matches the '*' against one or more labels.
std::optional<std::string> host_pattern_problem(std::string_view host) {
    if (host.empty()) return "must not be empty (leave host out to match any host)";
    const std::size_t star = host.find('*');
    if (star == std::string_view::npos) return std::nullopt;
    if (star != 0 || !host.starts_with("*.") || host.size() == 2 ||
        host.find('*', 1) != std::string_view::npos) {
        return "a wildcard is only allowed as a leading \"*.\", e.g. \"*.example.com\"";
    }
    return std::nullopt;
}

class match_reader {
public:
    explicit match_reader(yaml_reader& reader) : r_(reader) {}

    route_match read(const field& match) {
        r_.for_each_key(match, "match", match_keys, [&](const field& f) { read_key(f); });
        return std::move(m_);
    }

private:
    void read_key(const field& f) {
        if (f.label == "methods") return read_methods(f);
        if (f.label == "headers") return read_headers(f);
        std::optional<std::string> value = r_.text(f);
        if (!value) return;
        if (f.label == "host") {
            std::transform(value->begin(), value->end(), value->begin(), to_lower_ascii);
            if (auto problem = host_pattern_problem(*value)) {
                r_.fail(f.mark, "host: \"" + *value + "\" " + *problem);
            }
            m_.host = std::move(value);
            return;
        }
        // path, path_prefix and path_regex: at most one, or the route's meaning is unclear.
        if (first_path_key_) {
            r_.fail(f.mark, f.label + ": conflicts with \"" + *first_path_key_ +
                                "\"; a match takes only one of path, path_prefix, path_regex");
        } else {
            first_path_key_ = f.label;
        }
        if (f.label == "path_regex") {
            re2::RE2::Options options;
            options.set_log_errors(false);
            if (const re2::RE2 compiled(*value, options); !compiled.ok())
                r_.fail(f.mark, "path_regex: invalid regular expression \"" + *value + "\": " +
                                    compiled.error());
            m_.path_regex = std::move(value);
            return;
        }
        if (!value->starts_with('/')) {
            r_.fail(f.mark, f.label + ": \"" + *value + "\" must start with \"/\"");
        }
        (f.label == "path" ? m_.path : m_.path_prefix) = std::move(value);
    }

    void read_methods(const field& f) {
        r_.for_each_item(f, "method", [&](const field& item) {
            std::optional<std::string> method = r_.text(item);
            if (!method) return;
            if (!is_token(*method)) {
                r_.fail(item.mark, "method: \"" + *method + "\" is not a valid HTTP method");
                return;
            }
            std::transform(method->begin(), method->end(), method->begin(), to_upper_ascii);
            m_.methods.push_back(std::move(*method));
        });
    }

    void read_headers(const field& f) {
        if (!f.node.IsMap()) {
            r_.fail(f.mark, "headers: expected a map of header name to value, got " +
                                describe(f.node));
            return;
        }
        for (auto it = f.node.begin(); it != f.node.end(); ++it) {
            const YAML::Node key = it->first;  // a copy: the iterator hands out a temporary
            std::string name = key.IsScalar() ? key.Scalar() : std::string();
            if (!is_token(name)) {
                r_.fail(key.Mark(), "headers: " + describe(key) + " is not a valid header name");
                continue;
            }
            std::transform(name.begin(), name.end(), name.begin(), to_lower_ascii);
            const YAML::Node value_node = it->second;
            std::optional<std::string> value =
                r_.text(field{name, value_node, value_node.IsNull() ? key.Mark() : value_node.Mark()});
            if (!value) continue;
            if (!m_.headers.emplace(name, std::move(*value)).second) {
                r_.fail(key.Mark(), "headers: header \"" + name + "\" is listed twice");
            }
        }
    }

    yaml_reader& r_;
    route_match m_;
    std::optional<std::string> first_path_key_;
};

}  // namespace

route_match read_route_match(const field& match, yaml_reader& reader) {
    return match_reader(reader).read(match);
}

}  // namespace tracegate::config::detail
