// rate_limit: the store its counters live in ("memory", or a cache of
// storage.caches; "redis" means the default cache, which must be a Redis).
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {

void validate_rate_limit(const Config& c, Context& ctx) {
  const auto& rl = c.rate_limit;
  if (rl.storage == "redis") {
    check_cache_ref(c, rl.redis.empty() ? "rate_limit.storage" : "rate_limit.redis",
                    rl.redis.empty() ? "cache" : rl.redis, ctx, true);
  } else if (rl.storage != "memory") {
    check_cache_ref(c, "rate_limit.storage", rl.storage, ctx, false);
  }
}

}  // namespace llmproxy::config::detail
