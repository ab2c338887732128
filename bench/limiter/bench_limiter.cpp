// ns/op of one request through the memory limiter: admit() then finish(),
// with every kind of limit configured (global and per-key GCRA, tokens,
// concurrency) but set high enough that requests are admitted, since that is
// the path every request pays. Single-thread with one key and with many keys
// (hash lookups miss the cache), and contended across 2 and 4 threads, each
// thread on its own keys (per-key shards spread, the global shard is shared)
// or all on one key (the worst case: one shard mutex).
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <vector>

#include "proxy/core/ratelimit/memory_limiter.h"

namespace {

using namespace llmproxy;
using namespace llmproxy::ratelimit;

LimitSet bench_limits() {
  config::RateLimitConfig c;
  c.enabled = true;
  c.global.requests_per_second = 1e9;
  c.global.requests_per_minute = 6e10;
  c.per_key.requests_per_second = 1e9;
  c.per_key.requests_per_minute = 6e10;
  c.per_key.tokens_per_minute = 1'000'000'000'000;
  c.per_key.max_concurrent = 1'000'000;
  // Threads run at different speeds, so their clocks drift apart; a large
  // burst keeps that drift from turning into rejections.
  c.global.burst_size = 1'000'000'000'000;
  c.per_key.burst_size = 1'000'000'000'000;
  return limits_from(c);
}

std::vector<std::string> make_keys(std::size_t n, std::string_view prefix) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.push_back(std::string(prefix) + std::to_string(i) + "-0123456789abcdef");
  return keys;
}

MemoryLimiter& shared_limiter() {
  static MemoryLimiter limiter{bench_limits()};
  return limiter;
}

// Virtual time in ns. Runs on the shared limiter continue where the latest
// run stopped, so state left by an earlier run never lies in the future.
std::atomic<std::int64_t> g_clock{1'000'000'000};

void advance_clock(std::int64_t t) {
  std::int64_t seen = g_clock.load();
  while (seen < t && !g_clock.compare_exchange_weak(seen, t)) {
  }
}

void run(benchmark::State& state, MemoryLimiter& m, const std::vector<std::string>& keys) {
  std::int64_t t = g_clock.load();
  std::size_t i = 0;
  std::int64_t rejected = 0;
  for (auto _ : state) {
    const std::string& key = keys[i];
    i = i + 1 == keys.size() ? 0 : i + 1;
    t += 1000;  // a microsecond between requests
    const Verdict v = m.admit(key, 300, TimePoint(Duration(t)));
    if (v.admitted) {
      m.finish(key, 300, 120, TimePoint(Duration(t)));
    } else {
      ++rejected;
    }
    benchmark::DoNotOptimize(v);
  }
  advance_clock(t);
  state.counters["rejected"] = static_cast<double>(rejected);
}

void BM_AdmitFinish_OneKey(benchmark::State& state) {
  MemoryLimiter m{bench_limits()};
  const auto keys = make_keys(1, "sk-one-");
  run(state, m, keys);
}
BENCHMARK(BM_AdmitFinish_OneKey);

void BM_AdmitFinish_ManyKeys(benchmark::State& state) {
  MemoryLimiter m{bench_limits()};
  const auto keys = make_keys(static_cast<std::size_t>(state.range(0)), "sk-many-");
  run(state, m, keys);
}
BENCHMARK(BM_AdmitFinish_ManyKeys)->Arg(1000)->Arg(100000);

void BM_AdmitFinish_NoLimits(benchmark::State& state) {
  MemoryLimiter m{LimitSet{}};
  const auto keys = make_keys(1, "sk-none-");
  run(state, m, keys);
}
BENCHMARK(BM_AdmitFinish_NoLimits);

// Each thread its own 1000 keys; all threads share the limiter.
void BM_Contended_OwnKeys(benchmark::State& state) {
  const auto keys = make_keys(1000, "sk-t" + std::to_string(state.thread_index()) + "-");
  run(state, shared_limiter(), keys);
}
BENCHMARK(BM_Contended_OwnKeys)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// Every thread on the same key: one shard mutex for everyone.
void BM_Contended_SameKey(benchmark::State& state) {
  const auto keys = make_keys(1, "sk-shared-");
  run(state, shared_limiter(), keys);
}
BENCHMARK(BM_Contended_SameKey)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
