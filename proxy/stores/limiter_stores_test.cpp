// The memory store and the latency store over one shared MemoryLimiter, on
// the real environment (loopback-free: only timers are used).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>

#include "proxy/env/real/real_env.h"
#include "proxy/stores/latency_limiter_store.h"
#include "proxy/stores/memory_limiter_store.h"

namespace llmproxy::stores {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

void run(std::function<env::Task<void>(env::RealEnv&)> body) {
  asio::io_context ioc;
  env::RealEnv env(ioc, 7);
  std::exception_ptr failure;
  bool done = false;
  asio::co_spawn(ioc, body(env), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  ioc.run_for(10s);  // a bound, not a wait
  ASSERT_TRUE(done) << "test coroutine did not finish";
  if (failure) std::rethrow_exception(failure);
}

std::shared_ptr<ratelimit::MemoryLimiter> concurrency_limiter(std::int64_t max_concurrent) {
  ratelimit::LimitSet set;
  set.max_concurrent = max_concurrent;
  set.tokens_per_minute = 600;
  return std::make_shared<ratelimit::MemoryLimiter>(set);
}

env::Task<void> memory_store_body(env::RealEnv& env) {
  auto limiter = concurrency_limiter(1);
  MemoryLimiterStore a(limiter), b(limiter);  // two workers, one limiter
  AdmitRequest req;
  req.now = env.now();
  req.key = "k";
  req.token_reservation = 100;
  const ratelimit::Verdict first = co_await a.admit(req);
  EXPECT_TRUE(first.admitted);
  EXPECT_EQ(first.remaining_tokens, 500);
  const ratelimit::Verdict second = co_await b.admit(req);
  EXPECT_FALSE(second.admitted);
  EXPECT_EQ(second.limit, ratelimit::kConcurrencyRule);
  FinishRequest fin;
  fin.now = env.now();
  fin.key = "k";
  fin.token_reservation = 100;
  fin.actual_tokens = 10;
  co_await a.finish(fin);
  const ratelimit::Verdict third = co_await b.admit(req);
  EXPECT_TRUE(third.admitted);
}

TEST(MemoryLimiterStore, WorkersShareOneLimiter) { run(memory_store_body); }

env::Task<void> latency_store_body(env::RealEnv& env) {
  auto limiter = concurrency_limiter(1);
  LatencyLimiterStore store(limiter, env, 5ms);
  AdmitRequest req;
  req.now = env.now();
  req.key = "k";
  const TimePoint start = env.now();
  const ratelimit::Verdict v = co_await store.admit(req);
  EXPECT_TRUE(v.admitted);
  EXPECT_GE(env.now() - start, 10ms);  // there and back
  FinishRequest fin;
  fin.key = "k";
  co_await store.finish(fin);
  EXPECT_GE(env.now() - start, 20ms);
  const ratelimit::Verdict again = co_await store.admit(req);
  EXPECT_TRUE(again.admitted);  // the slot was released
}

TEST(LatencyLimiterStore, DecidesAfterOneWayLatencyAndReplies) { run(latency_store_body); }

}  // namespace
}  // namespace llmproxy::stores
