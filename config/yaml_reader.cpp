#include "config/yaml_reader.hpp"

#include "config/edit_distance.hpp"
#include "config/scalar_parsers.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <utility>

namespace tracegate::config::detail {

namespace {

constexpr std::string_view duration_examples = "expected e.g. 250ms, 10s, 2m, 1h, or 0";

// yaml-cpp marks are 0-based and -1 when unknown (an empty document); report 1-based.
int one_based(int position) {
    return position < 0 ? 1 : position + 1;
}

}  // namespace

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Map:
        return "a map";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Scalar:
        return "\"" + node.Scalar() + "\"";
    default:
        return "nothing";
    }
}

yaml_reader::yaml_reader(std::string file, env_lookup env, std::string base_directory)
    : file_(std::move(file)), env_(std::move(env)), base_directory_(std::move(base_directory)) {}

std::string yaml_reader::path(std::string_view written) const {
    const std::filesystem::path p(written);
    if (p.is_absolute()) return p.lexically_normal().string();
    std::error_code ignored;  // no current directory (deleted): keep the path relative
    const std::filesystem::path base = std::filesystem::absolute(
        base_directory_.empty() ? std::filesystem::path(".") : std::filesystem::path(base_directory_), ignored);
    return (base / p).lexically_normal().string();
}

void yaml_reader::fail(const YAML::Mark& at, std::string message) {
    errors_.push_back(error{file_, one_based(at.line), one_based(at.column), std::move(message)});
}

bool yaml_reader::for_each_key(const field& map, std::string_view context,
                               std::span<const std::string_view> known,
                               const std::function<void(const field&)>& on_key) {
    if (map.node.IsNull()) return true;  // "limits:" with everything commented out
    if (!map.node.IsMap()) {
        fail(map.mark, map.label + ": expected a map, got " + describe(map.node));
        return false;
    }
    std::map<std::string, int, std::less<>> first_line;
    for (auto it = map.node.begin(); it != map.node.end(); ++it) {
        const YAML::Node key = it->first;  // a copy: the iterator hands out a temporary
        const YAML::Node value = it->second;
        if (!key.IsScalar()) {
            fail(key.Mark(), std::string(context) + ": expected a key name, got " + describe(key));
            continue;
        }
        const std::string& name = key.Scalar();
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string message = "unknown key \"" + name + "\" in " + std::string(context);
            if (auto suggestion = nearest(name, known)) {
                message += "; did you mean \"" + *suggestion + "\"?";
            }
            fail(key.Mark(), std::move(message));
            continue;
        }
        const auto [seen, inserted] = first_line.emplace(name, one_based(key.Mark().line));
        if (!inserted) {
            fail(key.Mark(), "duplicate key \"" + name + "\" in " + std::string(context) +
                                 " (first at line " + std::to_string(seen->second) + ")");
            continue;
        }
        // An empty value ("key:" and nothing) is marked where the next token starts,
        // often the next line; its key is where the reader should look.
        on_key(field{name, value, value.IsNull() ? key.Mark() : value.Mark()});
    }
    return true;
}

bool yaml_reader::for_each_item(const field& list, std::string_view item_label,
                                const std::function<void(const field&)>& on_item) {
    if (list.node.IsNull()) return true;  // "routes:" with every item commented out
    if (!list.node.IsSequence()) {
        fail(list.mark, list.label + ": expected a list, got " + describe(list.node));
        return false;
    }
    for (const YAML::Node& item : list.node) {
        on_item(field{std::string(item_label), item, item.IsNull() ? list.mark : item.Mark()});
    }
    return true;
}

std::optional<std::string> yaml_reader::text(const field& f) {
    if (f.node.IsNull()) return std::string();
    if (!f.node.IsScalar()) {
        fail(f.mark, f.label + ": expected a single value, got " + describe(f.node));
        return std::nullopt;
    }
    std::string problem;
    std::optional<std::string> value = substitute_env(f.node.Scalar(), env_, problem);
    if (!value) fail(f.mark, f.label + ": " + problem);
    return value;
}

std::optional<std::uint64_t> yaml_reader::integer(const field& f, std::uint64_t max) {
    if (f.node.IsNull()) {
        fail(f.mark, f.label + ": expected a non-negative integer, got nothing");
        return std::nullopt;
    }
    const std::optional<std::string> value = text(f);
    if (!value) return std::nullopt;
    std::uint64_t number = 0;
    const char* end = value->data() + value->size();
    const auto [stop, status] = std::from_chars(value->data(), end, number);
    if (value->empty() || stop != end || status == std::errc::invalid_argument) {
        fail(f.mark, f.label + ": expected a non-negative integer, got \"" + *value + "\"");
        return std::nullopt;
    }
    if (status == std::errc::result_out_of_range || number > max) {
        fail(f.mark, f.label + ": must be at most " + std::to_string(max) + ", got " + *value);
        return std::nullopt;
    }
    return number;
}

std::optional<bool> yaml_reader::boolean(const field& f) {
    const std::optional<std::string> value = text(f);
    if (!value) return std::nullopt;
    if (*value == "true" || *value == "True" || *value == "TRUE") return true;
    if (*value == "false" || *value == "False" || *value == "FALSE") return false;
    fail(f.mark, f.label + ": expected true or false, got " +
                     (f.node.IsNull() ? std::string("nothing") : "\"" + *value + "\""));
    return std::nullopt;
}

std::optional<duration> yaml_reader::duration_value(const field& f) {
    const std::optional<std::string> value = text(f);
    if (!value) return std::nullopt;
    std::string problem;
    std::optional<duration> result = parse_duration(*value, problem);
    if (!result) {
        fail(f.mark, f.label + ": invalid duration \"" + *value + "\" (" + problem + "); " +
                         std::string(duration_examples));
    }
    return result;
}

std::optional<address> yaml_reader::address_value(const field& f) {
    const std::optional<std::string> value = text(f);
    if (!value) return std::nullopt;
    std::string problem;
    std::optional<address> result = parse_address(*value, problem);
    if (!result) fail(f.mark, f.label + ": invalid address \"" + *value + "\": " + problem);
    return result;
}

}  // namespace tracegate::config::detail
