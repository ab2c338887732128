// RedisLimiterStore against a real redis-server (LLMPROXY_TEST_REDIS, see
// redis_test_support.h): the memory limiter's semantics, shared exactly by
// two instances, and fail_open / fail_closed with recovery. Each test uses
// its own key prefix, so parallel suites on the same server never meet.
#include "proxy/stores/redis/redis_limiter_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/stores/redis/redis_test_support.h"

namespace llmproxy::stores::redis {
namespace {

using namespace std::chrono_literals;
using testing::run;
using testing::test_redis;
namespace rl = llmproxy::ratelimit;

RedisLimiterOptions options_for(std::string_view test) {
  RedisLimiterOptions o;
  o.key_prefix = "llmproxy:rltest:" + std::to_string(::getpid()) + ":" + std::string(test) + ":";
  return o;
}

rl::LimitSet global_rps(double rps, std::int64_t burst, config::FailMode mode = config::FailMode::open) {
  config::RateLimitConfig cfg;
  cfg.enabled = true;
  cfg.fail_mode = mode;
  cfg.global.requests_per_second = rps;
  cfg.global.burst_size = burst;
  cfg.per_key.enabled = false;
  return rl::limits_from(cfg);
}

rl::LimitSet per_key(std::int64_t tokens_per_minute, std::int64_t max_concurrent) {
  config::RateLimitConfig cfg;
  cfg.enabled = true;
  cfg.global.enabled = false;
  cfg.per_key.tokens_per_minute = tokens_per_minute;
  cfg.per_key.max_concurrent = max_concurrent;
  return rl::limits_from(cfg);
}

AdmitRequest req(std::string_view key, std::int64_t reservation = 0) {
  AdmitRequest r;
  r.key = key;
  r.token_reservation = reservation;
  return r;
}

FinishRequest fin(std::string_view key, std::int64_t reservation, std::int64_t actual) {
  FinishRequest f;
  f.key = key;
  f.token_reservation = reservation;
  f.actual_tokens = actual;
  return f;
}

TEST(RedisLimiterStore, BurstThenRejectionsWithRetryAfterThenAdmittedAgain) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisLimiterStore store(env, cfg, global_rps(10, 5), options_for("burst"));
    for (int i = 0; i < 5; ++i) {
      const rl::Verdict v = co_await store.admit(req("k"));
      EXPECT_TRUE(v.admitted) << i;
      EXPECT_FALSE(v.store_error);
      EXPECT_EQ(v.limit_requests, 10);
      EXPECT_EQ(v.remaining_requests, 4 - i);
    }
    const rl::Verdict no = co_await store.admit(req("k"));
    EXPECT_FALSE(no.admitted);
    EXPECT_FALSE(no.store_error);
    EXPECT_EQ(no.limit, "global requests_per_second");
    // Five admitted at ~t0: the next one is due at t0 + 100 ms.
    EXPECT_GT(no.retry_after, 0ms);
    EXPECT_LE(no.retry_after, 100ms);
    EXPECT_EQ(no.remaining_requests, 0);
    error_code ec;
    co_await env.sleep_for(no.retry_after + 2ms, ec);
    const rl::Verdict again = co_await store.admit(req("k"));
    EXPECT_TRUE(again.admitted);
    const rl::Verdict none = co_await store.admit(req("k"));
    EXPECT_FALSE(none.admitted);
    EXPECT_EQ(store.store_errors(), 0u);
  });
}

// Two gateway instances: each its own thread, event loop, environment and
// store (so its own connection), one Redis. Together they admit exactly the
// burst plus what the rate allows over the elapsed time.
TEST(RedisLimiterStore, TwoInstancesShareTheGlobalLimitExactly) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  const rl::LimitSet limits = global_rps(1, 20);  // 1 per second, burst 20
  const RedisLimiterOptions opts = options_for("shared");
  std::atomic<int> admitted{0};
  std::atomic<int> errors{0};
  const auto start = std::chrono::steady_clock::now();
  auto instance = [&] {
    run([&](env::RealEnv& env) -> env::Task<void> {
      RedisLimiterStore store(env, cfg, limits, opts);
      for (int i = 0; i < 100; ++i) {
        const rl::Verdict v = co_await store.admit(req("any"));
        if (v.admitted) ++admitted;
        if (v.store_error) ++errors;
      }
    });
  };
  std::thread a(instance), b(instance);
  a.join();
  b.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GE(admitted.load(), 20);
  EXPECT_LE(admitted.load(), 20 + static_cast<int>(elapsed) + 1) << "elapsed " << elapsed << " s";
  if (elapsed < 0.9) {
    EXPECT_EQ(admitted.load(), 20);
  }
}

