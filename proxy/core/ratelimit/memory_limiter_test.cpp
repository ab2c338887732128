#include "proxy/core/ratelimit/memory_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace llmproxy::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint t0 = TimePoint(seconds(1000));

RequestRule rule(Scope scope, double per_second, std::int64_t burst, std::string_view name) {
  RequestRule r;
  r.scope = scope;
  r.per_second = per_second;
  r.burst = burst;
  r.limit = static_cast<std::int64_t>(per_second);
  r.name = name;
  return r;
}

TEST(MemoryLimiter, EmptyLimitsAdmitEverythingWithoutHeaders) {
  MemoryLimiter m{LimitSet{}};
  const Verdict v = m.admit("k", 10, t0);
  EXPECT_TRUE(v.admitted);
  EXPECT_EQ(v.limit_requests, -1);
  EXPECT_EQ(v.limit_tokens, -1);
  EXPECT_EQ(m.key_count(), 0u);
}

TEST(MemoryLimiter, GlobalBurstThenRateWithExactRetryAfter) {
  LimitSet s;
  s.rules.push_back(rule(Scope::global, 10, 3, "global requests_per_second"));
  MemoryLimiter m{s};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(m.admit("a", 0, t0).admitted) << i;
  Verdict v = m.admit("b", 0, t0);
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.limit, "global requests_per_second");
  EXPECT_EQ(v.retry_after, milliseconds(100));
  v = m.admit("b", 0, t0 + milliseconds(100) - Duration(1));
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.retry_after, Duration(1));
  EXPECT_TRUE(m.admit("b", 0, t0 + milliseconds(100)).admitted);
  EXPECT_EQ(m.key_count(), 0u);  // no per-key rules: no per-key state
}

TEST(MemoryLimiter, PerKeyRulesAreIndependentPerKey) {
  LimitSet s;
  s.rules.push_back(rule(Scope::per_key, 1, 2, "per_key requests_per_second"));
  MemoryLimiter m{s};
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  const Verdict v = m.admit("a", 0, t0);
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.limit, "per_key requests_per_second");
  EXPECT_EQ(v.retry_after, seconds(1));
  EXPECT_TRUE(m.admit("b", 0, t0).admitted);
  EXPECT_TRUE(m.admit("", 0, t0).admitted);  // anonymous is a key like any other
}

TEST(MemoryLimiter, PerMinuteRule) {
  LimitSet s;
  s.rules.push_back(rule(Scope::per_key, 30.0 / 60.0, 1, "per_key requests_per_minute"));
  MemoryLimiter m{s};
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  const Verdict v = m.admit("a", 0, t0 + seconds(1));
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.retry_after, seconds(1));
  EXPECT_TRUE(m.admit("a", 0, t0 + seconds(2)).admitted);
}

TEST(MemoryLimiter, RejectionByGlobalConsumesNothingPerKey) {
  LimitSet s;
  s.rules.push_back(rule(Scope::global, 1, 1, "global requests_per_second"));
  s.rules.push_back(rule(Scope::per_key, 1, 1, "per_key requests_per_second"));
  MemoryLimiter m{s};
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  const Verdict v = m.admit("b", 0, t0);
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.limit, "global requests_per_second");
  EXPECT_EQ(m.key_count(), 1u);  // b got no state
  // b's per-key budget is untouched: it is admitted as soon as global allows.
  EXPECT_TRUE(m.admit("b", 0, t0 + seconds(1)).admitted);
}

TEST(MemoryLimiter, RejectionByKeyConsumesNothingGlobally) {
  LimitSet s;
  s.rules.push_back(rule(Scope::global, 0.001, 2, "global requests_per_second"));
  s.rules.push_back(rule(Scope::per_key, 1, 1, "per_key requests_per_second"));
  MemoryLimiter m{s};
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  for (int i = 0; i < 5; ++i) {
    const Verdict v = m.admit("a", 0, t0);
    EXPECT_FALSE(v.admitted);
    EXPECT_EQ(v.limit, "per_key requests_per_second");
  }
  EXPECT_TRUE(m.admit("b", 0, t0).admitted);  // the second global slot is still there
  EXPECT_FALSE(m.admit("c", 0, t0).admitted);
}

