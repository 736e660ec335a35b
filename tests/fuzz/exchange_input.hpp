// fuzz_proxy_exchange's input, read as a structure: up to three requests on one client
// connection, each with the upstream's answer to it. The shapes come from tables of what
// tracegate must handle (methods, targets, versions, framing and hop-by-hop headers, the
// trace headers of every format, interim and bodiless statuses); values, tokens and raw
// bytes come from the input. No input byte is ever 'z' or 'Z' (read as 'y'), so only the
// structure can write the x-fuzz-seq labels the checks rely on.
#pragma once

#include "tests/fuzz/exchange_peers.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tracegate::fuzz {

struct planned_request {
    std::uint64_t seq = 0;  ///< its x-fuzz-seq label
    bool head = false;      ///< a HEAD: its response has no body
    bool idempotent = false;
    /// Its bytes are exactly one message as planned (CRLF lines, no framing header or
    /// line break from the input, no raw tail): the next request starts where it ends.
    bool exact = true;
    std::vector<std::string> pieces;  ///< the request's bytes, written one piece at a time
    upstream_script answer;           ///< what the upstream does when it arrives
    /// The answer's head starts with a status line from the table, so x-fuzz-seq is in it.
    bool answer_labelled = true;
};

struct exchange_input {
    std::vector<planned_request> requests;
    bool pipelined = false;   ///< all requests at once, not each after the last response
    bool half_close = false;  ///< shutdown(SHUT_WR) after the last request
};

/// Reads `data` as an exchange; labels are taken from `next_seq` (advanced), including
/// those of bytes an upstream sends after a response, which no request carries.
exchange_input read_exchange_input(const std::uint8_t* data, std::size_t size, std::uint64_t& next_seq);

}  // namespace tracegate::fuzz
