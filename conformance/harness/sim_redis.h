// Redis in a simulated world: starts a fake::FakeRedis where a config's Redis
// cache (config::CacheConfig, driver redis) points, so the config's Redis
// rate-limit store (stores::redis::RedisLimiterStore with the real
// RedisClient and the real Lua scripts) runs unmodified in the simulator
// instead of being swapped for an in-memory limiter.
//
// Addressing: the fake listens on a simulated host named after the cache's
// addr host ("redis.internal:6379" → host "redis.internal", port 6379). A
// loopback addr (localhost, 127.0.0.1, ::1, or none) means the gateway's own
// machine: the fake then runs on host `loopback_host` ("gateway", where the
// harness puts the gateway) and every gateway instance is given that host
// name instead of the loopback one, so instances share one Redis as
// processes on one machine would.
//
// Use: set `Scenario::redis` to the cache; run_gateway_sim_in starts a
// SimRedis for the run (before the gateways, stopped after them), as
// `llmproxy conform` (conform::run_case) and llmproxy-sim's redis seeds do.
//
// Lifetime: construct after the World, destroy before it; stop() (also run
// by the destructor) stops the fake and runs the world until its coroutines
// have ended. Every store made by limiter() must be gone by then (gateways
// hold them; run_gateway_sim_in destroys its gateways before returning).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "fake_backends/fake_redis.h"
#include "proxy/core/config/config.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/shell/shell_config.h"
#include "proxy/stores/limiter_store.h"
#include "proxy/stores/redis/redis_client.h"
#include "proxy/stores/redis/redis_limiter_store.h"

namespace llmproxy::sim {
class World;
class SimEnv;
}  // namespace llmproxy::sim

namespace llmproxy::harness {

class SimRedis {
 public:
  // Throws std::invalid_argument when cache.addr is not host:port, and
  // std::runtime_error when the port is taken on that simulated host.
  // `base` carries faults, a password (the cache's is used when empty) etc.
  SimRedis(sim::World& world, const config::CacheConfig& cache, fake::FakeRedisConfig base = {},
           std::string loopback_host = "gateway");
  ~SimRedis();
  SimRedis(const SimRedis&) = delete;
  SimRedis& operator=(const SimRedis&) = delete;

  fake::FakeRedis& fake() { return *fake_; }
  // The simulated host the fake runs on.
  const std::string& host() const { return host_; }
  // The cache's client settings, loopback rewritten to host().
  const stores::redis::ClientConfig& client_config() const { return client_; }

  // A SimEnv on host `name`, owned here, for a store whose gateway env is
  // not at hand (e.g. a worker_options factory without arguments).
  env::Env& client_env(const std::string& name = "gateway");

  // The store serve would build for a worker on `gateway_env`: slot_ttl =
  // max(2 × the longest backend timeout, 10 min).
  std::shared_ptr<stores::LimiterStore> limiter(env::Env& gateway_env,
                                                const ratelimit::LimitSet& limits,
                                                const shell::ShellConfig& config) const;

  // Stops the fake and runs the world until it has returned. Idempotent.
  void stop();

 private:
  env::Task<void> run_fake();

  sim::World& world_;
  std::string host_;
  stores::redis::ClientConfig client_;
  std::unique_ptr<sim::SimEnv> env_;
  std::unique_ptr<fake::FakeRedis> fake_;
  std::map<std::string, std::unique_ptr<sim::SimEnv>> client_envs_;
  bool running_ = false;
  bool stopped_ = false;
};

}  // namespace llmproxy::harness
