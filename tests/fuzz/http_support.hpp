// Feeding bytes to Beast's HTTP/1.1 parsers the way tracegate's request path does
// (proxy/session.cpp, proxy/exchange.cpp, proxy/message_reader.hpp): a fresh parser per
// message with tracegate's limits, buffer_body pieces through a fixed relay buffer, and
// std::length_error (a field value over 64 KiB) caught and turned into header_limit, as
// tracegate does. Any other exception leaves the fuzz target: a finding.
#pragma once

#include "tests/fuzz/fuzz_support.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tracegate::fuzz {

namespace http = boost::beast::http;

/// The `limits:` block's defaults (config/config.hpp).
inline constexpr std::uint64_t default_max_header_bytes = 65536;

/// Bytes arriving from a peer, handed to a parser in reads of at most `read_size` bytes
/// (what arrived so far stays buffered until the parser takes it, like flat_buffer).
class byte_source {
public:
    byte_source(std::string_view bytes, std::size_t read_size)
        : bytes_(bytes), read_size_(std::max<std::size_t>(read_size, 1)) {}

    /// Buffered and not yet taken by the parser.
    std::string_view pending() const { return bytes_.substr(taken_, arrived_ - taken_); }
    /// One more read; false at the end of the input (the peer closed).
    bool read() {
        if (arrived_ == bytes_.size()) return false;
        arrived_ = std::min(bytes_.size(), arrived_ + read_size_);
        return true;
    }
    void consume(std::size_t n) { taken_ += n; }
    /// What the parser has not taken, arrived or not.
    std::string_view rest() const { return bytes_.substr(taken_); }

private:
    std::string_view bytes_;
    std::size_t read_size_;
    std::size_t arrived_ = 0;
    std::size_t taken_ = 0;
};

/// proxy/message_reader.hpp's parse_buffered: put() what is buffered; a field value over
/// 64 KiB (std::length_error) is header_limit.
template <bool is_request, class Body>
boost::system::error_code put_buffered(http::parser<is_request, Body>& parser, byte_source& in,
                                       std::size_t* consumed = nullptr) {
    boost::system::error_code ec;
    const std::string_view pending = in.pending();
    std::size_t used = 0;
    try {
        used = parser.put(boost::asio::buffer(pending.data(), pending.size()), ec);
    } catch (const std::length_error&) {
        ec = http::error::header_limit;  // tracegate catches exactly this one
    }
    TG_FUZZ_CHECK(used <= pending.size());
    in.consume(used);
    if (consumed) *consumed = used;
    return ec;
}

/// Reads until the header is done, as session.cpp / exchange.cpp's read_header. An
/// error_code on failure, {} with the header done.
template <bool is_request, class Body>
boost::system::error_code read_header(http::parser<is_request, Body>& parser, byte_source& in) {
    for (;;) {
        if (!in.pending().empty()) {
            const auto ec = put_buffered(parser, in);
            if (ec != http::error::need_more) return ec;
        }
        if (parser.is_header_done()) return {};
        if (!in.read()) {
            if (!parser.got_some()) return http::error::end_of_stream;
            boost::system::error_code ec;
            parser.put_eof(ec);
            return ec ? ec : http::error::partial_message;
        }
    }
}

/// Reads the body through a relay buffer as exchange.cpp's relay_body (buffer_body, the
/// parser's leftover bytes bounded by `max_pending` once the header is done). Adds the
/// body bytes delivered to `bytes`. {} when the message is complete.
template <bool is_request>
boost::system::error_code read_body(http::parser<is_request, http::buffer_body>& parser, byte_source& in,
                                    std::size_t max_pending, std::uint64_t& bytes) {
    static std::array<char, 4096> chunk;  // relay_buffer, smaller to take more turns
    auto& body = parser.get().body();
    while (!parser.is_done()) {
        body.data = chunk.data();
        body.size = chunk.size();
        boost::system::error_code ec;
        std::size_t used = 0;
        if (!in.pending().empty()) ec = put_buffered(parser, in, &used);
        if (ec == http::error::need_buffer) ec = {};
        const std::size_t got = chunk.size() - body.size;
        TG_FUZZ_CHECK(got <= chunk.size());
        bytes += got;
        if (ec && ec != http::error::need_more) return ec;
        if (parser.is_done()) break;
        if (got > 0 || (used > 0 && !ec)) continue;  // progress: parse what is buffered first
        if (in.pending().size() >= max_pending) return http::error::header_limit;
        if (!in.read()) {
            ec = {};
            parser.put_eof(ec);
            return ec ? ec : (parser.is_done() ? boost::system::error_code{} : http::error::partial_message);
        }
    }
    return {};
}

/// The header as it would be written to the next hop.
template <bool is_request>
std::string serialize_header(const http::header<is_request, http::fields>& h) {
    std::ostringstream out;
    out << h;
    return out.str();
}

/// Field lines in `fields` named `name`.
inline std::size_t count(const http::fields& fields, std::string_view name) {
    return fields.count(boost::beast::string_view(name.data(), name.size()));
}

}  // namespace tracegate::fuzz
