#include "tracing/exporters.hpp"

#include "tracing/cloudtrace_encoder.hpp"
#include "tracing/gzip.hpp"
#include "tracing/jsonl_encoder.hpp"
#include "tracing/otlp_encoder.hpp"
#include "tracing/zipkin_encoder.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace tracegate::tracing {

namespace {

using kind = config::exporter_config::kind;
using std::chrono::milliseconds;

/// Printable, bounded text of a collector's answer for a log line.
std::string snippet(std::string_view body) {
    std::string out;
    for (char c : body.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : ' ';
    if (body.size() > 200) out += "...";
    return out;
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view space = " \t\r\n";
    const std::size_t first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// ---- file -------------------------------------------------------------------------------

class file_exporter final : public exporter {
public:
    file_exporter(const std::string& path, tracing::resource resource)
        : name_("file " + path), resource_(std::move(resource)) {
        if (path == "-") {
            fd_ = STDOUT_FILENO;
        } else {
            fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open span file \"" + path + "\"");
            owns_ = true;
        }
        buffer_.reserve(64 * 1024);
    }
    ~file_exporter() override {
        if (owns_) ::close(fd_);
    }

    const std::string& name() const noexcept override { return name_; }

    export_result export_batch(std::span<const span_data> spans, milliseconds) override {
        buffer_.clear();
        encode_jsonl(spans, resource_, buffer_);
        // One write per batch: a reader never sees half a line once the batch is written.
        std::size_t offset = 0;
        while (offset < buffer_.size()) {
            const ssize_t n = ::write(fd_, buffer_.data() + offset, buffer_.size() - offset);
            if (n < 0) {
                if (errno == EINTR) continue;
                return export_result::failure(export_status::fail, "write failed: " + std::string(std::strerror(errno)), "write");
            }
            offset += static_cast<std::size_t>(n);
        }
        return {};
    }

private:
    std::string name_;
    tracing::resource resource_;
    int fd_ = -1;
    bool owns_ = false;
    std::string buffer_;
};

// ---- memory -----------------------------------------------------------------------------

class store_exporter final : public exporter {
public:
    store_exporter(std::shared_ptr<trace_store> store, std::string service_name)
        : store_(std::move(store)), service_name_(std::move(service_name)) {}
    const std::string& name() const noexcept override { return name_; }
    export_result export_batch(std::span<const span_data> spans, milliseconds) override {
        store_->add(spans, service_name_);
        return {};
    }

private:
    std::string name_ = "memory store";
    std::shared_ptr<trace_store> store_;
    std::string service_name_;
};

// ---- HTTP -------------------------------------------------------------------------------

/// Reads an OTLP ExportTraceServiceResponse for its partial_success (field 1:
/// rejected_spans = 1, error_message = 2).
void read_otlp_protobuf_partial(std::string_view body, export_result& r) {
    const auto varint = [](std::string_view& in, std::uint64_t& out) {
        out = 0;
        for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
            const auto b = static_cast<unsigned char>(in.front());
            in.remove_prefix(1);
            out |= std::uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return true;
        }
        return false;
    };
    // Calls on_field(number, wire type, varint value, bytes) for each field of `in`.
    const auto walk = [&](std::string_view in,
                          const std::function<void(std::uint64_t, int, std::uint64_t, std::string_view)>& on_field) {
        while (!in.empty()) {
            std::uint64_t tag = 0, value = 0;
            if (!varint(in, tag)) return;
            const int type = static_cast<int>(tag & 7);
            std::string_view bytes;
            if (type == 0) {
                if (!varint(in, value)) return;
            } else if (type == 2) {
                if (!varint(in, value) || value > in.size()) return;
                bytes = in.substr(0, value);
                in.remove_prefix(value);
            } else if (type == 1 && in.size() >= 8) {
                in.remove_prefix(8);
            } else if (type == 5 && in.size() >= 4) {
                in.remove_prefix(4);
            } else {
                return;
            }
            on_field(tag >> 3, type, value, bytes);
        }
    };
    walk(body, [&](std::uint64_t number, int type, std::uint64_t, std::string_view partial) {
        if (number != 1 || type != 2) return;
        walk(partial, [&](std::uint64_t n, int t, std::uint64_t v, std::string_view text) {
            if (n == 1 && t == 0) r.rejected_spans = v;
            if (n == 2 && t == 2) r.partial_message = std::string(text);
        });
    });
}

/// Reads {"partialSuccess": {"rejectedSpans": "3", "errorMessage": "..."}}.
void read_otlp_json_partial(std::string_view body, export_result& r) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return;
    const auto* partial = v.as_object().if_contains("partialSuccess");
    if (!partial || !partial->is_object()) return;
    if (const auto* n = partial->as_object().if_contains("rejectedSpans")) {
        if (n->is_string()) r.rejected_spans = std::strtoull(n->as_string().c_str(), nullptr, 10);
        if (n->is_int64() && n->as_int64() > 0) r.rejected_spans = static_cast<std::uint64_t>(n->as_int64());
        if (n->is_uint64()) r.rejected_spans = n->as_uint64();
    }
    if (const auto* m = partial->as_object().if_contains("errorMessage"); m && m->is_string())
        r.partial_message = std::string(m->as_string());
}

