// Reading HTTP/1.1 messages through Beast's parser without letting it throw: the one place
// where bytes from a peer meet basic_parser::put on the request path.
//
// Beast's parser throws std::length_error when a field value (in a header or a chunked
// trailer) is over 64 KiB, because basic_fields stores lengths in 16 bits. Inside Beast's
// own async_read_some that exception leaves through the io_context and ends the process;
// here it is an ordinary error, and the peer gets a 400 or a 502.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstddef>
#include <stdexcept>

namespace tracegate::proxy {

/// Feeds at most `window` bytes of `buffer` to `parser`; a field Beast cannot store
/// becomes http::error::header_limit.
template <bool is_request>
std::size_t parse_buffered(boost::beast::http::basic_parser<is_request>& parser,
                           boost::beast::flat_buffer& buffer, std::size_t window,
                           boost::system::error_code& ec) {
    std::size_t used = 0;
    try {
        used = parser.put(boost::asio::const_buffer(buffer.data().data(),
                                                    std::min(buffer.size(), window)),
                          ec);
    } catch (const std::length_error&) {
        ec = boost::beast::http::error::header_limit;  // a field value over 64 KiB
    }
    buffer.consume(used);
    return used;
}

/// What Beast's http::async_read_some does (parse what is buffered, read more while the
/// parser needs it, put_eof on a close after some bytes), without exceptions, and with
/// one more bound: once the header is done, the parser sees at most `max_pending` bytes at
/// a time, and bytes it leaves unconsumed are a chunk header or the trailer section,
/// which it takes only whole. When `max_pending` of them do not make one, that is
/// http::error::header_limit: a trailer is bounded like a header, however it arrives.
template <class Stream, bool is_request>
boost::asio::awaitable<boost::system::error_code> read_some(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::basic_parser<is_request>& parser, std::size_t max_pending) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    for (;;) {
        if (buffer.size() > 0) {
            parse_buffered(parser, buffer, parser.is_header_done() ? max_pending : buffer.size(), ec);
            if (ec != http::error::need_more) co_return ec;
            if (parser.is_header_done() && buffer.size() >= max_pending)
                co_return http::error::header_limit;
        }
        const std::size_t room =
            std::min<std::size_t>(std::max<std::size_t>(512, buffer.capacity() - buffer.size()),
                                  std::min<std::size_t>(65536, buffer.max_size() - buffer.size()));
        if (room == 0) co_return http::error::buffer_overflow;
        auto [rec, n] = co_await stream.async_read_some(
            buffer.prepare(room), boost::asio::as_tuple(boost::asio::use_awaitable));
        buffer.commit(n);
        if (rec == boost::asio::error::eof) {
            if (!parser.got_some()) co_return http::error::end_of_stream;
            ec = {};
            parser.put_eof(ec);
            co_return ec;
        }
        if (rec) co_return rec;
    }
}

/// Reads until `parser` has the whole header (see read_some).
template <class Stream, bool is_request>
boost::asio::awaitable<boost::system::error_code> read_header(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::basic_parser<is_request>& parser) {
    for (;;) {
        const auto ec = co_await read_some(stream, buffer, parser, buffer.max_size());
        if (ec || parser.is_header_done()) co_return ec;
    }
}

/// Reads a whole message into `parser` (a body type that holds it, like string_body).
template <class Stream, bool is_request>
boost::asio::awaitable<boost::system::error_code> read_message(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::basic_parser<is_request>& parser, std::size_t max_pending) {
    for (;;) {
        const auto ec = co_await read_some(stream, buffer, parser, max_pending);
        if (ec || parser.is_done()) co_return ec;
    }
}

}  // namespace tracegate::proxy
