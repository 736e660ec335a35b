#include "tracing/tracestate.hpp"

#include "tracing/parse_util.hpp"

#include <algorithm>
#include <array>

namespace tracegate::tracing {
namespace {

constexpr bool is_lcalpha_or_digit(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

constexpr bool is_keychar(char c) noexcept {
    return is_lcalpha_or_digit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@';
}

// https://www.w3.org/TR/trace-context/#value:
//   chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
constexpr bool is_value_char(char c) noexcept {
    return c >= 0x20 && c <= 0x7e && c != ',' && c != '=';
}

using member_list = std::array<std::string_view, tracestate_max_members>;

std::size_t joined_size(const member_list& members, std::size_t count) {
    std::size_t size = count == 0 ? 0 : count - 1;  // the commas
    for (std::size_t i = 0; i < count; ++i) size += members[i].size();
    return size;
}

void erase_at(member_list& members, std::size_t& count, std::size_t index) {
    std::copy(members.begin() + index + 1, members.begin() + count, members.begin() + index);
    --count;
}

// https://www.w3.org/TR/trace-context/#tracestate-limits: whole members only; long ones (> 128)
// first, then from the end. Only as many as needed, each time the last long one, so the newest
// (left-most) vendors survive.
void truncate(member_list& members, std::size_t& count, std::size_t max_size) {
    while (count > 0 && joined_size(members, count) > max_size) {
        std::size_t victim = count - 1;
        for (std::size_t i = count; i-- > 0;) {
            if (members[i].size() > tracestate_long_member_size) {
                victim = i;
                break;
            }
        }
        erase_at(members, count, victim);
    }
}

std::string join(const member_list& members, std::size_t count) {
    std::string out;
    out.reserve(joined_size(members, count));
    for (std::size_t i = 0; i < count; ++i) {
        if (i != 0) out += ',';
        out += members[i];
    }
    return out;
}

}  // namespace

bool is_valid_tracestate_key(std::string_view key) noexcept {
    if (key.empty() || key.size() > tracestate_max_key_size) return false;
    if (!is_lcalpha_or_digit(key.front())) return false;
    return std::all_of(key.begin(), key.end(), is_keychar);
}

bool is_valid_tracestate_value(std::string_view value) noexcept {
    if (value.empty() || value.size() > tracestate_max_value_size) return false;
    if (value.back() == ' ') return false;
    return std::all_of(value.begin(), value.end(), is_value_char);
}

std::optional<std::string> parse_tracestate(std::string_view header, std::size_t max_size) {
    member_list members{};
    std::size_t count = 0;
    // https://www.w3.org/TR/trace-context/#list:
    //   list = list-member 0*31( OWS "," OWS list-member ); list-member = key "=" value / OWS
    // Empty and whitespace-only members are allowed (they appear when several header lines
    // are combined) and skipped.
    for (;;) {
        const auto comma = header.find(',');
        const std::string_view member = detail::trim_ows(header.substr(0, comma));
        if (!member.empty()) {
            if (count == tracestate_max_members) return std::nullopt;
            const auto equals = member.find('=');
            if (equals == std::string_view::npos) return std::nullopt;
            const std::string_view key = member.substr(0, equals);
            if (!is_valid_tracestate_key(key)) return std::nullopt;
            if (!is_valid_tracestate_value(member.substr(equals + 1))) return std::nullopt;
            // #combined-header-value: "Only one entry per key is allowed"; a list that
            // repeats a key is invalid.
            for (std::size_t i = 0; i < count; ++i) {
                if (members[i].substr(0, members[i].find('=')) == key) return std::nullopt;
            }
            members[count++] = member;
        }
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    truncate(members, count, max_size);
    return join(members, count);
}

std::string truncate_tracestate(std::string_view canonical, std::size_t max_size) {
    if (canonical.size() <= max_size) return std::string(canonical);
    member_list members{};
    std::size_t count = 0;
    while (!canonical.empty() && count < members.size()) {
        const auto comma = canonical.find(',');
        members[count++] = canonical.substr(0, comma);
        canonical =
            comma == std::string_view::npos ? std::string_view{} : canonical.substr(comma + 1);
    }
    truncate(members, count, max_size);
    return join(members, count);
}

}  // namespace tracegate::tracing