/// Where a Cloud Trace exporter gets its OAuth access token.
class token_source {
public:
    explicit token_source(const config::exporter_config& c)
        : file_(c.token_file), env_(c.token_env), metadata_(c.metadata_server) {}

    bool needed() const { return file_ || env_ || metadata_; }

    /// The current token; nullopt and `error` when there is none.
    std::optional<std::string> get(http_transport& transport, milliseconds timeout, std::string& error) {
        if (env_) {
            const char* value = std::getenv(env_->c_str());
            if (!value || trim(value).empty()) {
                error = "environment variable " + *env_ + " holds no access token";
                return std::nullopt;
            }
            return std::string(trim(value));
        }
        if (file_) return from_file(error);
        return from_metadata(transport, timeout, error);
    }

    /// The backend refused the token: fetch a fresh one next time.
    void invalidate() { expires_ = {}; }

private:
    // Re-read when the file changes (Kubernetes rotates projected tokens in place).
    std::optional<std::string> from_file(std::string& error) {
        struct stat st{};
        if (::stat(file_->c_str(), &st) != 0) {
            error = "cannot read token_file " + *file_ + ": " + std::strerror(errno);
            return std::nullopt;
        }
        if (cached_.empty() || st.st_mtim.tv_sec != mtime_.tv_sec || st.st_mtim.tv_nsec != mtime_.tv_nsec) {
            const int fd = ::open(file_->c_str(), O_RDONLY | O_CLOEXEC);
            std::string text;
            if (fd >= 0) {
                char buffer[4096];
                ssize_t n;
                while ((n = ::read(fd, buffer, sizeof buffer)) > 0 && text.size() < 65536) text.append(buffer, n);
                ::close(fd);
            }
            if (trim(text).empty()) {
                error = "token_file " + *file_ + " is unreadable or empty";
                return std::nullopt;
            }
            cached_ = std::string(trim(text));
            mtime_ = st.st_mtim;
        }
        return cached_;
    }

    // The GCE / GKE metadata server: {"access_token": ..., "expires_in": seconds}.
    std::optional<std::string> from_metadata(http_transport& transport, milliseconds timeout, std::string& error) {
        const auto now = std::chrono::steady_clock::now();
        if (!cached_.empty() && now < expires_) return cached_;
        outgoing_request request;
        request.method = "GET";
        std::string base = *metadata_;
        while (base.ends_with('/')) base.pop_back();
        request.url = base + "/computeMetadata/v1/instance/service-accounts/default/token";
        request.headers.push_back({"Metadata-Flavor", "Google"});
        request.timeout = timeout;
        const incoming_response response = transport.send(request);
        if (response.status != 200) {
            error = "metadata server " + *metadata_ + ": " +
                    (response.status == 0 ? response.error : "HTTP " + std::to_string(response.status));
            return std::nullopt;
        }
        boost::system::error_code ec;
        const boost::json::value v = boost::json::parse(response.body, ec);
        const auto* object = (!ec && v.is_object()) ? &v.as_object() : nullptr;
        const auto* token = object ? object->if_contains("access_token") : nullptr;
        if (!token || !token->is_string() || token->as_string().empty()) {
            error = "metadata server " + *metadata_ + " answered without an access_token";
            return std::nullopt;
        }
        std::int64_t lifetime = 300;
        if (const auto* e = object->if_contains("expires_in"); e && e->is_int64()) lifetime = e->as_int64();
        cached_ = std::string(token->as_string());
        expires_ = now + std::chrono::seconds(std::max<std::int64_t>(lifetime - 60, 10));
        return cached_;
    }

    std::optional<std::string> file_, env_, metadata_;
    std::string cached_;
    timespec mtime_{};
    std::chrono::steady_clock::time_point expires_{};
};

class http_exporter final : public exporter {
public:
    http_exporter(const config::exporter_config& c, tracing::resource resource, std::unique_ptr<http_transport> transport)
        : type_(c.type), json_(c.otlp_encoding == config::exporter_config::encoding::json), gzip_(c.gzip),
          timeout_(c.timeout), project_id_(c.project_id), resource_(std::move(resource)),
          transport_(std::move(transport)), token_(c) {
        std::string base = c.endpoint;
        switch (type_) {
            case kind::otlp:
                name_ = "otlp " + c.endpoint;
                url_ = c.endpoint;
                break;
            case kind::zipkin:
                name_ = "zipkin " + c.endpoint;
                url_ = c.endpoint;
                break;
            default:
                while (base.ends_with('/')) base.pop_back();
                url_ = base + "/v2/projects/" + c.project_id + "/traces:batchWrite";
                name_ = "cloudtrace " + url_;
                break;
        }
        const bool protobuf = type_ == kind::otlp && !json_;
        headers_.push_back({"Content-Type", protobuf ? "application/x-protobuf" : "application/json"});
        if (gzip_) headers_.push_back({"Content-Encoding", "gzip"});
        for (const auto& [name, value] : c.headers) headers_.push_back({name, value});
    }

