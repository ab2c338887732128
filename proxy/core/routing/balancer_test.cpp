#include "proxy/core/routing/balancer.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace llmproxy::routing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint t0 = TimePoint{} + seconds(1000);

std::vector<std::size_t> picks(Balancer& b, const std::vector<std::uint8_t>& eligible, int n, Rng& rng,
                               TimePoint now = t0) {
  std::vector<std::size_t> out;
  for (int k = 0; k < n; ++k) out.push_back(b.pick(eligible, rng, now));
  return out;
}

TEST(Balancer, StrategyFromConfig) {
  EXPECT_EQ(strategy_from(config::LoadBalance::round_robin), Strategy::round_robin);
  EXPECT_EQ(strategy_from(config::LoadBalance::weighted), Strategy::weighted);
  EXPECT_EQ(strategy_from(config::LoadBalance::least_conn), Strategy::least_conn);
  EXPECT_EQ(strategy_from(config::LoadBalance::random), Strategy::random);
  EXPECT_EQ(strategy_from(config::LoadBalance::latency_based), Strategy::latency_based);
}

TEST(Balancer, NoneEligibleIsNoBackend) {
  Rng rng(1);
  for (Strategy s : {Strategy::round_robin, Strategy::weighted, Strategy::least_conn, Strategy::random,
                     Strategy::latency_based}) {
    Balancer b(s, {1, 2, 3});
    EXPECT_EQ(b.pick(std::vector<std::uint8_t>{0, 0, 0}, rng, t0), kNoBackend);
    Balancer empty(s, {});
    EXPECT_EQ(empty.pick(std::span<const std::uint8_t>{}, rng, t0), kNoBackend);
  }
}

TEST(Balancer, RoundRobinCyclesOverEligible) {
  Rng rng(1);
  Balancer b(Strategy::round_robin, {1, 1, 1, 1});
  EXPECT_EQ(picks(b, {1, 1, 1, 1}, 6, rng), (std::vector<std::size_t>{0, 1, 2, 3, 0, 1}));
  // Backend 2 drops out: the rotation continues over the others.
  EXPECT_EQ(picks(b, {1, 1, 0, 1}, 4, rng), (std::vector<std::size_t>{3, 0, 1, 3}));
}

TEST(Balancer, WeightedIsSmoothAndExact) {
  Rng rng(1);
  Balancer b(Strategy::weighted, {5, 1, 1});
  // nginx's documented sequence for weights 5,1,1.
  EXPECT_EQ(picks(b, {1, 1, 1}, 7, rng), (std::vector<std::size_t>{0, 0, 1, 0, 2, 0, 0}));
  EXPECT_EQ(picks(b, {1, 1, 1}, 7, rng), (std::vector<std::size_t>{0, 0, 1, 0, 2, 0, 0}));
}

TEST(Balancer, WeightedRestartsWhenEligibleSetChanges) {
  Rng rng(1);
  Balancer b(Strategy::weighted, {3, 2, 1});
  picks(b, {1, 1, 1}, 4, rng);  // leave the running weights mid-cycle
  const auto seq = picks(b, {1, 1, 0}, 10, rng);
  std::map<std::size_t, int> count;
  for (std::size_t k = 0; k < 5; ++k) ++count[seq[k]];
  EXPECT_EQ(count[0], 3);
  EXPECT_EQ(count[1], 2);
  EXPECT_EQ(count[2], 0);
}

TEST(Balancer, LeastConnPicksLeastLoadedAndRotatesTies) {
  Rng rng(1);
  Balancer b(Strategy::least_conn, {1, 1, 1});
  // All idle: ties rotate instead of piling onto backend 0.
  EXPECT_EQ(picks(b, {1, 1, 1}, 3, rng), (std::vector<std::size_t>{0, 1, 2}));
  b.on_start(0);
  b.on_start(0);
  b.on_start(2);
  EXPECT_EQ(b.pick(std::vector<std::uint8_t>{1, 1, 1}, rng, t0), 1u);
  b.on_start(1);
  b.on_start(1);
  EXPECT_EQ(b.pick(std::vector<std::uint8_t>{1, 1, 1}, rng, t0), 2u);
  EXPECT_EQ(b.pick(std::vector<std::uint8_t>{1, 1, 0}, rng, t0), 0u);  // 0 and 1 tie at 2; cursor after 2
  b.on_end(0);
  b.on_end(0);
  EXPECT_EQ(b.in_flight(0), 0u);
  EXPECT_EQ(b.pick(std::vector<std::uint8_t>{1, 1, 1}, rng, t0), 0u);
}

