// storage.caches pool_size and min_idle_conns for Redis caches (BEHAVIOR
// §8), as the gateway uses them: each worker keeps one pipelined
// connection per Redis cache that a module in force names (the rate
// limiter, redis auth providers), shared by those modules
// (proxy/stores/redis/shared_clients.h). So
//   - pool_size is the most connections one process opens to the cache:
//     it must be at least the number of workers;
//   - min_idle_conns is how many of them open when the workers start
//     (workers 0 … min_idle_conns-1), at most pool_size.
// check-config judges pool_size when server.workers is set; serve judges
// it again with the number of workers it starts.
#pragma once

#include <optional>
#include <string>

#include "proxy/core/config/config.h"

namespace llmproxy::config {

// The cache that rate_limit.storage names ("cache", "redis" + `redis:`, or a
// storage.caches name); null for "memory". A memory-driver cache also
// means the in-process limiter.
const CacheConfig* rate_limit_cache(const Config& c);

// Whether a module in force opens connections to `cache` (a redis cache
// that the rate limiter or an enabled redis auth provider names).
bool cache_in_use(const Config& c, const CacheConfig& cache);

struct CachePoolProblem {
  std::size_t cache;     // index in storage.caches
  std::string field;     // "pool_size" or "min_idle_conns"
  std::string message;
};
// The first cache in use whose pool settings `workers` workers cannot keep.
std::optional<CachePoolProblem> cache_pool_problem(const Config& c, unsigned workers);

}  // namespace llmproxy::config