TEST(MemoryLimiter, LongestWaitingRuleIsReported) {
  LimitSet s;
  s.rules.push_back(rule(Scope::global, 10, 1, "global requests_per_second"));
  s.rules.push_back(rule(Scope::per_key, 1, 1, "per_key requests_per_second"));
  MemoryLimiter m{s};
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  const Verdict v = m.admit("a", 0, t0);
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.limit, "per_key requests_per_second");
  EXPECT_EQ(v.retry_after, seconds(1));
}

TEST(MemoryLimiter, HeadersDescribeTheTightestRule) {
  LimitSet s;
  RequestRule g = rule(Scope::global, 100, 100, "global requests_per_second");
  RequestRule k = rule(Scope::per_key, 10, 3, "per_key requests_per_second");
  s.rules = {g, k};
  MemoryLimiter m{s};
  Verdict v = m.admit("a", 0, t0);
  EXPECT_EQ(v.limit_requests, 10);
  EXPECT_EQ(v.remaining_requests, 2);
  EXPECT_EQ(v.reset_requests, milliseconds(100));
  v = m.admit("a", 0, t0);
  v = m.admit("a", 0, t0);
  EXPECT_EQ(v.remaining_requests, 0);
  EXPECT_EQ(v.reset_requests, milliseconds(300));
  v = m.admit("a", 0, t0 + milliseconds(150));
  EXPECT_TRUE(v.admitted);  // the first 100 ms refilled one slot
  EXPECT_EQ(v.remaining_requests, 0);
  v = m.admit("a", 0, t0 + milliseconds(150));
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.retry_after, milliseconds(50));
  EXPECT_EQ(v.remaining_requests, 0);
}

LimitSet tokens(std::int64_t per_minute) {
  LimitSet s;
  s.tokens_per_minute = per_minute;
  return s;
}

TEST(MemoryLimiter, TokenReservationAndSettle) {
  MemoryLimiter m{tokens(600)};  // 10 tokens per second
  Verdict v = m.admit("a", 500, t0);
  EXPECT_TRUE(v.admitted);
  EXPECT_EQ(v.limit_tokens, 600);
  EXPECT_EQ(v.remaining_tokens, 100);
  EXPECT_EQ(v.reset_tokens, seconds(50));
  v = m.admit("a", 500, t0);  // 100 left > 0: admitted, the level goes to −400
  EXPECT_TRUE(v.admitted);
  EXPECT_EQ(v.remaining_tokens, 0);
  v = m.admit("a", 1, t0);
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.limit, kTokensRule);
  EXPECT_EQ(v.retry_after, seconds(40) + Duration(1));  // until 400 tokens are back, and then some
  // Both finish having used 100 tokens each: 400 left.
  m.finish("a", 500, 100, t0);
  m.finish("a", 500, 100, t0);
  v = m.admit("a", 1, t0);
  EXPECT_TRUE(v.admitted);
  EXPECT_EQ(v.remaining_tokens, 399);
  m.finish("a", 1, -1, t0);  // usage unknown: the reservation stays charged
  v = m.admit("a", 0, t0);
  EXPECT_EQ(v.remaining_tokens, 399);
  m.finish("a", 0, 0, t0);
  // After a minute of no use, the bucket is full again.
  v = m.admit("a", 0, t0 + seconds(60));
  EXPECT_EQ(v.remaining_tokens, 600);
  EXPECT_EQ(v.reset_tokens, Duration(0));
}

