#include "proxy/shell/exchange.h"

#include <boost/beast/http/field.hpp>

#include <utility>

namespace llmproxy::shell {

void reset_record(RequestRecord& r) {
  auto keep = [](std::string& s) { s.clear(); };
  keep(r.request_id);
  keep(r.method);
  keep(r.path);
  keep(r.target);
  keep(r.client_ip);
  keep(r.user_agent);
  keep(r.referer);
  keep(r.key_name);
  keep(r.user_id);
  keep(r.key_prefix);
  keep(r.error_code);
  keep(r.rate_limit);
  keep(r.backend);
  keep(r.model);
  r.attempt_log.clear();
  // Everything else back to its default, the kept buffers moved through.
  RequestRecord fresh;
  std::swap(fresh.request_id, r.request_id);
  std::swap(fresh.method, r.method);
  std::swap(fresh.path, r.path);
  std::swap(fresh.target, r.target);
  std::swap(fresh.client_ip, r.client_ip);
  std::swap(fresh.user_agent, r.user_agent);
  std::swap(fresh.referer, r.referer);
  std::swap(fresh.key_name, r.key_name);
  std::swap(fresh.user_id, r.user_id);
  std::swap(fresh.key_prefix, r.key_prefix);
  std::swap(fresh.error_code, r.error_code);
  std::swap(fresh.rate_limit, r.rate_limit);
  std::swap(fresh.backend, r.backend);
  std::swap(fresh.model, r.model);
  std::swap(fresh.attempt_log, r.attempt_log);
  r = std::move(fresh);
}

void Exchange::begin(const ClientRequest& req, TimePoint now, WallTime wall_now, Rng& rng) {
  request_ = &req;
  phase_ = Phase::open;
  keep_alive = req.keep_alive();
  route = http::Route::not_found;
  response_headers.clear();
  cors_headers_owned = false;
  caller = Caller{};
  rewritten_body.clear();
  body_rewritten = false;
  strip_usage = false;
  max_tokens = -1;
  prompt_bytes = 0;

  // x-request-id: the client's if it is sane, else a fresh one.
  const auto rid = req["X-Request-Id"];
  const std::string_view client_rid(rid.data(), rid.size());
  if (http::valid_request_id(client_rid)) {
    request_id.assign(client_rid);
  } else {
    http::generate_request_id(rng, request_id);
  }

  reset_record(record);
  record.request_id = request_id;
  record.start = now;
  record.wall_start = wall_now;
  const auto method = req.method_string();
  record.method.assign(method.data(), method.size());
  const auto target = req.target();
  target_ = std::string_view(target.data(), target.size());
  path_ = target_.substr(0, target_.find('?'));
  record.path.assign(path_);
  record.target.assign(target_);
  record.http_minor = static_cast<int>(req.version() % 10);
  const auto ua = req[boost::beast::http::field::user_agent];
  record.user_agent.assign(ua.data(), ua.size());
  const auto referer = req[boost::beast::http::field::referer];
  record.referer.assign(referer.data(), referer.size());
}

}  // namespace llmproxy::shell
