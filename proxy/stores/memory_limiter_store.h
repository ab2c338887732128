// rate_limit.storage: memory. One MemoryLimiter per process, shared by every
// worker's store instance; the decision is taken in place (no I/O), so admit
// and finish complete without suspending on anything.
#pragma once

#include <memory>

#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/stores/limiter_store.h"

namespace llmproxy::stores {

class MemoryLimiterStore final : public LimiterStore {
 public:
  explicit MemoryLimiterStore(std::shared_ptr<ratelimit::MemoryLimiter> limiter);

  env::Task<ratelimit::Verdict> admit(const AdmitRequest& req) override;
  env::Task<void> finish(const FinishRequest& req) override;

 private:
  std::shared_ptr<ratelimit::MemoryLimiter> limiter_;
};

}  // namespace llmproxy::stores
