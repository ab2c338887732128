#include "proxy/core/routing/route_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmproxy::routing {
namespace {

using namespace std::chrono_literals;

// Backends whose routability a test sets directly.
class TestBackends final : public BackendSet {
 public:
  explicit TestBackends(std::size_t n) : up(n, 1) {}
  std::size_t size() const override { return up.size(); }
  bool routable(std::size_t i, TimePoint) const override { return up[i] != 0; }
  bool serves(std::size_t, std::string_view) const override { return true; }
  std::vector<std::uint8_t> up;
};

RetryPolicy retries(int n) {
  RetryPolicy p;
  p.max_retries = n;
  p.initial_wait = 100ms;
  p.max_wait = 1s;
  p.retry_on = ~0u;
  return p;
}

const std::vector<std::string> kNames{"a", "b", "c"};
const std::vector<std::string> kUrls{"http://a", "http://b", "http://c"};

struct Fixture {
  explicit Fixture(RetryPolicy p, std::vector<config::FallbackRule> rules = {})
      : backends(3),
        balancer(Strategy::round_robin, {1, 1, 1}, {}),
        chains(rules, kNames, kUrls),
        policy(p),
        plan(backends, balancer, chains, policy) {}
  TestBackends backends;
  Balancer balancer;
  FallbackChains chains;
  RetryPolicy policy;
  RoutePlan plan;
  Rng rng{1};
  TimePoint now{};
};

TEST(RoutePlan, ClientErrorsAndSuccessStop) {
  Fixture f(retries(3));
  const std::size_t b = f.plan.start("", kNoDeadline, f.now, f.rng);
  ASSERT_NE(b, kNoBackend);
  EXPECT_EQ(f.plan.after_failure(b, AttemptFailure::client_error, {}, f.now, f.rng).kind,
            RoutePlan::Step::stop);
  EXPECT_EQ(f.plan.after_failure(b, AttemptFailure::none, {}, f.now, f.rng).kind,
            RoutePlan::Step::stop);
}

TEST(RoutePlan, BalancedRetryGoesToABackendThatHasNotFailed) {
  Fixture f(retries(2));
  const std::size_t first = f.plan.start("", kNoDeadline, f.now, f.rng);
  const auto s1 = f.plan.after_failure(first, AttemptFailure::server_error, {}, f.now, f.rng);
  ASSERT_EQ(s1.kind, RoutePlan::Step::retry);
  EXPECT_NE(s1.backend, first);
  EXPECT_EQ(s1.wait, 100ms);
  const auto s2 = f.plan.after_failure(s1.backend, AttemptFailure::reset, {}, f.now, f.rng);
  ASSERT_EQ(s2.kind, RoutePlan::Step::retry);
  EXPECT_NE(s2.backend, first);
  EXPECT_NE(s2.backend, s1.backend);
  // Retries used up, no fallback chain: stop.
  EXPECT_EQ(f.plan.after_failure(s2.backend, AttemptFailure::reset, {}, f.now, f.rng).kind,
            RoutePlan::Step::stop);
  EXPECT_EQ(f.plan.retries(), 2);
}

TEST(RoutePlan, RetryAfterAboveMaxWaitMovesToTheFallback) {
  config::FallbackRule r;
  r.primary = "a";
  r.fallback = {"c"};
  Fixture f(retries(3), {r});
  f.backends.up = {1, 0, 1};  // b down: the balancer can only pick a
  const std::size_t first = f.plan.start("", kNoDeadline, f.now, f.rng);
  ASSERT_EQ(first, 0u);
  const auto s = f.plan.after_failure(first, AttemptFailure::too_many_requests, 5s, f.now, f.rng);
  EXPECT_EQ(s.kind, RoutePlan::Step::fallback);
  EXPECT_EQ(s.backend, 2u);
  EXPECT_EQ(f.plan.fallbacks(), 1);
}

TEST(RoutePlan, DeadlineStopsEverything) {
  Fixture f(retries(3));
  const TimePoint deadline = f.now + 1s;
  const std::size_t first = f.plan.start("", deadline, f.now, f.rng);
  // A wait that would end past the deadline does not fit; nothing else left.
  const auto s = f.plan.after_failure(first, AttemptFailure::timeout, 2s, f.now + 500ms, f.rng);
  EXPECT_EQ(s.kind, RoutePlan::Step::stop);
  EXPECT_EQ(f.plan.after_failure(first, AttemptFailure::timeout, {}, deadline, f.rng).kind,
            RoutePlan::Step::stop);
}

TEST(RoutePlan, NothingRoutableTriesTheFirstChain) {
  config::FallbackRule r;
  r.primary = "a";
  r.fallback = {"b", "c"};
  Fixture f(retries(0), {r});
  f.backends.up = {0, 0, 1};
  EXPECT_EQ(f.plan.start("", kNoDeadline, f.now, f.rng), 2u);
  f.backends.up = {0, 0, 0};
  EXPECT_EQ(f.plan.start("", kNoDeadline, f.now, f.rng), kNoBackend);
}

}  // namespace
}  // namespace llmproxy::routing
