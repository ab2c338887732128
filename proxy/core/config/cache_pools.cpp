#include "proxy/core/config/cache_pools.h"

namespace llmproxy::config {

const CacheConfig* rate_limit_cache(const Config& c) {
  const auto& rl = c.rate_limit;
  if (rl.storage == "memory") return nullptr;
  if (rl.storage == "redis") return resolve_cache(c, rl.redis.empty() ? "cache" : rl.redis);
  return resolve_cache(c, rl.storage);
}

bool cache_in_use(const Config& c, const CacheConfig& cache) {
  if (cache.driver != CacheDriver::redis) return false;
  if (c.rate_limit.enabled && rate_limit_cache(c) == &cache) return true;
  if (!c.auth.enabled) return false;
  for (const auto& p : c.auth.pipeline)
    if (p.enabled && p.type == ProviderType::redis && resolve_cache(c, p.redis.storage) == &cache) return true;
  return false;
}

std::optional<CachePoolProblem> cache_pool_problem(const Config& c, unsigned workers) {
  for (std::size_t i = 0; i < c.storage.caches.size(); ++i) {
    const CacheConfig& cache = c.storage.caches[i];
    if (!cache_in_use(c, cache)) continue;
    if (cache.min_idle_conns > cache.pool_size)
      return CachePoolProblem{i, "min_idle_conns",
                              std::to_string(cache.min_idle_conns) + " idle connections cannot fit in pool_size " +
                                  std::to_string(cache.pool_size)};
    if (static_cast<long long>(workers) > cache.pool_size)
      return CachePoolProblem{i, "pool_size",
                              "pool_size " + std::to_string(cache.pool_size) + " is less than the " +
                                  std::to_string(workers) +
                                  " workers: each worker keeps one connection to the cache (shared by its "
                                  "modules); raise pool_size or lower server.workers"};
  }
  return std::nullopt;
}

}  // namespace llmproxy::config