TEST(Balancer, OnEndNeverUnderflows) {
  Balancer b(Strategy::least_conn, {1, 1});
  EXPECT_DEBUG_DEATH(b.on_end(1), "in_flight_");
  EXPECT_EQ(b.in_flight(1), 0u);
}

TEST(Balancer, RandomFollowsWeightsAndSeed) {
  Balancer b(Strategy::random, {1, 3});
  Rng rng(42);
  int ones = 0;
  for (int k = 0; k < 40000; ++k) ones += b.pick(std::vector<std::uint8_t>{1, 1}, rng, t0) == 1 ? 1 : 0;
  EXPECT_NEAR(ones / 40000.0, 0.75, 0.02);
  Rng a(7), c(7);
  Balancer b1(Strategy::random, {1, 2, 3}), b2(Strategy::random, {1, 2, 3});
  EXPECT_EQ(picks(b1, {1, 1, 1}, 50, a), picks(b2, {1, 1, 1}, 50, c));
  Rng r(3);
  for (std::size_t p : picks(b1, {0, 1, 0}, 50, r)) EXPECT_EQ(p, 1u);
}

TEST(Balancer, LatencyEwma) {
  Balancer b(Strategy::latency_based, {1, 1}, LatencyOptions{0.5, seconds(10)});
  EXPECT_LT(b.ewma_us(0), 0);
  b.on_first_byte(0, milliseconds(100));
  EXPECT_DOUBLE_EQ(b.ewma_us(0), 100000.0);
  b.on_first_byte(0, milliseconds(200));
  EXPECT_DOUBLE_EQ(b.ewma_us(0), 150000.0);
}

TEST(Balancer, LatencyPrefersUnsampledThenFastestThenExploresStale) {
  Rng rng(1);
  Balancer b(Strategy::latency_based, {1, 1, 1}, LatencyOptions{0.3, seconds(10)});
  const std::vector<std::uint8_t> all{1, 1, 1};
  // Unsampled backends go first, spread over one another.
  EXPECT_EQ(b.pick(all, rng, t0), 0u);
  EXPECT_EQ(b.pick(all, rng, t0), 1u);
  EXPECT_EQ(b.pick(all, rng, t0), 2u);
  b.on_first_byte(0, milliseconds(50));
  b.on_first_byte(1, milliseconds(500));  // slow
  b.on_first_byte(2, milliseconds(80));
  for (int k = 0; k < 5; ++k) EXPECT_EQ(b.pick(all, rng, t0 + seconds(1)), 0u);
  // Nine seconds later 0 is still the choice; at ten seconds without a pick,
  // 1 and 2 are stale: the staler first, each once.
  EXPECT_EQ(b.pick(all, rng, t0 + seconds(9)), 0u);
  EXPECT_EQ(b.pick(all, rng, t0 + seconds(10)), 1u);
  EXPECT_EQ(b.pick(all, rng, t0 + seconds(10)), 2u);
  EXPECT_EQ(b.pick(all, rng, t0 + seconds(10)), 0u);
  // The recovered backend is re-measured and wins.
  b.on_first_byte(1, milliseconds(1));
  b.on_first_byte(1, milliseconds(1));
  b.on_first_byte(1, milliseconds(1));
  b.on_first_byte(1, milliseconds(1));
  b.on_first_byte(1, milliseconds(1));
  b.on_first_byte(1, milliseconds(1));
  b.on_first_byte(1, milliseconds(1));
  EXPECT_EQ(b.pick(all, rng, t0 + seconds(11)), 1u);
  // Ineligible backends are never chosen, even when fastest.
  EXPECT_EQ(b.pick(std::vector<std::uint8_t>{1, 0, 1}, rng, t0 + seconds(11)), 0u);
}

TEST(Balancer, LatencyDoesNotPileOntoABackendThatNeverAnswers) {
  Rng rng(1);
  Balancer b(Strategy::latency_based, {1, 1}, LatencyOptions{0.3, seconds(10)});
  const std::vector<std::uint8_t> all{1, 1};
  // Before any sample, picks rotate.
  EXPECT_EQ(b.pick(all, rng, t0), 0u);
  EXPECT_EQ(b.pick(all, rng, t0), 1u);
  EXPECT_EQ(b.pick(all, rng, t0), 0u);
  b.on_first_byte(0, milliseconds(200));  // 1 never answers
  for (int k = 0; k < 5; ++k) EXPECT_EQ(b.pick(all, rng, t0 + seconds(1)), 0u);
  // explore_after later, 1 is tried once more.
  EXPECT_EQ(b.pick(all, rng, t0 + seconds(10)), 1u);
  EXPECT_EQ(b.pick(all, rng, t0 + seconds(10)), 0u);
}

}  // namespace
}  // namespace llmproxy::routing
