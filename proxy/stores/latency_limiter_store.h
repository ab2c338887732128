// A limiter store that behaves like a network store (Redis) for the
// simulator: each call travels `latency` to the store, is decided there on
// the store's clock (the environment's now() on arrival, not the caller's
// AdmitRequest::now), and the reply travels `latency` back. Several simulated
// gateways sharing one MemoryLimiter through this store model N instances
// sharing one Redis, with the same race windows (a request decided after
// another that left its gateway later).
//
// The waits run on env timers, so the store is deterministic under the
// simulator. If a wait is aborted before the store was reached, the verdict
// follows fail_mode with store_error set, like an unreachable store.
#pragma once

#include <memory>

#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/stores/limiter_store.h"

namespace llmproxy::stores {

class LatencyLimiterStore final : public LimiterStore {
 public:
  LatencyLimiterStore(std::shared_ptr<ratelimit::MemoryLimiter> limiter, env::Env& env, Duration latency);

  env::Task<ratelimit::Verdict> admit(const AdmitRequest& req) override;
  env::Task<void> finish(const FinishRequest& req) override;

 private:
  std::shared_ptr<ratelimit::MemoryLimiter> limiter_;
  env::Env& env_;
  Duration latency_;
};

}  // namespace llmproxy::stores
