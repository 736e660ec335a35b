#include "config/loader.hpp"

#include "config/schema.hpp"
#include "config/yaml_reader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

namespace tracegate::config {

namespace {

// Config files are small; a bigger file is a mistake (a log, a binary) rather than config.
constexpr std::size_t max_file_bytes = 16 * 1024 * 1024;

load_result failed(const std::string& file, std::string message) {
    load_result result;
    result.errors.push_back(error{file, 1, 1, std::move(message)});
    return result;
}

load_result unreadable(const std::string& path, int os_error) {
    return failed(path, "cannot read config file: " + std::system_category().message(os_error));
}

/// load_string(), with relative file paths in the config taken against `base_directory`.
load_result load_text(std::string_view yaml, const std::string& source, const env_lookup& env,
                      std::string base_directory) {
    detail::yaml_reader reader(source, env, std::move(base_directory));
    settings loaded;
    try {
        const YAML::Node root = YAML::Load(std::string(yaml));
        loaded = detail::read_settings(root, reader);
    } catch (const YAML::Exception& e) {
        // Syntax errors (ParserException) and anything else yaml-cpp finds, at its mark.
        reader.fail(e.mark, "invalid YAML: " + e.msg);
    } catch (const std::exception& e) {
        reader.fail(YAML::Mark::null_mark(), std::string("cannot load config: ") + e.what());
    }
    loaded.source = source;

    load_result result;
    result.errors = std::move(reader.errors());
    if (result.errors.empty()) {
        result.value = std::make_shared<const settings>(std::move(loaded));
        return result;
    }
    // The schema is read section by section and cross-checked at the end; present the
    // errors in file order.
    std::stable_sort(result.errors.begin(), result.errors.end(), [](const error& a, const error& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    return result;
}

}  // namespace

std::string error::to_string() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

load_result load_file(const std::string& path, const env_lookup& env) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) return unreadable(path, errno);
    std::string text;
    char buffer[64 * 1024];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
        text.append(buffer, n);
        if (text.size() > max_file_bytes) {
            return failed(path, "cannot read config file: larger than 16 MiB");
        }
    }
    // A directory opens fine on Linux; reading it is what fails (EISDIR).
    if (std::ferror(file.get())) return unreadable(path, errno);
    // Certificates and keys named relative to the config file sit beside it.
    std::string directory = std::filesystem::path(path).parent_path().string();
    return load_text(text, path, env, directory.empty() ? "." : std::move(directory));
}

load_result load_string(std::string_view yaml, const std::string& source, const env_lookup& env) {
    return load_text(yaml, source, env, {});
}

}  // namespace tracegate::config
