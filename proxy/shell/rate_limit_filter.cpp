#include "proxy/shell/rate_limit_filter.h"

#include <boost/beast/http/field.hpp>

#include "proxy/core/http/request_rules.h"
#include "proxy/core/ratelimit/limits.h"

namespace llmproxy::shell {
namespace {

namespace bhttp = boost::beast::http;

// The API key a client presented (Authorization: Bearer …, else x-api-key);
// "" when none.
std::string_view presented_key(const ClientRequest& req) {
  auto auth = req[bhttp::field::authorization];
  std::string_view a(auth.data(), auth.size());
  if (a.size() > 7 && http::iequals(a.substr(0, 7), "bearer ")) {
    a.remove_prefix(7);
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    return a;
  }
  auto x = req["x-api-key"];
  return std::string_view(x.data(), x.size());
}

std::string_view limit_key(const Exchange& ex) {
  return ex.caller.checked ? ex.caller.id : presented_key(ex.request());
}

std::int64_t reservation(const Exchange& ex) {
  return ratelimit::token_reservation(ex.max_tokens, ex.prompt_bytes);
}

}  // namespace

env::Task<FilterVerdict> RateLimitFilter::on_request(Exchange& ex) {
  stores::AdmitRequest admit;
  admit.now = ex.record.start;
  admit.key = limit_key(ex);
  admit.token_reservation = reservation(ex);
  const ratelimit::Verdict verdict = co_await store_->admit(admit);
  ratelimit::append_rate_limit_headers(ex.response_headers, verdict);
  if (verdict.admitted) co_return FilterVerdict::proceed();
  ex.record.rate_limit.assign(verdict.limit);
  std::string msg = "rate limit exceeded: ";
  msg += verdict.limit;
  co_return FilterVerdict::reject(openai::ErrorId::rate_limit_exceeded, std::move(msg));
}

env::Task<void> RateLimitFilter::on_end(Exchange& ex) {
  stores::FinishRequest fin;
  fin.now = ex.record.end;
  fin.key = limit_key(ex);
  fin.token_reservation = reservation(ex);
  fin.actual_tokens = ex.record.total_tokens;
  co_await store_->finish(fin);
}

}  // namespace llmproxy::shell