TEST(RedisLimiterStore, TokensAreReservedThenSettledToActualUsage) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisLimiterStore store(env, cfg, per_key(1000, 0), options_for("tokens"));
    rl::Verdict v = co_await store.admit(req("alice", 800));
    EXPECT_TRUE(v.admitted);
    EXPECT_EQ(v.limit_tokens, 1000);
    EXPECT_EQ(v.remaining_tokens, 200);
    EXPECT_EQ(v.limit_requests, -1);  // no request rule
    v = co_await store.admit(req("alice", 300));  // 200 left > 0: admitted, level goes negative
    EXPECT_TRUE(v.admitted);
    EXPECT_EQ(v.remaining_tokens, 0);
    v = co_await store.admit(req("alice", 10));
    EXPECT_FALSE(v.admitted);
    EXPECT_EQ(v.limit, rl::kTokensRule);
    // 100 tokens short of 0: refilled at 1000/min, 6 s.
    EXPECT_GT(v.retry_after, 5900ms);
    EXPECT_LE(v.retry_after, 6001ms);
    // Another key is untouched.
    v = co_await store.admit(req("bob", 10));
    EXPECT_TRUE(v.admitted);
    co_await store.finish(fin("bob", 10, 10));
    // The first request used only 100 of its 800: 300 reserved + 100 charged.
    co_await store.finish(fin("alice", 800, 100));
    v = co_await store.admit(req("alice", 50));
    EXPECT_TRUE(v.admitted);
    EXPECT_GE(v.remaining_tokens, 549);  // 1000 − 100 − 300 − 50, plus a little refill
    EXPECT_LE(v.remaining_tokens, 560);
    co_await store.finish(fin("alice", 300, -1));  // usage unknown: the reservation is charged
    co_await store.finish(fin("alice", 50, 0));
    v = co_await store.admit(req("alice", 0));
    EXPECT_TRUE(v.admitted);
    EXPECT_GE(v.remaining_tokens, 599);  // 1000 − 100 − 300
    EXPECT_LE(v.remaining_tokens, 610);
    co_await store.finish(fin("alice", 0, 0));
    EXPECT_EQ(store.store_errors(), 0u);
  });
}

TEST(RedisLimiterStore, ConcurrencySlotsAreHeldUntilFinish) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisLimiterStore store(env, cfg, per_key(0, 2), options_for("conc"));
    rl::Verdict v = co_await store.admit(req("k"));
    EXPECT_TRUE(v.admitted);
    v = co_await store.admit(req("k"));
    EXPECT_TRUE(v.admitted);
    v = co_await store.admit(req("k"));
    EXPECT_FALSE(v.admitted);
    EXPECT_EQ(v.limit, rl::kConcurrencyRule);
    EXPECT_EQ(v.retry_after, rl::kUnknownRetry);
    v = co_await store.admit(req("other"));
    EXPECT_TRUE(v.admitted);
    co_await store.finish(fin("k", 0, -1));
    v = co_await store.admit(req("k"));
    EXPECT_TRUE(v.admitted);
    v = co_await store.admit(req("k"));
    EXPECT_FALSE(v.admitted);
    for (int i = 0; i < 2; ++i) co_await store.finish(fin("k", 0, -1));
    co_await store.finish(fin("other", 0, -1));
    // Everything released: two slots again.
    for (int i = 0; i < 2; ++i) {
      v = co_await store.admit(req("k"));
      EXPECT_TRUE(v.admitted);
    }
  });
}

