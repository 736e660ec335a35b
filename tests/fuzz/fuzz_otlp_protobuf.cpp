// The OTLP protobuf decoder behind the admin server's POST /v1/traces
// (application/x-protobuf). Input: the request body.
#include "tests/fuzz/otlp_checks.hpp"

#include <cstdint>

using namespace tracegate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t max_spans = 1000;
    tracing::decoded_spans decoded;
    try {
        decoded = tracing::decode_otlp_protobuf(fuzz::as_text(data, size), max_spans);
    } catch (const tracing::otlp_decode_error&) {
        return 0;  // a named error is the contract; anything else escapes and is a finding
    }
    fuzz::check_decoded(decoded, max_spans);
    fuzz::check_reencoded(decoded);
    return 0;
}
