// SimRedis: a config's Redis cache becomes a FakeRedis in the world, and the
// real gateway (run_gateway_sim_in) limits through the real Redis store
// against it — the wiring `llmproxy conform` is to use (sim_redis.h).
#include "conformance/harness/sim_redis.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/quiet_logs.h"
#include "proxy/core/ratelimit/limits.h"
#include "sim/world.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;

config::CacheConfig redis_cache(std::string addr) {
  config::CacheConfig c;
  c.name = "limits";
  c.driver = config::CacheDriver::redis;
  c.addr = std::move(addr);
  return c;
}

// Ten requests at once against global rps 1, burst 2: the gateway admits
// two and answers 429 to the rest, decided by the scripts in the fake.
void run_limited(const std::string& addr, const std::string& expected_host) {
  sim::World world(11);
  SimRedis redis(world, redis_cache(addr));
  EXPECT_EQ(redis.host(), expected_host);
  config::RateLimitConfig rc;
  rc.enabled = true;
  rc.storage = "limits";
  rc.global.requests_per_second = 1;
  rc.global.burst_size = 2;
  const ratelimit::LimitSet limits = ratelimit::limits_from(rc);

  Scenario sc;
  sc.seed = 11;
  sc.backends = 1;
  for (int i = 0; i < 10; ++i) {
    ClientRequest q;
    q.headers = "Authorization: Bearer k" + std::to_string(i % 3) + "\r\n";
    sc.requests.push_back(q);
  }
  sc.gateways = 2;  // two instances, one Redis: the limit holds jointly
  // Both instances' stores connect from one client host, so the order in
  // which their scripts arrive (and the NOSCRIPT count below) is exact.
  sc.worker_options = [&](env::Env&) {
    shell::WorkerOptions o;
    o.limiter = redis.limiter(redis.client_env(), limits, sc.gateway);
    return o;
  };
  const SimOutcome out = run_gateway_sim_in(world, sc);
  redis.stop();

  EXPECT_TRUE(out.all_clients_done);
  int ok = 0, limited = 0;
  for (const auto& c : out.clients) {
    if (c.response.status == 200) ++ok;
    if (c.response.status == 429) ++limited;
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(limited, 8);
  EXPECT_EQ(redis.fake().stats().scripts_run, 10u);
  // All ten arrive before any script is loaded: each gets NOSCRIPT and
  // loads it with its retry (the client does not coordinate its callers).
  EXPECT_EQ(redis.fake().stats().noscript_replies, 10u);
}

TEST(SimRedis, TheGatewayLimitsThroughTheRealRedisStoreAgainstTheFake) {
  run_limited("redis.internal:6379", "redis.internal");
}

TEST(SimRedis, ALoopbackAddressMeansTheGatewaysHost) { run_limited("localhost:6390", "gateway"); }

TEST(SimRedis, ABadAddressOrATakenPortIsAnError) {
  sim::World world(1);
  EXPECT_THROW(SimRedis(world, redis_cache("no-port")), std::invalid_argument);
  SimRedis first(world, redis_cache("r:6379"));
  EXPECT_THROW(SimRedis(world, redis_cache("r:6379")), std::runtime_error);
}

}  // namespace
}  // namespace llmproxy::harness
