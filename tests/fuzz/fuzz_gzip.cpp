// gzip inflate (tracing/gzip.hpp), which the admin server's OTLP receiver runs on a POST
// body with Content-Encoding: gzip. Input: the compressed body.
#include "tests/fuzz/fuzz_support.hpp"
#include "tracing/gzip.hpp"

#include <cstdint>
#include <string>

using namespace tracegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = fuzz::as_text(data, size);
    constexpr std::size_t max_size = 1 << 20;
    std::string out;
    const auto result = tracing::gzip_inflate(body, out, max_size);
    std::string again;
    const bool decompressed = tracing::gzip_decompress(body, again, max_size);
    TG_FUZZ_CHECK(decompressed == (result == tracing::inflate_result::ok));
    if (result != tracing::inflate_result::ok) return 0;
    TG_FUZZ_CHECK(out.size() <= max_size);
    TG_FUZZ_CHECK(again == out);
    // What inflated compresses and inflates back to itself.
    std::string compressed, back;
    tracing::gzip_compress(out, compressed);
    TG_FUZZ_CHECK(tracing::gzip_inflate(compressed, back, max_size) == tracing::inflate_result::ok);
    TG_FUZZ_CHECK(back == out);
    // A tighter bound is too_large exactly when the output would not fit.
    if (!out.empty()) {
        std::string small;
        TG_FUZZ_CHECK(tracing::gzip_inflate(body, small, out.size() - 1) == tracing::inflate_result::too_large);
    }
    return 0;
}
