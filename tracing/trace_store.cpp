#include "tracing/trace_store.hpp"

#include <algorithm>
#include <iterator>
#include <list>
#include <map>
#include <random>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

namespace tracegate::tracing {
namespace {

/// The http.response.status_code attribute (OpenTelemetry HTTP semantic conventions).
constexpr std::string_view status_code_key = "http.response.status_code";
/// The http.route attribute (same conventions): the matched route template.
constexpr std::string_view route_key = "http.route";

/// splitmix64's finalizer: every input bit affects every output bit.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// Trace ids come from request headers, so the hash is seeded per store: a client cannot
/// pick ids that all land in one bucket.
struct trace_id_hash {
    std::uint64_t seed = 0;
    std::size_t operator()(const trace_id& id) const noexcept {
        return static_cast<std::size_t>(mix(mix(id.high() ^ seed) ^ id.low()));
    }
};

/// Span ids as keys; parent ids may come from request headers too.
struct span_key_hash {
    std::size_t operator()(std::uint64_t id) const noexcept { return static_cast<std::size_t>(mix(id)); }
};

std::size_t attributes_bytes(const std::vector<attribute>& attributes) noexcept {
    std::size_t bytes = attributes.size() * sizeof(attribute);
    for (const attribute& a : attributes) {
        bytes += a.key.size();
        if (const auto* text = std::get_if<std::string>(&a.value)) bytes += text->size();
    }
    return bytes;
}

bool has_parent(const span_data& span) noexcept {
    return span.parent_span_id && span.parent_span_id->is_valid();
}

/// The `http.route` of a span when it is a string attribute.
const std::string* route_of(const span_data& span) noexcept {
    for (const attribute& a : span.attributes)
        if (a.key == route_key) return std::get_if<std::string>(&a.value);
    return nullptr;
}

/// Order of kinds among spans starting at the same time: the side that receives a call
/// starts it (server, consumer), work inside it next (internal), then the calls it makes
/// (producer, client), whose server spans start at the same time elsewhere.
int kind_rank(span_kind kind) noexcept {
    switch (kind) {
        case span_kind::server: return 0;
        case span_kind::consumer: return 1;
        case span_kind::internal: return 2;
        case span_kind::producer: return 3;
        case span_kind::client: return 4;
    }
    return 2;
}

/// A kept span: the span and a view of its service's interned name (trace_store::state::names).
struct kept_span {
    span_data span;
    std::string_view service;
};

/// One kept trace: its spans in arrival order plus what the summary needs, updated per span.
struct trace_entry {
    explicit trace_entry(const trace_id& id) : id(id) {}

    trace_id id;
    std::vector<kept_span> spans;  ///< Arrival order, so trimming drops the oldest first.
    std::size_t bytes = 0;         ///< Sum of estimated_bytes(span, service) of `spans`.
    /// Spans per service: the distinct services, sorted, and what eviction releases.
    std::map<std::string_view, std::size_t, std::less<>> services;
    bool truncated = false;        ///< Spans were trimmed.

    /// Span id → index in `spans`: duplicate detection and "is the parent here".
    std::unordered_map<std::uint64_t, std::size_t, span_key_hash> positions;
    /// Spans whose parent is not (yet) here, keyed by that missing parent's id, so the
    /// parent's arrival finds them in O(1).
    std::unordered_multimap<std::uint64_t, std::size_t, span_key_hash> orphans_by_parent;
    /// The same spans ordered by (start, index): the earliest is the root candidate.
    std::set<std::pair<std::uint64_t, std::size_t>> orphans;
    std::optional<std::size_t> parentless;  ///< Earliest span without a parent.
    std::size_t earliest = 0;               ///< Earliest span of all (first arrival on ties).
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    bool has_error = false;

    /// Index of the root span: the span without a parent, else the earliest span whose
    /// parent is not here, else the earliest span. `spans` must not be empty.
    std::size_t root() const noexcept {
        if (parentless) return *parentless;
        if (!orphans.empty()) return orphans.begin()->second;
        return earliest;
    }

