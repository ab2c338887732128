// The composition root hands the rate limiter what its storage names: a
// memory cache's max_size bounds the key table and its ttl is the idle
// expiry (memory_limiter.h); without a named cache, the defaults.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "proxy/core/config/load.h"
#include "proxy/core/config/test_env.h"
#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/server/gateway.h"

namespace {

using namespace llmproxy;

ratelimit::MemoryLimiterOptions limiter_options(const std::string& caches, const std::string& storage) {
  const std::string yaml = "backends:\n  - url: http://127.0.0.1:9001\n" + caches +
                           "rate_limit:\n  enabled: true\n  storage: " + storage +
                           "\n  per_key: {enabled: true, requests_per_minute: 60}\n";
  const auto loaded = config::load_config_string(yaml, "test.yaml", "", config::testing::fake_env());
  EXPECT_TRUE(loaded.ok());
  if (!loaded.ok()) return {};
  std::string error;
  server::BuildOptions o;
  o.simulated = true;
  auto g = server::Gateway::build(*loaded.config, error, o);
  EXPECT_TRUE(g) << error;
  if (!g) return {};
  const auto p = g->start_process();
  EXPECT_TRUE(p->memory_limiter);
  return p->memory_limiter ? p->memory_limiter->options() : ratelimit::MemoryLimiterOptions{};
}

TEST(GatewayRateLimit, AMemoryCacheGivesTheLimiterItsSizeAndTtl) {
  const auto named = limiter_options("storage:\n  caches:\n    - {name: local, driver: memory, max_size: 500, ttl: 2m}\n",
                                     "local");
  EXPECT_EQ(named.max_keys, 500u);
  EXPECT_EQ(named.idle_ttl, std::chrono::minutes(2));
  // The cache's own defaults (max_size 10000, ttl 5m) when it sets neither.
  const auto defaults = limiter_options("storage:\n  caches:\n    - {name: local, driver: memory}\n", "local");
  EXPECT_EQ(defaults.max_keys, 10000u);
  EXPECT_EQ(defaults.idle_ttl, std::chrono::minutes(5));
  // `storage: memory` names no cache: the limiter's own bound, no expiry.
  const auto plain = limiter_options("", "memory");
  EXPECT_EQ(plain.max_keys, ratelimit::MemoryLimiterOptions{}.max_keys);
  EXPECT_EQ(plain.idle_ttl, Duration(0));
}

}  // namespace
