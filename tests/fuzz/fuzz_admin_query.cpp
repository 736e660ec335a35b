// The admin API's query parameters: GET /api/traces?service=&route=&min_duration=&error=&limit=
// and GET /api/traces/{id}, over a store holding a few traces.
// Input: the query string (without '?'); also tried as a trace id and a min_duration.
#include "proxy/admin_api.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tests/unit/tracing/encoder_samples.hpp"
#include "tracing/trace_store.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <vector>

using namespace tracegate;

namespace {

const tracing::trace_store& store() {
    static const auto filled = [] {
        auto s = std::make_unique<tracing::trace_store>();
        std::vector<tracing::span_data> spans = {tracing::test::sample_server_span(),
                                                 tracing::test::sample_client_span(),
                                                 tracing::test::sample_root_span()};
        s->add(spans, "checkout");
        return s;
    }();
    return *filled;
}

void check_reply(const proxy::admin_reply& reply) {
    TG_FUZZ_CHECK(reply.status == 200 || reply.status == 400 || reply.status == 404);
    TG_FUZZ_CHECK(reply.content_type == "application/json");
    // Well-formed JSON whatever came in. Not checked: that it is UTF-8 (an unknown
    // parameter's name is echoed with the bytes its %XX decode to).
    boost::json::parse_options options;
    options.allow_invalid_utf8 = true;
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(reply.body, ec, {}, options);
    TG_FUZZ_CHECK(!ec && parsed.is_object());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    check_reply(proxy::api_traces(store(), text));
    check_reply(proxy::api_trace(store(), text));
    if (const auto nanos = proxy::parse_min_duration_nanos(text))
        TG_FUZZ_CHECK(*nanos <= 1'000'000'000'000'000'000ull);
    return 0;
}