    const span_data& span_at(std::size_t pos) const noexcept { return spans[pos].span; }

    /// Folds spans[pos], the newest span, into the summary.
    void index(std::size_t pos) {
        const span_data& span = span_at(pos);
        const std::uint64_t id = span.span_id.to_uint64();
        positions.emplace(id, pos);
        ++services[spans[pos].service];
        if (pos == 0) {
            start = span.start_time_unix_nano;
            end = span.end_time_unix_nano;
        } else {
            if (span.start_time_unix_nano < span_at(earliest).start_time_unix_nano) earliest = pos;
            start = std::min(start, span.start_time_unix_nano);
            end = std::max(end, span.end_time_unix_nano);
        }
        has_error = has_error || span.status == status_code::error;

        // The spans that named this one as their parent are no longer orphans.
        const auto [first, last] = orphans_by_parent.equal_range(id);
        for (auto it = first; it != last; ++it)
            orphans.erase({span_at(it->second).start_time_unix_nano, it->second});
        orphans_by_parent.erase(first, last);

        if (!has_parent(span)) {
            if (!parentless || span.start_time_unix_nano < span_at(*parentless).start_time_unix_nano)
                parentless = pos;
        } else if (const std::uint64_t parent = span.parent_span_id->to_uint64(); !positions.contains(parent)) {
            orphans_by_parent.emplace(parent, pos);
            orphans.emplace(span.start_time_unix_nano, pos);
        }
    }

    /// Recomputes the summary from `spans` (after trimming shifted every index).
    void reindex() {
        positions.clear();
        orphans_by_parent.clear();
        orphans.clear();
        services.clear();
        parentless.reset();
        earliest = 0;
        has_error = false;
        for (std::size_t pos = 0; pos < spans.size(); ++pos) index(pos);
    }

    trace_summary summary() const {
        trace_summary out;
        out.trace_id = id;
        out.start_time_unix_nano = start;
        out.end_time_unix_nano = end;
        out.span_count = spans.size();
        out.has_error = has_error;
        out.truncated = truncated;
        const kept_span& root_kept = spans[root()];
        const span_data& root_span = root_kept.span;
        out.root_name = root_span.name;
        out.root_service = root_kept.service;
        out.services.reserve(services.size());
        for (const auto& [service, count] : services) out.services.emplace_back(service);
        if (const std::string* route = route_of(root_span)) out.route = *route;
        for (const attribute& a : root_span.attributes) {
            if (a.key != status_code_key) continue;
            if (const auto* code = std::get_if<std::int64_t>(&a.value)) out.status_code = *code;
            break;
        }
        return out;
    }
};

}  // namespace

struct trace_store::state {
    explicit state(std::uint64_t seed) : index(0, trace_id_hash{seed}) {}

    /// Interned service names -> spans kept under each; a name goes with its last span.
    /// A std::map: node-based (the views spans hold stay valid) and sorted for services().
    using name_table = std::map<std::string, std::size_t, std::less<>>;

    name_table names;
    std::list<trace_entry> traces;  ///< Oldest first; splice moves a trace to the back.
    std::unordered_map<trace_id, std::list<trace_entry>::iterator, trace_id_hash> index;
    std::size_t spans = 0;
    std::size_t bytes = 0;
    std::uint64_t evicted_traces = 0;
    std::uint64_t rejected_spans = 0;
    std::uint64_t trimmed_spans = 0;
    std::uint64_t duplicate_spans = 0;

    /// The interned copy of `name`, with the count of spans using it (0 when new).
    name_table::iterator intern(std::string_view name) {
        auto found = names.find(name);
        if (found == names.end()) found = names.emplace(std::string(name), 0).first;
        return found;
    }

    /// `spans` spans of service `name` are gone; the name goes with the last of them.
    /// `name` may view the interned copy itself: it is not used after the erase.
    void release(std::string_view name, std::size_t spans) {
        const auto found = names.find(name);
        if (found == names.end()) return;  // not reached: every kept span's name is interned
        found->second -= std::min(spans, found->second);
        if (found->second == 0) names.erase(found);
    }

