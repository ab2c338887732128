// Where the rate limiter keeps its state. The I/O shell asks a LimiterStore
// once per request (admit) and tells it once when the request ends (finish);
// serve wiring picks the implementation from rate_limit.storage:
//   memory_limiter_store.h  one process, shared by all its workers;
//   redis/                  shared by every gateway instance (atomic scripts);
//   the simulator's store   memory with virtual latency (conformance/harness).
// Every store enforces the same rules (proxy/core/ratelimit/limits.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "proxy/core/ratelimit/limits.h"
#include "proxy/env/env.h"

namespace llmproxy::stores {

struct AdmitRequest {
  TimePoint now{};                  // the worker's clock (stores with their own clock ignore it)
  std::string_view key;             // the client's API key ("" = anonymous)
  std::int64_t token_reservation = 0;
};

struct FinishRequest {
  TimePoint now{};
  std::string_view key;
  std::int64_t token_reservation = 0;
  std::int64_t actual_tokens = -1;  // -1: usage unknown (the reservation stays charged)
};

// One instance per worker (it runs on that worker's executor); instances may
// share state behind it (the memory store shares one MemoryLimiter).
class LimiterStore {
 public:
  virtual ~LimiterStore() = default;
  // Never fails: when the store cannot be reached the verdict follows the
  // configured fail_mode and has store_error set.
  virtual env::Task<ratelimit::Verdict> admit(const AdmitRequest& req) = 0;
  // Releases the concurrency slot and settles tokens. Best effort on store
  // errors (logged and counted by the store).
  virtual env::Task<void> finish(const FinishRequest& req) = 0;
  // Shutdown: ends background work (store connections) so the worker's event
  // loop can finish; later calls answer as if the store were unreachable.
  virtual void close() {}
};

}  // namespace llmproxy::stores
