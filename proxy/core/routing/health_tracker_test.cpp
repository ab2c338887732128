#include "proxy/core/routing/health_tracker.h"

#include <gtest/gtest.h>

namespace llmproxy::routing {
namespace {

TEST(HealthTracker, StartsHealthy) {
  HealthTracker h(3, 3, 2);
  EXPECT_EQ(h.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(h.healthy(i));
  EXPECT_TRUE(h.any_healthy());
}

TEST(HealthTracker, ExactThresholds) {
  HealthTracker h(1, 3, 2);
  EXPECT_FALSE(h.record(0, false));
  EXPECT_FALSE(h.record(0, false));
  EXPECT_TRUE(h.healthy(0));
  EXPECT_TRUE(h.record(0, false));  // third failure in a row
  EXPECT_FALSE(h.healthy(0));
  EXPECT_FALSE(h.any_healthy());
  EXPECT_FALSE(h.record(0, false));  // already unhealthy
  EXPECT_FALSE(h.record(0, true));
  EXPECT_TRUE(h.record(0, true));  // second success in a row
  EXPECT_TRUE(h.healthy(0));
}

TEST(HealthTracker, AgreeingOutcomeResetsStreak) {
  HealthTracker h(1, 2, 2);
  h.record(0, false);
  h.record(0, true);  // breaks the failure streak
  EXPECT_FALSE(h.record(0, false));
  EXPECT_TRUE(h.healthy(0));
  EXPECT_TRUE(h.record(0, false));
  h.record(0, true);
  h.record(0, false);  // breaks the success streak
  EXPECT_FALSE(h.record(0, true));
  EXPECT_FALSE(h.healthy(0));
  EXPECT_TRUE(h.record(0, true));
}

TEST(HealthTracker, ThresholdOneFlipsAtOnceAndBackendsAreIndependent) {
  HealthTracker h(2, 1, 1);
  EXPECT_TRUE(h.record(1, false));
  EXPECT_TRUE(h.healthy(0));
  EXPECT_FALSE(h.healthy(1));
  EXPECT_TRUE(h.any_healthy());
  EXPECT_TRUE(h.record(1, true));
}

TEST(HealthTracker, StartAsTakesOverAStateWithoutItsStreak) {
  HealthTracker t(2, 3, 2);
  t.record(1, false);
  t.record(1, false);
  t.start_as(1, true);  // a reload: the board says healthy, the streak restarts
  EXPECT_TRUE(t.healthy(1));
  EXPECT_FALSE(t.record(1, false));
  EXPECT_FALSE(t.record(1, false));
  EXPECT_TRUE(t.record(1, false));
  t.start_as(0, false);
  EXPECT_FALSE(t.healthy(0));
  EXPECT_FALSE(t.record(0, true));
  EXPECT_TRUE(t.record(0, true));
}

}  // namespace
}  // namespace llmproxy::routing
