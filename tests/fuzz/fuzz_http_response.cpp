// An upstream's HTTP/1.1 response: head and body framing, as proxy/exchange.cpp reads it
// (response_parser<buffer_body>, header limit max(max_header_bytes, 64 KiB), no body limit,
// interim 1xx responses other than 101 dropped, skip() for a HEAD request), then the
// hop-by-hop removal of the head relayed to the client. Input: raw bytes from an upstream.
//
// Checked: no exception but std::length_error; a complete Content-Length body delivers
// exactly its length; bytes arriving at once or in small reads give the same body and
// verdict; the relayed head carries no hop-by-hop field and parses again.
#include "proxy/hop_by_hop.hpp"
#include "tests/fuzz/http_support.hpp"

#include <cstdint>
#include <optional>
#include <string>

using namespace tracegate;
namespace http = boost::beast::http;

namespace {

struct outcome {
    boost::system::error_code ec;
    unsigned status = 0;
    std::uint64_t body_bytes = 0;
};

outcome run(std::string_view bytes, std::size_t read_size, bool head_request) {
    constexpr std::size_t max_response_header = 65536;  // max(max_header_bytes, 64 KiB)
    fuzz::byte_source in(bytes, read_size);
    std::optional<http::response_parser<http::buffer_body>> rp;
    outcome out;
    for (int interim = 0;; ++interim) {
        rp.emplace();
        rp->body_limit(boost::none);
        rp->header_limit(static_cast<std::uint32_t>(max_response_header));
        if (head_request) rp->skip(true);
        out.ec = fuzz::read_header(*rp, in);
        if (out.ec) return out;  // 502
        out.status = rp->get().result_int();
        if (out.status / 100 != 1 || out.status == 101) break;
    }
    TG_FUZZ_CHECK(out.status <= 999);
    // Beast takes any three digits ("HTTP/1.1 050") and a Content-Length after a
    // Transfer-Encoding other than chunked: tracegate refuses both with a 502.
    if (!proxy::response_framing_acceptable(out.status, rp->get())) {
        out.ec = http::error::bad_status;
        return out;
    }
    TG_FUZZ_CHECK(out.status >= 100);
    TG_FUZZ_CHECK(rp->get().count(http::field::transfer_encoding) == 0 ||
                  rp->get().count(http::field::content_length) == 0);

    // The head relayed to the client.
    http::response_header<> relayed = rp->get().base();
    proxy::remove_hop_by_hop(relayed, out.status == 101);
    for (const auto f : {http::field::connection, http::field::keep_alive, http::field::proxy_connection,
                         http::field::te, http::field::trailer, http::field::transfer_encoding})
        TG_FUZZ_CHECK(relayed.count(f) == 0);
    const std::string wire = fuzz::serialize_header(relayed);
    http::response_parser<http::empty_body> again;
    again.header_limit(static_cast<std::uint32_t>(wire.size() + 1));
    again.skip(true);  // the head alone
    fuzz::byte_source relayed_in(wire, wire.size());
    const auto ec = fuzz::read_header(again, relayed_in);
    if (ec) std::fprintf(stderr, "relayed head does not parse (%s):\n%s\n", ec.message().c_str(), wire.c_str());
    TG_FUZZ_CHECK(!ec);
    TG_FUZZ_CHECK(again.get().result_int() == out.status);

    const auto content_length = rp->content_length();
    out.ec = fuzz::read_body(*rp, in, max_response_header, out.body_bytes);
    // RFC 9112 6.3: no content after a HEAD, a 1xx (101: the tunnel begins), 204 or 304.
    const bool bodiless = head_request || out.status / 100 == 1 || out.status == 204 || out.status == 304;
    if (bodiless) TG_FUZZ_CHECK(out.body_bytes == 0);
    if (!out.ec && content_length && !bodiless) TG_FUZZ_CHECK(out.body_bytes == *content_length);
    if (!out.ec) TG_FUZZ_CHECK(rp->is_done());
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes = fuzz::as_text(data, size);
    for (const bool head_request : {false, true}) {
        const outcome whole = run(bytes, bytes.size() + 1, head_request);
        const outcome pieces = run(bytes, 5, head_request);
        const bool bounded = whole.ec == http::error::header_limit || pieces.ec == http::error::header_limit;
        if (!bounded) {
            if (!whole.ec != !pieces.ec)
                std::fprintf(stderr, "all at once: %s; in pieces: %s\n", whole.ec.message().c_str(),
                             pieces.ec.message().c_str());
            // Which error may differ (Beast finds some earlier with more bytes in hand); whether
            // the message was taken, and what it held, may not.
            TG_FUZZ_CHECK(!whole.ec == !pieces.ec);
            if (!whole.ec) {
                TG_FUZZ_CHECK(whole.status == pieces.status);
                TG_FUZZ_CHECK(whole.body_bytes == pieces.body_bytes);
            }
        }
    }
    return 0;
}
