#include "proxy/stores/latency_limiter_store.h"

#include <string>
#include <utility>

namespace llmproxy::stores {

LatencyLimiterStore::LatencyLimiterStore(std::shared_ptr<ratelimit::MemoryLimiter> limiter, env::Env& env,
                                         Duration latency)
    : limiter_(std::move(limiter)), env_(env), latency_(latency) {}

env::Task<ratelimit::Verdict> LatencyLimiterStore::admit(const AdmitRequest& req) {
  // Copied before the first suspension: the request's key must not be needed
  // from the caller's buffers once the call is on its way.
  const std::string key(req.key);
  const std::int64_t reservation = req.token_reservation;
  env::error_code ec;
  co_await env_.sleep_for(latency_, ec);
  if (ec) co_return ratelimit::unreachable_store_verdict(limiter_->limits().fail_mode);
  ratelimit::Verdict v = limiter_->admit(key, reservation, env_.now());
  // The decision is taken; an aborted reply trip does not undo it.
  co_await env_.sleep_for(latency_, ec);
  co_return v;
}

env::Task<void> LatencyLimiterStore::finish(const FinishRequest& req) {
  const std::string key(req.key);
  const std::int64_t reservation = req.token_reservation;
  const std::int64_t actual = req.actual_tokens;
  env::error_code ec;
  co_await env_.sleep_for(latency_, ec);
  // Best effort like a real store, but a slot is never leaked in the
  // simulation: the release is applied even if the trip was interrupted.
  limiter_->finish(key, reservation, actual, env_.now());
  co_await env_.sleep_for(latency_, ec);
}

}  // namespace llmproxy::stores
