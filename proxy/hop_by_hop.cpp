#include "proxy/hop_by_hop.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <array>
#include <string>
#include <vector>

namespace tracegate::proxy {
namespace http = boost::beast::http;
using boost::beast::iequals;

bool connection_has_token(const http::fields& fields, std::string_view token) {
    auto [first, last] = fields.equal_range(http::field::connection);
    for (auto it = first; it != last; ++it)
        for (auto t : http::token_list{it->value()})
            if (iequals(t, token)) return true;
    return false;
}

void remove_hop_by_hop(http::fields& fields, bool keep_upgrade, std::string_view owned) {
    // Collect first: erasing while iterating the token lists would invalidate them.
    std::vector<std::string> named;
    auto [first, last] = fields.equal_range(http::field::connection);
    for (auto it = first; it != last; ++it)
        for (auto t : http::token_list{it->value()}) named.emplace_back(t);
    for (const auto& name : named) {
        if (iequals(name, "host") || iequals(name, "content-length")) continue;
        if (!owned.empty() && iequals(name, owned)) continue;
        if (keep_upgrade && iequals(name, "upgrade")) continue;
        fields.erase(name);
    }
    static constexpr std::array always{http::field::connection, http::field::keep_alive,
                                       http::field::proxy_connection, http::field::te,
                                       http::field::trailer, http::field::transfer_encoding};
    for (auto f : always) fields.erase(f);
    if (!keep_upgrade) fields.erase(http::field::upgrade);
}

namespace {

/// Calls `f` with each protocol of every Upgrade field of `fields`: a comma-separated
/// list of protocol-name ["/" protocol-version] (RFC 9110 7.8), which Beast's token_list
/// would cut at the "/".
template <class F>
void for_each_upgrade(const http::fields& fields, F&& f) {
    auto [first, last] = fields.equal_range(http::field::upgrade);
    for (auto it = first; it != last; ++it) {
        std::string_view list = it->value();
        while (!list.empty()) {
            const auto comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
            if (!item.empty()) f(item);
        }
    }
}

std::string_view protocol_name(std::string_view token) { return token.substr(0, token.find('/')); }

}  // namespace

bool keep_allowed_upgrades(http::fields& request, const std::vector<std::string>& allowed) {
    std::string kept;
    for_each_upgrade(request, [&](std::string_view token) {
        for (const auto& a : allowed) {
            const bool name_only = a.find('/') == std::string::npos;
            if (!(name_only ? iequals(protocol_name(token), a) : iequals(token, a))) continue;
            if (!kept.empty()) kept += ", ";
            kept += token;
            return;
        }
    });
    if (kept.empty()) {
        request.erase(http::field::upgrade);
        return false;
    }
    request.set(http::field::upgrade, kept);
    return true;
}

bool upgrade_answered(const http::fields& request, const http::fields& response) {
    bool answered = false;
    for_each_upgrade(response, [&](std::string_view chosen) {
        for_each_upgrade(request, [&](std::string_view asked) {
            answered = answered || iequals(protocol_name(chosen), protocol_name(asked));
        });
    });
    return answered;
}

bool response_framing_acceptable(unsigned status, const http::fields& response) {
    if (status < 100) return false;
    return response.count(http::field::transfer_encoding) == 0 ||
           response.count(http::field::content_length) == 0;
}

transfer_coding check_request_transfer_encoding(const http::fields& fields) {
    auto [first, last] = fields.equal_range(http::field::transfer_encoding);
    if (first == last) return transfer_coding::none;
    // Only chunked is passed through: the proxy re-frames bodies and would otherwise
    // have to carry other codings along (RFC 9112 6.1 allows refusing them).
    static constexpr std::array<std::string_view, 1> known{"chunked"};
    std::string_view final_coding;
    bool chunked_seen = false;
    for (auto it = first; it != last; ++it) {
        bool any = false;
        for (auto t : http::token_list{it->value()}) {
            any = true;
            if (chunked_seen) return transfer_coding::invalid;  // chunked applied twice / not last
            bool is_known = false;
            for (auto k : known) is_known = is_known || iequals(t, k);
            if (!is_known) return transfer_coding::invalid;
            if (iequals(t, "chunked")) chunked_seen = true;
            final_coding = t;
        }
        if (!any) return transfer_coding::invalid;
    }
    return iequals(final_coding, "chunked") ? transfer_coding::chunked : transfer_coding::invalid;
}

void set_forwarded_headers(http::fields& fields, std::string_view client_address,
                           std::string_view scheme) {
    std::string forwarded_for;
    auto [first, last] = fields.equal_range("x-forwarded-for");
    for (auto it = first; it != last; ++it) {
        if (!forwarded_for.empty()) forwarded_for += ", ";
        forwarded_for += it->value();
    }
    // Beyond this the oldest hops are dropped: nearer hops matter most, and Beast refuses
    // field values over 64 KiB.
    constexpr std::size_t max_forwarded_for = 8192;
    if (forwarded_for.size() > max_forwarded_for) {
        const auto cut = forwarded_for.find(", ", forwarded_for.size() - max_forwarded_for);
        forwarded_for.erase(0, cut == std::string::npos ? forwarded_for.size() : cut + 2);
    }
    if (!forwarded_for.empty()) forwarded_for += ", ";
    forwarded_for += client_address;
    fields.set("x-forwarded-for", forwarded_for);
    fields.set("x-forwarded-proto", scheme);
    if (auto host = fields.find(http::field::host); host != fields.end())
        fields.set("x-forwarded-host", std::string(host->value()));
    else
        fields.erase("x-forwarded-host");
}

}  // namespace tracegate::proxy
