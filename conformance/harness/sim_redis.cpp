#include "conformance/harness/sim_redis.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::harness {
namespace {

bool is_loopback(const std::string& host) {
  return host.empty() || host == "localhost" || host == "127.0.0.1" || host == "::1";
}

}  // namespace

SimRedis::SimRedis(sim::World& world, const config::CacheConfig& cache, fake::FakeRedisConfig base,
                   std::string loopback_host)
    : world_(world) {
  env::error_code ec;
  client_ = stores::redis::ClientConfig::from(cache, ec);
  if (ec) throw std::invalid_argument("redis cache '" + cache.name + "': addr '" + cache.addr +
                                      "' is not host:port");
  if (is_loopback(client_.host)) client_.host = loopback_host;
  host_ = client_.host;
  base.port = client_.port;
  base.host.clear();
  if (base.password.empty()) base.password = client_.password;
  env_ = std::make_unique<sim::SimEnv>(world_, host_);
  fake_ = std::make_unique<fake::FakeRedis>(*env_, std::move(base));
  running_ = true;
  world_.spawn(run_fake());
  // run() binds at once (its first step runs with the next ready handler):
  // let it, so a taken port fails here and not in the middle of a run.
  world_.run_for(Duration{0});
  if (!running_) throw std::runtime_error("fake redis cannot listen on " + host_ + ":" +
                                          std::to_string(client_.port));
}

SimRedis::~SimRedis() { stop(); }

env::Task<void> SimRedis::run_fake() {
  env::error_code ec;
  co_await fake_->run(ec);
  running_ = false;
}

env::Env& SimRedis::client_env(const std::string& name) {
  auto& e = client_envs_[name];
  if (!e) e = std::make_unique<sim::SimEnv>(world_, name);
  return *e;
}

std::shared_ptr<stores::LimiterStore> SimRedis::limiter(env::Env& gateway_env,
                                                        const ratelimit::LimitSet& limits,
                                                        const shell::ShellConfig& config) const {
  stores::redis::RedisLimiterOptions o;
  Duration longest{0};
  for (const auto& b : config.backends) longest = std::max(longest, b.timeout);
  o.slot_ttl = std::max<Duration>(2 * longest, std::chrono::minutes(10));
  return std::make_shared<stores::redis::RedisLimiterStore>(gateway_env, client_, limits, o);
}

void SimRedis::stop() {
  if (stopped_) return;
  stopped_ = true;
  fake_->stop();
  // Connection coroutines end within a few simulated round trips.
  for (int i = 0; i < 10'000 && running_; ++i) world_.run_for(std::chrono::milliseconds(1));
}

}  // namespace llmproxy::harness