    const std::string& name() const noexcept override { return name_; }

    void abort() noexcept override { transport_->cancel(); }

    export_result export_batch(std::span<const span_data> spans, milliseconds time_left) override {
        export_result r;
        switch (type_) {
            case kind::otlp:
                if (json_) {
                    encode_otlp_json(spans, resource_, encoded_);
                } else {
                    encode_otlp_protobuf(spans, resource_, encoded_);
                }
                break;
            case kind::zipkin: encode_zipkin_v2(spans, resource_, encoded_); break;
            default: encode_cloudtrace_v2(spans, resource_, project_id_, encoded_); break;
        }
        outgoing_request request;
        request.url = url_;
        request.timeout = std::min(timeout_, time_left);
        request.headers = headers_;
        if (token_.needed()) {
            std::string error;
            const auto token = token_.get(*transport_, request.timeout, error);
            if (!token) return export_result::failure(export_status::retry, error, "token");
            request.headers.push_back({"Authorization", "Bearer " + *token});
        }
        if (gzip_) {
            gzip_compress(encoded_, request.body);
        } else {
            request.body.swap(encoded_);
        }
        const incoming_response response = transport_->send(request);
        if (!gzip_) encoded_.swap(request.body);  // keep the buffer's capacity for the next batch

        if (response.status == 0) return export_result::failure(export_status::retry, response.error, "transport");
        if (response.status >= 200 && response.status < 300) {
            if (type_ == kind::otlp && !response.body.empty()) {
                const auto type = response.header("content-type").value_or("");
                if (type.find("json") != std::string_view::npos) {
                    read_otlp_json_partial(response.body, r);
                } else {
                    read_otlp_protobuf_partial(response.body, r);
                }
            }
            return r;
        }
        r.kind = "HTTP " + std::to_string(response.status);
        r.message = r.kind + " from the collector";
        if (!response.body.empty()) r.message += ": " + snippet(response.body);
        const int s = response.status;
        if (s == 429 || s == 502 || s == 503 || s == 504) {
            r.status = export_status::retry;
            if (const auto after = response.header("retry-after"))
                r.retry_after = parse_retry_after(*after, static_cast<std::int64_t>(std::time(nullptr)));
        } else {
            r.status = export_status::fail;
            if (s == 401 || s == 403) token_.invalidate();
        }
        return r;
    }

private:
    kind type_;
    bool json_;
    bool gzip_;
    milliseconds timeout_;
    std::string project_id_;
    tracing::resource resource_;
    std::unique_ptr<http_transport> transport_;
    token_source token_;
    std::string name_;
    std::string url_;
    std::vector<http_header> headers_;
    std::string encoded_;
};

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value, std::int64_t now_unix_seconds) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (value.size() <= 9 && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::chrono::seconds(std::stoll(std::string(value)));
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
    std::tm tm{};
    const std::string text(value);
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0') return std::nullopt;
    const std::int64_t at = ::timegm(&tm);
    return std::chrono::seconds(std::max<std::int64_t>(0, at - now_unix_seconds));
}

std::unique_ptr<exporter> make_file_exporter(const std::string& path, tracing::resource resource) {
    return std::make_unique<file_exporter>(path, std::move(resource));
}

std::unique_ptr<exporter> make_store_exporter(std::shared_ptr<trace_store> store, std::string service_name) {
    return std::make_unique<store_exporter>(std::move(store), std::move(service_name));
}

std::unique_ptr<exporter> make_http_exporter(const config::exporter_config& config, tracing::resource resource,
                                             std::unique_ptr<http_transport> transport) {
    return std::make_unique<http_exporter>(config, std::move(resource), std::move(transport));
}

std::vector<std::unique_ptr<exporter>> make_exporters(const config::tracing_config& tracing,
                                                      const exporter_environment& environment) {
    std::vector<std::unique_ptr<exporter>> out;
    if (tracing.exporters.empty()) {
        if (environment.store) out.push_back(make_store_exporter(environment.store, std::string(environment.resource.service_name())));
        return out;
    }
    for (const auto& c : tracing.exporters) {
        try {
            switch (c.type) {
                case kind::memory:
                    if (environment.store) out.push_back(make_store_exporter(environment.store, std::string(environment.resource.service_name())));
                    break;
                case kind::file: out.push_back(make_file_exporter(c.path, environment.resource)); break;
                default: {
                    if (!environment.transports) throw std::runtime_error("no HTTP client to send spans with");
                    out.push_back(make_http_exporter(c, environment.resource,
                                                     environment.transports(transport_options{c.ca_file})));
                    break;
                }
            }
        } catch (const std::exception& e) {
            throw std::runtime_error("exporter defined at " + c.origin + ": " + e.what());
        }
    }
    return out;
}

}  // namespace tracegate::tracing
