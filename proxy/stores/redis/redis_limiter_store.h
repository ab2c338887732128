// The rate-limit store shared by every gateway instance: the rules of
// proxy/core/ratelimit/limits.h kept in Redis and decided by Lua scripts
// (limiter_scripts.cpp), one round trip per admit and one per finish.
//
// Store errors (unreachable, timeouts, backoff, odd replies) never fail a
// request by themselves: the verdict follows fail_mode (open: admitted;
// closed: rejected with limit kStoreUnavailable) with store_error set. Each
// error is counted; a warning is logged when the store becomes unreachable
// and an info line when it is back (once per transition, not per request).
//
// One instance per worker, on that worker's executor (it owns its Redis
// connection). It remembers, per API key, the slots of the requests it
// admitted, so finish() can free exactly the slot its admit took.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/core/ratelimit/limits.h"
#include "proxy/stores/limiter_store.h"
#include "proxy/stores/redis/redis_client.h"

namespace llmproxy::stores::redis {

inline constexpr std::string_view kStoreUnavailable = "rate limit store unavailable";

struct RedisLimiterOptions {
  // How long a request's concurrency slot (and token reservation) survives
  // without finish(): the safety net for a gateway that crashed. Serve wiring
  // should pass max(2 × the attempt timeout, 10 min).
  Duration slot_ttl{std::chrono::minutes(10)};
  // Every key starts with this (several deployments or tests can share one
  // server by using different prefixes).
  std::string key_prefix = "llmproxy:rl:";
  // Retry-After of a fail_closed rejection.
  Duration closed_retry_after{std::chrono::seconds(1)};
};

class RedisLimiterStore final : public LimiterStore {
 public:
  RedisLimiterStore(env::Env& env, ClientConfig redis, ratelimit::LimitSet limits,
                    RedisLimiterOptions options = {});
  // On a client other modules of the worker share (shared_clients.h).
  RedisLimiterStore(env::Env& env, std::shared_ptr<RedisClient> client, ratelimit::LimitSet limits,
                    RedisLimiterOptions options = {});

  env::Task<ratelimit::Verdict> admit(const AdmitRequest& req) override;
  env::Task<void> finish(const FinishRequest& req) override;
  void close() override { client_->close(); }

  std::uint64_t store_errors() const { return errors_; }
  bool store_healthy() const { return healthy_; }
  RedisClient& client() { return *client_; }
  const ratelimit::LimitSet& limits() const { return limits_; }

 private:
  struct Slot {
    std::uint64_t seq;
    std::int64_t reservation;
  };

  ratelimit::Verdict on_error(error_code ec, std::string_view detail);
  void on_success();
  std::string key_hash(std::string_view api_key) const;
  std::string member(std::uint64_t seq, std::int64_t reservation) const;

  std::shared_ptr<RedisClient> client_;
  ratelimit::LimitSet limits_;
  RedisLimiterOptions options_;
  Script admit_script_;
  Script finish_script_;
  bool keeps_slots_;                   // token or concurrency limit: slots are recorded
  std::vector<std::string> fixed_args_;  // n, the rule quadruples, token capacity
  std::string max_concurrent_arg_;
  std::string slot_ttl_arg_;
  std::string global_key_;              // <prefix>g
  std::string gateway_id_;             // random per instance: slot members are unique
  std::uint64_t next_seq_ = 0;
  std::unordered_map<std::string, std::vector<Slot>> held_;  // key hash → its admitted slots
  std::uint64_t errors_ = 0;
  bool healthy_ = true;
};

}  // namespace llmproxy::stores::redis
