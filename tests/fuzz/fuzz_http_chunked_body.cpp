// A client's chunked request body and trailer section, after a fixed valid head
// (POST, Transfer-Encoding: chunked), read as proxy/exchange.cpp's relay_body does:
// buffer_body through a relay buffer, leftover bytes bounded by max_header_bytes.
// Input: the bytes after the head.
//
// Checked: no exception but std::length_error; the same bytes arriving all at once or a
// few at a time give the same body and the same verdict (unless one hit the leftover
// bound, which depends on how the bytes arrived).
#include "tests/fuzz/http_support.hpp"

#include <cstdint>
#include <string>

using namespace tracegate;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view head =
    "POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n";

struct outcome {
    boost::system::error_code ec;
    std::string body;
};

outcome run(const std::string& bytes, std::size_t read_size, std::uint64_t max_header_bytes,
            std::uint64_t max_body_bytes) {
    http::request_parser<http::buffer_body> parser;
    parser.eager(false);
    parser.header_limit(static_cast<std::uint32_t>(max_header_bytes + 4));
    if (max_body_bytes > 0)
        parser.body_limit(max_body_bytes);
    else
        parser.body_limit(boost::none);
    fuzz::byte_source in(bytes, read_size);
    outcome out;
    out.ec = fuzz::read_header(parser, in);
    TG_FUZZ_CHECK(!out.ec && parser.chunked());  // the head is fixed and valid
    // The body bytes, in order: read_body with a sink that keeps them.
    static std::array<char, 4096> chunk;
    auto& body = parser.get().body();
    std::uint64_t bytes_seen = 0;
    while (!parser.is_done()) {
        body.data = chunk.data();
        body.size = chunk.size();
        boost::system::error_code ec;
        std::size_t used = 0;
        if (!in.pending().empty()) ec = fuzz::put_buffered(parser, in, &used);
        if (ec == http::error::need_buffer) ec = {};
        const std::size_t got = chunk.size() - body.size;
        out.body.append(chunk.data(), got);
        bytes_seen += got;
        if (ec && ec != http::error::need_more) {
            out.ec = ec;
            break;
        }
        if (parser.is_done()) break;
        if (got > 0 || (used > 0 && !ec)) continue;  // progress: parse what is buffered first
        if (in.pending().size() >= max_header_bytes) {
            out.ec = http::error::header_limit;
            break;
        }
        if (!in.read()) {
            parser.put_eof(ec);
            out.ec = ec ? ec : http::error::partial_message;
            break;
        }
    }
    if (max_body_bytes > 0) TG_FUZZ_CHECK(bytes_seen <= max_body_bytes);
    if (!out.ec) TG_FUZZ_CHECK(parser.is_done());
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string bytes(head);
    bytes.append(reinterpret_cast<const char*>(data), size);
    const outcome whole = run(bytes, bytes.size(), 65536, 0);
    const outcome pieces = run(bytes, 3, 65536, 0);
    const bool bounded = whole.ec == http::error::header_limit || pieces.ec == http::error::header_limit;
    if (!bounded) {
        if (!whole.ec != !pieces.ec)
            std::fprintf(stderr, "all at once: %s; in pieces: %s\n", whole.ec.message().c_str(),
                         pieces.ec.message().c_str());
        // Which error may differ (Beast finds some earlier with more bytes in hand); whether
        // the message was taken, and what it held, may not.
        TG_FUZZ_CHECK(!whole.ec == !pieces.ec);
        if (!whole.ec) TG_FUZZ_CHECK(whole.body == pieces.body);
    }
    // Tight limits, as a deployment might set them.
    run(bytes, 5, 256, 32);
    return 0;
}