    /// Adds one span of `span_bytes` (<= max_bytes) under the interned `service`, then
    /// restores both bounds. Evicted traces go to `graveyard`, to be destroyed once the
    /// lock is released.
    void insert(span_data&& span, std::size_t span_bytes, name_table::iterator service,
                const trace_store_options& options, std::list<trace_entry>& graveyard) {
        auto found = index.find(span.trace_id);
        if (found == index.end()) {
            traces.emplace_back(span.trace_id);
            found = index.emplace(span.trace_id, std::prev(traces.end())).first;
        } else if (found->second->positions.contains(span.span_id.to_uint64())) {
            ++duplicate_spans;
            return;
        } else {
            traces.splice(traces.end(), traces, found->second);  // iterators stay valid
        }
        trace_entry& trace = *found->second;
        trace.spans.push_back({std::move(span), service->first});
        ++service->second;  // before trimming or evicting, which may release names
        trace.bytes += span_bytes;
        bytes += span_bytes;
        ++spans;
        trace.index(trace.spans.size() - 1);

        if (trace.bytes > options.max_bytes) trim(trace, options.max_bytes);
        // `trace` is the newest and within max_bytes now, and max_traces >= 1, so the loop
        // stops before reaching it; the address check only guards that reasoning.
        while ((traces.size() > options.max_traces || bytes > options.max_bytes) &&
               &traces.front() != &trace) {
            const trace_entry& oldest = traces.front();
            for (const auto& [name, count] : oldest.services) release(name, count);
            index.erase(oldest.id);
            spans -= oldest.spans.size();
            bytes -= oldest.bytes;
            ++evicted_traces;
            graveyard.splice(graveyard.end(), traces, traces.begin());
        }
    }

