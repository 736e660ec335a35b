// The header carrier every propagation format works on: get / set / remove by name.
// proxy/ adapts Beast's header to it, so tracing/ never sees Beast.
#pragma once

#include <optional>
#include <string_view>

namespace tracegate::tracing {

class carrier {
public:
    virtual ~carrier() = default;
    /// Value of the header `name` (case-insensitive); several lines are joined with ",".
    virtual std::optional<std::string_view> get(std::string_view name) const = 0;
    /// Replaces every line of `name` with one line holding `value`.
    virtual void set(std::string_view name, std::string_view value) = 0;
    /// Removes every line of `name`.
    virtual void remove(std::string_view name) = 0;
};

}  // namespace tracegate::tracing