// A gateway that dies never calls finish: its slots (and reservations) expire
// after slot_ttl and the next admission frees them.
TEST(RedisLimiterStore, SlotsOfACrashedGatewayExpire) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisLimiterOptions opts = options_for("crash");
    opts.slot_ttl = 500ms;
    rl::Verdict v;
    {
      RedisLimiterStore crashed(env, cfg, per_key(1000, 1), opts);
      v = co_await crashed.admit(req("k", 2000));
      EXPECT_TRUE(v.admitted);
    }
    RedisLimiterStore alive(env, cfg, per_key(1000, 1), opts);
    v = co_await alive.admit(req("k", 1));
    EXPECT_FALSE(v.admitted);
    error_code ec;
    co_await env.sleep_for(600ms, ec);
    v = co_await alive.admit(req("k", 1));
    EXPECT_TRUE(v.admitted) << v.limit;
    EXPECT_GE(v.remaining_tokens, 990);  // the dead request's 2000 reserved tokens came back
  });
}

TEST(RedisLimiterStore, ApiKeysNeverAppearInRedisKeys) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    const RedisLimiterOptions opts = options_for("hash");
    RedisLimiterStore store(env, cfg, per_key(1000, 5), opts);
    const rl::Verdict v = co_await store.admit(req("sk-secret-key", 10));
    EXPECT_TRUE(v.admitted);
    error_code ec;
    const std::string pattern = opts.key_prefix + "*";
    const Reply keys = co_await store.client().call(ec, "KEYS", pattern);
    EXPECT_FALSE(keys.elements.empty()) << keys.describe();
    for (const Reply& k : keys.elements) EXPECT_EQ(k.str.find("secret"), std::string::npos) << k.str;
    for (const Reply& k : keys.elements) {
      const Reply ttl = co_await store.client().call(ec, "PTTL", k.str);
      EXPECT_GT(ttl.integer, 0) << k.str << " has no expiry";
    }
    co_await store.finish(fin("sk-secret-key", 10, 10));
  });
}

TEST(RedisLimiterStore, FailOpenAndFailClosedWhenUnreachable) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    ClientConfig down = cfg;
    down.port = testing::closed_port(env);
    RedisLimiterStore open(env, down, global_rps(1, 1, config::FailMode::open), options_for("open"));
    RedisLimiterStore closed(env, down, global_rps(1, 1, config::FailMode::closed), options_for("closed"));
    for (int i = 0; i < 3; ++i) {
      const rl::Verdict o = co_await open.admit(req("k"));
      EXPECT_TRUE(o.admitted);
      EXPECT_TRUE(o.store_error);
      const rl::Verdict c = co_await closed.admit(req("k"));
      EXPECT_FALSE(c.admitted);
      EXPECT_TRUE(c.store_error);
      EXPECT_EQ(c.limit, kStoreUnavailable);
      EXPECT_GT(c.retry_after, Duration::zero());
    }
    EXPECT_EQ(open.store_errors(), 3u);
    EXPECT_EQ(closed.store_errors(), 3u);
    EXPECT_FALSE(open.store_healthy());
  });
}

TEST(RedisLimiterStore, RecoversWhenTheStoreComesBack) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    testing::Forwarder fwd(env, cfg);
    ClientConfig via = cfg;
    via.host = "127.0.0.1";
    via.port = fwd.start();
    RedisLimiterStore store(env, via, global_rps(1000, 1000, config::FailMode::closed),
                            options_for("recover"));
    rl::Verdict v = co_await store.admit(req("k"));
    EXPECT_TRUE(v.admitted);
    EXPECT_FALSE(v.store_error);

    fwd.stop();  // Redis "goes away"
    error_code ec;
    co_await env.sleep_for(20ms, ec);
    for (int i = 0; i < 3; ++i) {
      v = co_await store.admit(req("k"));
      EXPECT_FALSE(v.admitted);
      EXPECT_TRUE(v.store_error);
    }
    EXPECT_FALSE(store.store_healthy());

    fwd.start(via.port);  // and comes back on the same port
    const TimePoint give_up = env.now() + 5s;
    do {
      co_await env.sleep_for(50ms, ec);
      v = co_await store.admit(req("k"));
    } while (v.store_error && env.now() < give_up);
    EXPECT_TRUE(v.admitted);
    EXPECT_FALSE(v.store_error);
    EXPECT_TRUE(store.store_healthy());
    fwd.stop();
  });
}

}  // namespace
}  // namespace llmproxy::stores::redis