TEST(MemoryLimiter, ConcurrencySlotsAreHeldUntilFinish) {
  LimitSet s;
  s.max_concurrent = 2;
  MemoryLimiter m{s};
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  Verdict v = m.admit("a", 0, t0);
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.limit, kConcurrencyRule);
  EXPECT_EQ(v.retry_after, kUnknownRetry);
  EXPECT_TRUE(m.admit("b", 0, t0).admitted);
  m.finish("a", 0, 0, t0 + seconds(5));
  EXPECT_TRUE(m.admit("a", 0, t0 + seconds(5)).admitted);
  EXPECT_FALSE(m.admit("a", 0, t0 + seconds(5)).admitted);
}

TEST(MemoryLimiter, IdleKeysAreEvictedBusyOnesNever) {
  LimitSet s;
  s.rules.push_back(rule(Scope::per_key, 1, 1, "per_key requests_per_second"));
  MemoryLimiterOptions o;
  o.shards = 1;
  o.max_keys = 3;
  MemoryLimiter m{s, o};
  for (const char* k : {"a", "b", "c"}) {
    EXPECT_TRUE(m.admit(k, 0, t0).admitted);
    m.finish(k, 0, 0, t0);
  }
  // All three are busy (their GCRA state is not full before t0 + 1s).
  Verdict v = m.admit("d", 0, t0 + milliseconds(500));
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.limit, kKeyTableFull);
  EXPECT_EQ(m.key_count(), 3u);
  // Existing keys still work while the table is full.
  EXPECT_FALSE(m.admit("a", 0, t0 + milliseconds(500)).admitted);
  // Once idle, they are swept out and the new key gets a slot.
  EXPECT_TRUE(m.admit("d", 0, t0 + seconds(1)).admitted);
  EXPECT_EQ(m.key_count(), 1u);
  // The new key's limit was not loosened by the sweep.
  EXPECT_FALSE(m.admit("d", 0, t0 + seconds(1)).admitted);
}

TEST(MemoryLimiter, KeyWithRequestInFlightIsNotEvicted) {
  LimitSet s;
  s.max_concurrent = 1;
  MemoryLimiterOptions o;
  o.shards = 1;
  o.max_keys = 1;
  o.sweep_interval = Duration(0);
  MemoryLimiter m{s, o};
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  EXPECT_FALSE(m.admit("b", 0, t0 + seconds(100)).admitted);
  EXPECT_FALSE(m.admit("a", 0, t0 + seconds(100)).admitted);  // still one in flight
  m.finish("a", 0, 0, t0 + seconds(100));
  EXPECT_TRUE(m.admit("b", 0, t0 + seconds(100)).admitted);
}

TEST(MemoryLimiter, FailedSweepIsThrottled) {
  LimitSet s;
  s.rules.push_back(rule(Scope::per_key, 1, 1, "per_key requests_per_second"));
  MemoryLimiterOptions o;
  o.shards = 1;
  o.max_keys = 1;
  o.sweep_interval = seconds(10);
  MemoryLimiter m{s, o};
  EXPECT_TRUE(m.admit("a", 0, t0).admitted);
  m.finish("a", 0, 0, t0);
  EXPECT_FALSE(m.admit("b", 0, t0).admitted);              // sweep found nothing
  EXPECT_FALSE(m.admit("b", 0, t0 + seconds(2)).admitted);  // a is idle, but no sweep yet
  EXPECT_TRUE(m.admit("b", 0, t0 + seconds(10)).admitted);
}