    /// Drops the oldest spans of a trace larger than max_bytes down to 3/4 of it, keeping
    /// at least the newest span. The margin amortizes the O(spans) reindex over the
    /// quarter of max_bytes that must arrive before the next trim.
    void trim(trace_entry& trace, std::size_t max_bytes) {
        const std::size_t target = max_bytes - max_bytes / 4;
        std::size_t dropped = 0;
        std::size_t dropped_bytes = 0;
        while (dropped + 1 < trace.spans.size() && trace.bytes - dropped_bytes > target) {
            const kept_span& oldest = trace.spans[dropped++];
            dropped_bytes += estimated_bytes(oldest.span, oldest.service);
        }
        // Counted per name first: release() may free a name, and the views of it with it.
        std::map<std::string_view, std::size_t, std::less<>> released;
        for (std::size_t i = 0; i < dropped; ++i) ++released[trace.spans[i].service];
        trace.spans.erase(trace.spans.begin(), trace.spans.begin() + static_cast<std::ptrdiff_t>(dropped));
        for (const auto& [name, count] : released) release(name, count);
        trace.truncated = trace.truncated || dropped != 0;
        trace.bytes -= dropped_bytes;
        bytes -= dropped_bytes;
        spans -= dropped;
        trimmed_spans += dropped;
        trace.reindex();
    }
};

namespace {

std::uint64_t random_seed() {
    std::random_device device;
    return std::uint64_t{device()} << 32 | device();
}

}  // namespace

trace_store::trace_store(trace_store_options options)
    : options_(options), state_(std::make_unique<state>(random_seed())) {
    options_.max_traces = std::max<std::size_t>(options_.max_traces, 1);
}

trace_store::~trace_store() = default;

void trace_store::add(std::span<const span_data> spans, std::string_view service_name) {
    // Copy and measure before locking: readers wait only for the bookkeeping.
    std::vector<std::pair<span_data, std::size_t>> incoming;
    incoming.reserve(spans.size());
    std::uint64_t rejected = 0;
    for (const span_data& span : spans) {
        const std::size_t bytes = estimated_bytes(span, service_name);
        if (bytes > options_.max_bytes || !span.trace_id.is_valid()) {
            ++rejected;
            continue;
        }
        incoming.emplace_back(span, bytes);
    }

    std::list<trace_entry> graveyard;  // declared before the lock: destroyed after unlocking
    const std::lock_guard lock(mutex_);
    state_->rejected_spans += rejected;
    if (incoming.empty()) return;
    const auto service = state_->intern(service_name);
    for (auto& [span, bytes] : incoming) state_->insert(std::move(span), bytes, service, options_, graveyard);
    if (service->second == 0) state_->names.erase(service);  // every span was a duplicate
}

std::vector<trace_summary> trace_store::recent(const trace_query& query) const {
    std::vector<trace_summary> out;
    if (query.limit == 0) return out;
    const std::lock_guard lock(mutex_);
    out.reserve(std::min(query.limit, state_->traces.size()));
    for (auto it = state_->traces.rbegin(); it != state_->traces.rend() && out.size() < query.limit; ++it) {
        if (query.errors_only && !it->has_error) continue;
        if (query.min_duration_nanos && it->end - it->start < *query.min_duration_nanos) continue;
        if (query.service && !it->services.contains(std::string_view(*query.service))) continue;
        if (query.route) {
            const std::string* route = route_of(it->span_at(it->root()));
            if (route == nullptr || *route != *query.route) continue;
        }
        out.push_back(it->summary());
    }
    return out;
}

std::optional<std::vector<stored_span>> trace_store::find(const trace_id& id) const {
    std::vector<stored_span> spans;
    {
        const std::lock_guard lock(mutex_);
        const auto found = state_->index.find(id);
        if (found == state_->index.end()) return std::nullopt;
        spans.reserve(found->second->spans.size());
        for (const kept_span& kept : found->second->spans) spans.push_back({kept.span, std::string(kept.service)});
    }
    std::sort(spans.begin(), spans.end(), [](const stored_span& x, const stored_span& y) {
        const span_data& a = x.span;
        const span_data& b = y.span;
        if (a.start_time_unix_nano != b.start_time_unix_nano) return a.start_time_unix_nano < b.start_time_unix_nano;
        if (a.kind != b.kind) return kind_rank(a.kind) < kind_rank(b.kind);
        return a.span_id.to_uint64() < b.span_id.to_uint64();
    });
    return spans;
}

std::vector<std::string> trace_store::services() const {
    std::vector<std::string> out;
    const std::lock_guard lock(mutex_);
    out.reserve(state_->names.size());
    for (const auto& [name, spans] : state_->names) out.push_back(name);
    return out;
}

std::vector<std::string> trace_store::routes() const {
    std::set<std::string_view> distinct;
    std::vector<std::string> out;
    const std::lock_guard lock(mutex_);
    for (const trace_entry& trace : state_->traces)
        if (const std::string* route = route_of(trace.span_at(trace.root()))) distinct.insert(*route);
    out.reserve(distinct.size());
    for (const std::string_view route : distinct) out.emplace_back(route);
    return out;
}

trace_store_stats trace_store::stats() const {
    const std::lock_guard lock(mutex_);
    trace_store_stats out;
    out.traces = state_->traces.size();
    out.spans = state_->spans;
    out.bytes = state_->bytes;
    out.evicted_traces = state_->evicted_traces;
    out.rejected_spans = state_->rejected_spans;
    out.trimmed_spans = state_->trimmed_spans;
    out.duplicate_spans = state_->duplicate_spans;
    return out;
}

std::size_t trace_store::estimated_bytes(const span_data& span) noexcept {
    std::size_t bytes = sizeof(span_data) + span.tracestate.size() + span.name.size() +
                        span.status_message.size() + attributes_bytes(span.attributes) +
                        span.events.size() * sizeof(span_event) + span.links.size() * sizeof(span_link);
    for (const span_event& event : span.events) bytes += event.name.size();
    for (const span_link& link : span.links)
        bytes += link.context.tracestate.size() + attributes_bytes(link.attributes);
    return bytes;
}

}  // namespace tracegate::tracing
