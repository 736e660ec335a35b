// Header rewriting between hops (RFC 9110 7.6.1): what one connection's peer said about
// that connection is not forwarded to the next.
#pragma once

#include <boost/beast/http/fields.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tracegate::proxy {

/// True when a Connection header lists `token` (case-insensitive).
bool connection_has_token(const boost::beast::http::fields& fields, std::string_view token);

/// Removes Connection and every header it names, Keep-Alive, Proxy-Connection, TE,
/// Trailer, Transfer-Encoding and, unless `keep_upgrade`, Upgrade. Host, Content-Length
/// and `owned` (a header tracegate itself sets, the request id) are never removed because
/// a Connection header names them.
void remove_hop_by_hop(boost::beast::http::fields& fields, bool keep_upgrade,
                       std::string_view owned = {});

/// Keeps in the request's Upgrade only the protocols in `allowed` (lowercase names, with
/// or without "/version": a name alone allows every version). False, and no Upgrade
/// left, when none remains: the request is then no upgrade (RFC 9110 7.8).
bool keep_allowed_upgrades(boost::beast::http::fields& request,
                           const std::vector<std::string>& allowed);

/// True when a 101's Upgrade names a protocol the request's Upgrade asked for: a tunnel
/// opens only for what the client requested (RFC 9110 15.2.2).
bool upgrade_answered(const boost::beast::http::fields& request,
                      const boost::beast::http::fields& response);

/// A response whose framing can be passed on. RFC 9112 6.3: Transfer-Encoding beside
/// Content-Length may be an attempt at request smuggling or response splitting, and an
/// intermediary must not pass both; refusing it is the safe choice (Beast accepts a
/// Content-Length after a Transfer-Encoding that does not end in chunked). A status below
/// 100 is no status at all (RFC 9110 15). False: a 502.
bool response_framing_acceptable(unsigned status, const boost::beast::http::fields& response);

/// How a request's Transfer-Encoding reads (RFC 9112 6.1, 6.3): only plain chunked is taken.
enum class transfer_coding {
    none,     ///< no Transfer-Encoding header
    chunked,  ///< exactly chunked
    invalid,  ///< any other coding or list: 400
};
transfer_coding check_request_transfer_encoding(const boost::beast::http::fields& fields);

/// Appends `client_address` to X-Forwarded-For (all lines joined), sets
/// X-Forwarded-Proto to `scheme` and X-Forwarded-Host to the Host header.
void set_forwarded_headers(boost::beast::http::fields& fields, std::string_view client_address,
                           std::string_view scheme);

}  // namespace tracegate::proxy