// idle_ttl (a memory cache's ttl): idle keys go on the first request their
// shard sees idle_ttl after the previous expiry sweep, without the shard being
// full; a key that still limits stays.
TEST(MemoryLimiter, IdleKeysExpireAfterTheTtl) {
  LimitSet s;
  s.rules.push_back(rule(Scope::per_key, 1.0 / 600, 1, "per_key requests_per_minute"));  // one per 10 min
  MemoryLimiterOptions o;
  o.shards = 1;
  o.idle_ttl = seconds(300);
  MemoryLimiter m{s, o};
  s.rules.front().per_second = 1;
  MemoryLimiter quick{s, o};
  for (MemoryLimiter* l : {&m, &quick}) {
    EXPECT_TRUE(l->admit("a", 0, t0).admitted);  // first sweep of the shard: next at t0 + 300 s
    l->finish("a", 0, 0, t0);
    EXPECT_TRUE(l->admit("b", 0, t0 + seconds(1)).admitted);
    l->finish("b", 0, 0, t0 + seconds(1));
  }
  EXPECT_EQ(quick.key_count(), 2u);  // idle, but no expiry sweep before t0 + 300 s
  EXPECT_TRUE(quick.admit("c", 0, t0 + seconds(300)).admitted);
  EXPECT_EQ(quick.key_count(), 1u);  // a and b went, c came
  // Under the 10-minute rule a and b still limit at t0 + 300 s: both stay,
  // and a is still refused.
  EXPECT_TRUE(m.admit("c", 0, t0 + seconds(300)).admitted);
  EXPECT_EQ(m.key_count(), 3u);
  EXPECT_FALSE(m.admit("a", 0, t0 + seconds(301)).admitted);
  // Without idle_ttl idle keys stay until the shard is full.
  MemoryLimiterOptions keep = o;
  keep.idle_ttl = Duration(0);
  MemoryLimiter k{s, keep};
  EXPECT_TRUE(k.admit("a", 0, t0).admitted);
  EXPECT_TRUE(k.admit("c", 0, t0 + seconds(1000)).admitted);
  EXPECT_EQ(k.key_count(), 2u);
}

TEST(MemoryLimiter, RejectsBadRules) {
  LimitSet s;
  s.rules.push_back(rule(Scope::global, 0, 1, "x"));
  EXPECT_THROW(MemoryLimiter{s}, std::invalid_argument);
}

// Extreme but accepted configuration values and client figures must not
// overflow (UBSan checks the arithmetic in the sanitizer build).
TEST(MemoryLimiter, AbsurdValuesDoNotOverflow) {
  LimitSet s;
  s.rules.push_back(rule(Scope::global, 1e-15, 1'000'000'000'000'000, "global requests_per_second"));
  s.rules.push_back(rule(Scope::per_key, 1e15, 1'000'000'000'000'000, "per_key requests_per_second"));
  s.tokens_per_minute = 1;
  MemoryLimiter m{s};
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
  for (int i = 0; i < 200; ++i) {
    const Verdict v = m.admit("a", huge, t0);
    if (v.admitted) m.finish("a", huge, huge, t0);
  }
  const Verdict v = m.admit("a", huge, t0 + seconds(1));
  EXPECT_FALSE(v.admitted);
  EXPECT_FALSE(v.limit.empty());
  std::string out;
  append_rate_limit_headers(out, v);
  EXPECT_FALSE(out.empty());
}

// Several threads hammering one key under a burst-only rule (a rate so low it
// never refills during the test) admit exactly the burst, never more.
TEST(MemoryLimiterThreads, ConcurrentAdmitsNeverExceedTheBurst) {
  for (int threads : {2, 4}) {
    LimitSet s;
    s.rules.push_back(rule(Scope::global, 1e-6, 50, "global requests_per_second"));
    s.rules.push_back(rule(Scope::per_key, 1e-6, 200, "per_key requests_per_second"));
    s.max_concurrent = 1000;
    MemoryLimiterOptions o;
    o.shards = 4;
    MemoryLimiter m{s, o};
    std::atomic<int> admitted{0};
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
      pool.emplace_back([&m, &admitted, i] {
        const std::string key = "key" + std::to_string(i % 2);
        for (int n = 0; n < 2000; ++n) {
          const TimePoint now = t0 + Duration(n);
          if (m.admit(key, 1, now).admitted) {
            admitted.fetch_add(1);
            m.finish(key, 1, 1, now);
          }
        }
      });
    }
    for (auto& t : pool) t.join();
    EXPECT_EQ(admitted.load(), 50) << threads << " threads";
  }
}

}  // namespace
}  // namespace llmproxy::ratelimit
