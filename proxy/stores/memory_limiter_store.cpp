#include "proxy/stores/memory_limiter_store.h"

#include <utility>

namespace llmproxy::stores {

MemoryLimiterStore::MemoryLimiterStore(std::shared_ptr<ratelimit::MemoryLimiter> limiter)
    : limiter_(std::move(limiter)) {}

env::Task<ratelimit::Verdict> MemoryLimiterStore::admit(const AdmitRequest& req) {
  co_return limiter_->admit(req.key, req.token_reservation, req.now);
}

env::Task<void> MemoryLimiterStore::finish(const FinishRequest& req) {
  limiter_->finish(req.key, req.token_reservation, req.actual_tokens, req.now);
  co_return;
}

}  // namespace llmproxy::stores
