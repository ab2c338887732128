// Balancer::pick() cost per strategy at 2, 16 and 256 backends, all eligible
// and with every other backend ineligible (health checks or circuits out).
// pick() runs once per attempt on the request path, so this is ns/request.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "proxy/core/routing/balancer.h"

namespace {

using llmproxy::Rng;
using llmproxy::TimePoint;
using llmproxy::routing::Balancer;
using llmproxy::routing::Strategy;

template <Strategy S>
void BM_Pick(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const bool half = state.range(1) != 0;
  std::vector<int> weights(n);
  for (std::size_t i = 0; i < n; ++i) weights[i] = 1 + static_cast<int>(i % 5);
  std::vector<std::uint8_t> eligible(n, 1);
  if (half)
    for (std::size_t i = 1; i < n; i += 2) eligible[i] = 0;
  Balancer b(S, weights);
  Rng rng(42);
  TimePoint now = TimePoint{} + std::chrono::seconds(100);
  // Give every backend a latency sample and some load so latency_based and
  // least_conn take their steady-state paths, not the start-up ones.
  for (std::size_t i = 0; i < n; ++i) {
    b.on_first_byte(i, std::chrono::microseconds(1000 + 37 * static_cast<int>(i % 11)));
    for (std::size_t k = 0; k < i % 3; ++k) b.on_start(i);
  }
  for (auto _ : state) {
    now += std::chrono::microseconds(100);
    const std::size_t p = b.pick(eligible, rng, now);
    benchmark::DoNotOptimize(p);
  }
  state.SetLabel(half ? "half eligible" : "all eligible");
}

void Args(benchmark::internal::Benchmark* b) {
  for (int n : {2, 16, 256}) b->Args({n, 0});
  b->Args({256, 1});
}

BENCHMARK(BM_Pick<Strategy::round_robin>)->Name("pick/round_robin")->Apply(Args);
BENCHMARK(BM_Pick<Strategy::weighted>)->Name("pick/weighted")->Apply(Args);
BENCHMARK(BM_Pick<Strategy::least_conn>)->Name("pick/least_conn")->Apply(Args);
BENCHMARK(BM_Pick<Strategy::random>)->Name("pick/random")->Apply(Args);
BENCHMARK(BM_Pick<Strategy::latency_based>)->Name("pick/latency_based")->Apply(Args);

}  // namespace

BENCHMARK_MAIN();
