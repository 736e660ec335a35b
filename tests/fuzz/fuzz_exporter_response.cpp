// What a collector answers an export: the OTLP partial-success body (protobuf and JSON),
// the Retry-After header, a Cloud Trace error body, and the GCE metadata server's token
// answer. Driven through the real HTTP exporter over a transport that replays the input.
//
// Input, one field per line, the body last:
//   mode: 0 otlp protobuf, 1 otlp json, 2 cloudtrace, 3 cloudtrace whose metadata server
//         answers with the fuzzed status and body (the export then gets a plain 200)
//   status (decimal), content-type, retry-after, body (everything after the 4th '\n')
#include "tests/fuzz/fuzz_support.hpp"
#include "tests/unit/tracing/encoder_samples.hpp"
#include "tracing/exporters.hpp"

#include <charconv>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

using namespace tracegate;

namespace {

class replay_transport final : public tracing::http_transport {
public:
    explicit replay_transport(std::deque<tracing::incoming_response> answers) : answers_(std::move(answers)) {}
    tracing::incoming_response send(const tracing::outgoing_request&) noexcept override {
        if (answers_.empty()) return {0, {}, {}, "no more answers"};
        auto r = std::move(answers_.front());
        answers_.pop_front();
        return r;
    }
    void cancel() noexcept override {}

private:
    std::deque<tracing::incoming_response> answers_;
};

std::string_view next_line(std::string_view& text) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    const std::string_view mode = next_line(text);
    const std::string_view status_text = next_line(text);
    const std::string_view content_type = next_line(text);
    const std::string_view retry_after = next_line(text);
    const std::string_view body = text;

    // Retry-After on its own: never negative; delta-seconds read exactly.
    constexpr std::int64_t now = 1'700'000'000;
    if (const auto delay = tracing::parse_retry_after(retry_after, now)) TG_FUZZ_CHECK(delay->count() >= 0);

    int status = 0;
    std::from_chars(status_text.data(), status_text.data() + status_text.size(), status);
    if (status < 0 || status > 999) status = 500;

    config::exporter_config c;
    c.timeout = config::duration{1000};
    c.project_id = "fuzz-project";
    const char m = mode.empty() ? '0' : mode[0];
    tracing::incoming_response answer;
    answer.status = status;
    if (!content_type.empty()) answer.headers.push_back({"content-type", std::string(content_type)});
    if (!retry_after.empty()) answer.headers.push_back({"retry-after", std::string(retry_after)});
    answer.body = std::string(body);
    std::deque<tracing::incoming_response> answers;
    if (m == '3') {
        c.type = config::exporter_config::kind::cloudtrace;
        c.endpoint = "https://cloudtrace.googleapis.com";
        c.metadata_server = "http://metadata.google.internal";
        answers.push_back(answer);
        answers.push_back({200, {}, "{}", {}});
    } else if (m == '2') {
        c.type = config::exporter_config::kind::cloudtrace;
        c.endpoint = "https://cloudtrace.googleapis.com";
        answers.push_back(answer);
    } else {
        c.type = config::exporter_config::kind::otlp;
        c.endpoint = "http://127.0.0.1:4318/v1/traces";
        c.otlp_encoding = m == '1' ? config::exporter_config::encoding::json : config::exporter_config::encoding::protobuf;
        answers.push_back(answer);
    }

    auto exporter = tracing::make_http_exporter(c, tracing::test::sample_resource(),
                                                std::make_unique<replay_transport>(std::move(answers)));
    const std::vector<tracing::span_data> spans = {tracing::test::sample_server_span()};
    const tracing::export_result r = exporter->export_batch(spans, std::chrono::milliseconds(1000));

    // The outcome follows the status alone (the token fetch may fail first in mode 3).
    if (m != '3') {
        if (status >= 200 && status < 300) {
            TG_FUZZ_CHECK(r.status == tracing::export_status::ok);
        } else if (status == 429 || status == 502 || status == 503 || status == 504) {
            TG_FUZZ_CHECK(r.status == tracing::export_status::retry);
        } else {
            TG_FUZZ_CHECK(r.status == tracing::export_status::fail || (status == 0 && r.status == tracing::export_status::retry));
        }
    }
    if (r.retry_after) TG_FUZZ_CHECK(r.retry_after->count() >= 0);
    // A log line never carries the collector's control bytes.
    for (const char ch : r.message) TG_FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f);
    return 0;
}
