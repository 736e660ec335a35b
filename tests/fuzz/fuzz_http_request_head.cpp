// A client's HTTP/1.1 request: Beast's request_parser<buffer_body> with tracegate's limits
// (proxy/session.cpp), then tracegate's RFC 9112 checks and rewrites on what parsed
// (proxy/hop_by_hop.hpp: check_request_transfer_encoding, remove_hop_by_hop,
// set_forwarded_headers), then the body the head declares. Input: raw bytes from a client.
//
// Checked: no exception but std::length_error leaves the parser; our Transfer-Encoding
// verdict and Beast's framing agree; no hop-by-hop field survives the rewrite, and the
// ones tracegate owns do; the rewritten head, as written to the upstream, parses again
// into the same request line and fields; a Content-Length body delivers exactly its length.
#include "proxy/hop_by_hop.hpp"
#include "tests/fuzz/http_support.hpp"

#include <boost/beast/http/rfc7230.hpp>

#include <cstdint>
#include <string>

using namespace tracegate;
namespace http = boost::beast::http;

namespace {

void check_rewrite(http::request_header<>& h) {
    const auto host_count = h.count(http::field::host);
    const std::string content_length =
        h.count(http::field::content_length) ? std::string(h[http::field::content_length]) : "<none>";
    const std::string request_id = h.count("x-request-id") ? std::string(h["x-request-id"]) : "<none>";
    const bool upgrade_asked = proxy::connection_has_token(h, "upgrade") && h.count(http::field::upgrade) > 0;

    proxy::remove_hop_by_hop(h, upgrade_asked, "x-request-id");
    for (const auto f : {http::field::connection, http::field::keep_alive, http::field::proxy_connection,
                         http::field::te, http::field::trailer, http::field::transfer_encoding})
        TG_FUZZ_CHECK(h.count(f) == 0);
    if (!upgrade_asked) TG_FUZZ_CHECK(h.count(http::field::upgrade) == 0);
    TG_FUZZ_CHECK(h.count(http::field::host) == host_count);
    TG_FUZZ_CHECK((h.count(http::field::content_length) ? std::string(h[http::field::content_length]) : "<none>") ==
                  content_length);
    TG_FUZZ_CHECK((h.count("x-request-id") ? std::string(h["x-request-id"]) : "<none>") == request_id);

    proxy::set_forwarded_headers(h, "192.0.2.7", "https");
    TG_FUZZ_CHECK(h.count("x-forwarded-for") == 1);
    TG_FUZZ_CHECK(std::string_view(h["x-forwarded-for"]).ends_with("192.0.2.7"));
    TG_FUZZ_CHECK(h.count("x-forwarded-proto") == 1 && h["x-forwarded-proto"] == "https");
    if (host_count > 0) {
        TG_FUZZ_CHECK(h.count("x-forwarded-host") == 1);
        TG_FUZZ_CHECK(h["x-forwarded-host"] == h[http::field::host]);
    } else {
        TG_FUZZ_CHECK(h.count("x-forwarded-host") == 0);
    }
}

/// The head as the upstream receives it parses back to the same request.
void check_forwarded_head(const http::request_header<>& h) {
    const std::string wire = fuzz::serialize_header(h);
    http::request_parser<http::empty_body> again;
    again.eager(false);
    again.header_limit(static_cast<std::uint32_t>(wire.size() + 1));
    again.body_limit(boost::none);  // the head alone is read back; any Content-Length is fine
    fuzz::byte_source in(wire, wire.size());
    const auto ec = fuzz::read_header(again, in);
    if (ec) std::fprintf(stderr, "forwarded head does not parse (%s):\n%s\n", ec.message().c_str(), wire.c_str());
    TG_FUZZ_CHECK(!ec);
    const auto& back = again.get();
    TG_FUZZ_CHECK(back.method_string() == h.method_string());
    TG_FUZZ_CHECK(back.target() == h.target());
    TG_FUZZ_CHECK(back.version() == h.version());
    std::size_t fields_before = 0, fields_after = 0;
    for (auto it = h.begin(); it != h.end(); ++it) ++fields_before;
    for (auto it = back.begin(); it != back.end(); ++it) ++fields_after;
    TG_FUZZ_CHECK(fields_before == fields_after);
}

void run(std::string_view bytes, std::size_t read_size, std::uint64_t max_header_bytes, std::uint64_t max_body_bytes) {
    http::request_parser<http::buffer_body> parser;
    parser.eager(false);
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(max_header_bytes + 4, UINT32_MAX)));
    if (max_body_bytes > 0)
        parser.body_limit(max_body_bytes);
    else
        parser.body_limit(boost::none);
    fuzz::byte_source in(bytes, read_size);
    if (fuzz::read_header(parser, in)) return;  // refused: 400 / 431 / 413, nothing forwarded

    auto& request = parser.get();
    if (request.version() != 10 && request.version() != 11) return;  // 505
    const auto coding = proxy::check_request_transfer_encoding(request);
    // Our verdict and Beast's framing agree: what we take as chunked, Beast reads as chunked.
    if (coding == proxy::transfer_coding::chunked) TG_FUZZ_CHECK(parser.chunked());
    if (coding == proxy::transfer_coding::none) TG_FUZZ_CHECK(!parser.chunked());
    if (coding == proxy::transfer_coding::invalid) return;  // 400
    if (coding == proxy::transfer_coding::chunked) TG_FUZZ_CHECK(!parser.content_length().has_value());
    const auto content_length = parser.content_length();
    if (max_body_bytes > 0 && content_length) TG_FUZZ_CHECK(*content_length <= max_body_bytes);

    http::request_header<> head = request.base();
    check_rewrite(head);
    check_forwarded_head(head);

    std::uint64_t body_bytes = 0;
    const auto ec = fuzz::read_body(parser, in, max_header_bytes, body_bytes);
    if (max_body_bytes > 0) TG_FUZZ_CHECK(body_bytes <= max_body_bytes);
    if (!ec && content_length) TG_FUZZ_CHECK(body_bytes == *content_length);
    if (!ec) TG_FUZZ_CHECK(parser.is_done());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes = fuzz::as_text(data, size);
    // The defaults, all at once; then in small reads with tight limits.
    run(bytes, bytes.size() + 1, fuzz::default_max_header_bytes, 0);
    run(bytes, 7, 1024, 64);
    return 0;
}
