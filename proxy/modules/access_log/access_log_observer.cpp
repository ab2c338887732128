#include "proxy/modules/access_log/access_log_observer.h"

#include "proxy/core/log/access_format.h"

namespace llmproxy::modules::access_log {
namespace {
constexpr int kClientClosedStatus = 499;
}  // namespace

void AccessLogObserver::on_request_end(const shell::RequestRecord& r) {
  log::AccessEntry e;
  e.client_ip = r.client_ip;
  e.time = r.wall_start;
  e.method = r.method;
  e.target = r.target;
  e.protocol = r.http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  // No status was sent when the client left before the response head:
  // logged as 499, nginx's "client closed request", which log tools know.
  e.status = r.status == 0 && r.outcome == shell::Outcome::client_cancel ? kClientClosedStatus : r.status;
  e.body_bytes = r.client_body_bytes;
  e.referer = r.referer;
  e.user_agent = r.user_agent;
  e.request_id = r.request_id;
  e.duration_seconds = to_seconds(r.end - r.start);
  e.backend = r.backend;
  e.model = r.model;
  e.prompt_tokens = r.prompt_tokens;
  e.completion_tokens = r.completion_tokens;
  e.stream = r.stream;
  // The access log's "ttft": the first token of a stream, else the first
  // response byte.
  if (r.first_byte != TimePoint{} && r.upstream_sent != TimePoint{}) {
    const TimePoint first = r.first_token != TimePoint{} ? r.first_token : r.first_byte;
    e.upstream_ttft_seconds = to_seconds(first - r.upstream_sent);
  }
  e.outcome = shell::outcome_name(r.outcome);
  e.error_code = r.error_code;
  e.usage_estimated = r.usage_estimated;
  e.key_name = r.key_name;
  e.user_id = r.user_id;
  e.key_prefix = r.key_prefix;
  line_.clear();
  log::append_access_line(line_, e, format_);
  writer_->submit(line_);
}

}  // namespace llmproxy::modules::access_log
