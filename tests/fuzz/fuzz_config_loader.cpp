// The YAML config loader (config/loader.hpp load_string): whatever the text, it returns
// settings or errors with positions, and never throws or crashes. Input: a config file.
//
// Also checked: settings and errors never come together; the effective config it dumps
// (GET /config) is YAML and JSON that the dumper can write for any settings.
#include "config/dump.hpp"
#include "config/loader.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>

using namespace tracegate;

namespace {

/// A fixed environment: the run never depends on the fuzzing machine's variables.
std::optional<std::string> fixed_env(const std::string& name) {
    if (name == "FUZZ_PORT") return "8080";
    if (name == "FUZZ_HOST") return "127.0.0.1";
    if (name == "FUZZ_EMPTY") return "";
    return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    config::load_result r;
    try {
        r = config::load_string(text, "fuzz.yaml", fixed_env);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "load_string threw: %s\n", e.what());
        TG_FUZZ_CHECK(!"load_string returns errors, never throws");
    } catch (...) {
        TG_FUZZ_CHECK(!"load_string returns errors, never throws");
    }
    TG_FUZZ_CHECK((r.value != nullptr) != !r.errors.empty());
    static const bool verbose = std::getenv("TRACEGATE_FUZZ_VERBOSE") != nullptr;  // to check the seeds
    if (verbose) {
        for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
        if (r.value) std::fprintf(stderr, "loaded\n");
    }
    for (const auto& e : r.errors) {
        TG_FUZZ_CHECK(!e.message.empty());
        TG_FUZZ_CHECK(e.line >= 0 && e.column >= 0);
    }
    if (r.value) {
        try {
            const std::string yaml = config::dump_yaml(*r.value);
            const std::string json = config::dump_json(*r.value);
            TG_FUZZ_CHECK(!yaml.empty() && !json.empty());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "dumping loaded settings threw: %s\n", e.what());
            TG_FUZZ_CHECK(!"dump of loaded settings never throws");
        }
    }
    return 0;
}
