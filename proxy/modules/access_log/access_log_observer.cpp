#include "proxy/modules/access_log/access_log_observer.h"

#include "proxy/core/log/access_format.h"

namespace llmproxy::modules::access_log {
namespace {

double seconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

void AccessLogObserver::on_request_end(const shell::RequestRecord& r) {
  log::AccessEntry e;
  e.client_ip = r.client_ip;
  e.time = r.wall_start;
  e.method = r.method;
  e.target = r.target;
  e.protocol = r.http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  e.status = r.status;
  e.body_bytes = r.client_body_bytes;
  e.referer = r.referer;
  e.user_agent = r.user_agent;
  e.request_id = r.request_id;
  e.duration_seconds = seconds_between(r.start, r.end);
  e.backend = r.backend;
  e.model = r.model;
  e.prompt_tokens = r.prompt_tokens;
  e.completion_tokens = r.completion_tokens;
  e.stream = r.stream;
  if (r.first_byte != TimePoint{} && r.upstream_sent != TimePoint{})
    e.upstream_ttft_seconds = seconds_between(r.upstream_sent, r.first_token != TimePoint{}
                                                                   ? r.first_token
                                                                   : r.first_byte);
  e.outcome = shell::outcome_name(r.outcome);
  e.error_code = r.error_code;
  line_.clear();
  log::append_access_line(line_, e, format_);
  writer_->submit(line_);
}

}  // namespace llmproxy::modules::access_log
