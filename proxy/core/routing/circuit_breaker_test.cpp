#include "proxy/core/routing/circuit_breaker.h"

#include <gtest/gtest.h>

namespace llmproxy::routing {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint t0 = TimePoint{} + seconds(1000);

config::CircuitBreakerConfig cfg(int consecutive = 3, double ratio = 0.5, int min_requests = 10) {
  config::CircuitBreakerConfig c;
  c.enabled = true;
  c.consecutive_failures = consecutive;
  c.error_ratio = ratio;
  c.window = seconds(10);
  c.min_requests = min_requests;
  c.cool_down = seconds(30);
  c.max_cool_down = minutes(5);
  return c;
}

void fail(CircuitBreaker& cb, std::size_t i, TimePoint now, int n = 1) {
  for (int k = 0; k < n; ++k) {
    const CircuitTicket t = cb.on_attempt(i, now);
    cb.on_result(i, t, false, now);
  }
}

TEST(CircuitBreaker, DisabledAllowsEverything) {
  config::CircuitBreakerConfig c = cfg();
  c.enabled = false;
  CircuitBreaker cb(2, c);
  EXPECT_FALSE(cb.enabled());
  fail(cb, 0, t0, 100);
  EXPECT_TRUE(cb.allows(0, t0));
  EXPECT_EQ(cb.state(0, t0), CircuitState::closed);
  EXPECT_EQ(cb.ejections(0), 0);
}

TEST(CircuitBreaker, EjectsAfterConsecutiveFailures) {
  CircuitBreaker cb(2, cfg(3));
  fail(cb, 0, t0, 2);
  EXPECT_TRUE(cb.allows(0, t0));
  cb.on_result(0, {}, true, t0);  // breaks the run
  fail(cb, 0, t0, 2);
  EXPECT_EQ(cb.state(0, t0), CircuitState::closed);
  fail(cb, 0, t0);
  EXPECT_EQ(cb.state(0, t0), CircuitState::open);
  EXPECT_FALSE(cb.allows(0, t0));
  EXPECT_EQ(cb.open_until(0), t0 + seconds(30));
  EXPECT_EQ(cb.ejections(0), 1);
  EXPECT_TRUE(cb.allows(1, t0));  // other backends unaffected
}

TEST(CircuitBreaker, EjectsOnErrorRatioWithMinRequests) {
  CircuitBreaker cb(1, cfg(100, 0.5, 10));
  // Alternate success/failure: 5 of 10 failed (ratio 0.5) at request 10.
  for (int k = 0; k < 9; ++k) cb.on_result(0, {}, k % 2 == 0, t0 + milliseconds(k));
  EXPECT_EQ(cb.state(0, t0), CircuitState::closed);
  cb.on_result(0, {}, false, t0 + milliseconds(9));
  EXPECT_EQ(cb.state(0, t0 + milliseconds(9)), CircuitState::open);
}

TEST(CircuitBreaker, ErrorRatioWindowTumbles) {
  CircuitBreaker cb(1, cfg(100, 0.5, 4));
  cb.on_result(0, {}, false, t0);
  cb.on_result(0, {}, false, t0 + seconds(1));
  cb.on_result(0, {}, true, t0 + seconds(2));
  // The window [t0, t0+10s) ends; the next result starts a fresh one.
  cb.on_result(0, {}, false, t0 + seconds(10));
  EXPECT_EQ(cb.state(0, t0 + seconds(10)), CircuitState::closed);
  cb.on_result(0, {}, true, t0 + seconds(11));
  cb.on_result(0, {}, true, t0 + seconds(12));
  EXPECT_EQ(cb.state(0, t0 + seconds(12)), CircuitState::closed);
  cb.on_result(0, {}, false, t0 + seconds(13));  // 2 of 4 in the window
  EXPECT_EQ(cb.state(0, t0 + seconds(13)), CircuitState::open);
}

TEST(CircuitBreaker, HalfOpenAdmitsOneProbe) {
  CircuitBreaker cb(1, cfg(1));
  fail(cb, 0, t0);
  const TimePoint later = t0 + seconds(30);
  EXPECT_FALSE(cb.allows(0, later - milliseconds(1)));
  EXPECT_EQ(cb.state(0, later), CircuitState::half_open);
  EXPECT_TRUE(cb.allows(0, later));
  const CircuitTicket probe = cb.on_attempt(0, later);
  EXPECT_TRUE(probe.probe);
  EXPECT_FALSE(cb.allows(0, later));  // the probe holds the slot
  // A caller ignoring allows() does not take it twice.
  EXPECT_FALSE(cb.on_attempt(0, later).probe);
  cb.on_result(0, probe, true, later + seconds(1));
  EXPECT_EQ(cb.state(0, later + seconds(1)), CircuitState::closed);
  EXPECT_EQ(cb.ejections(0), 0);
  EXPECT_TRUE(cb.allows(0, later + seconds(1)));
}

TEST(CircuitBreaker, AbandonedProbeFreesTheSlotWithoutDeciding) {
  CircuitBreaker cb(1, cfg(1));
  fail(cb, 0, t0);
  const TimePoint later = cb.open_until(0);
  const CircuitTicket probe = cb.on_attempt(0, later);
  EXPECT_FALSE(cb.allows(0, later));
  cb.on_abandoned(0, probe);
  EXPECT_EQ(cb.state(0, later), CircuitState::half_open);
  EXPECT_EQ(cb.ejections(0), 1);
  EXPECT_TRUE(cb.allows(0, later));
  // While closed, an abandoned attempt records nothing.
  const CircuitTicket second = cb.on_attempt(0, later);
  cb.on_result(0, second, true, later);
  cb.on_abandoned(0, {});
  EXPECT_EQ(cb.state(0, later), CircuitState::closed);
}

TEST(CircuitBreaker, FailedProbeReopensWithLongerCoolDown) {
  CircuitBreaker cb(1, cfg(1));
  TimePoint now = t0;
  Duration expected = seconds(30);
  for (int k = 1; k <= 6; ++k) {
    if (k == 1) {
      fail(cb, 0, now);
    } else {
      now = cb.open_until(0);
      ASSERT_TRUE(cb.allows(0, now));
      fail(cb, 0, now);
    }
    EXPECT_EQ(cb.ejections(0), k);
    EXPECT_EQ(cb.open_until(0), now + expected) << "ejection " << k;
    expected = std::min<Duration>(expected * 2, minutes(5));
  }
  // Success on the probe resets the ladder.
  now = cb.open_until(0);
  const CircuitTicket probe = cb.on_attempt(0, now);
  cb.on_result(0, probe, true, now);
  fail(cb, 0, now);
  EXPECT_EQ(cb.open_until(0), now + seconds(30));
}

TEST(CircuitBreaker, ResultsOfRequestsStartedBeforeEjectionAreIgnored) {
  CircuitBreaker cb(1, cfg(1));
  fail(cb, 0, t0);
  const TimePoint until = cb.open_until(0);
  cb.on_result(0, {}, true, t0 + seconds(1));  // an old request finishing
  EXPECT_EQ(cb.state(0, t0 + seconds(1)), CircuitState::open);
  cb.on_result(0, {}, false, t0 + seconds(2));
  EXPECT_EQ(cb.open_until(0), until);
  EXPECT_EQ(cb.ejections(0), 1);
}

TEST(CircuitBreaker, HugeEjectionCountDoesNotOverflow) {
  config::CircuitBreakerConfig c = cfg(1);
  c.max_cool_down = Duration::max() / 4;
  CircuitBreaker cb(1, c);
  TimePoint now = t0;
  fail(cb, 0, now);
  for (int k = 0; k < 80; ++k) {
    now = cb.open_until(0);
    if (now > TimePoint{} + Duration::max() / 2) break;
    fail(cb, 0, now);
    EXPECT_GE(cb.open_until(0), now);
  }
}


// The probe's slot is decided by the probe alone: an answer of a request that
// was in flight when the circuit opened, arriving while the probe is out,
// neither closes nor re-opens the circuit.
TEST(CircuitBreaker, LateAnswerOfAnOldRequestDoesNotDecideTheProbe) {
  CircuitBreaker cb(1, cfg(1));
  const CircuitTicket old = cb.on_attempt(0, t0);  // in flight when it opens
  EXPECT_FALSE(old.probe);
  fail(cb, 0, t0);
  const TimePoint later = cb.open_until(0);
  const CircuitTicket probe = cb.on_attempt(0, later);
  ASSERT_TRUE(probe.probe);
  cb.on_result(0, old, true, later + seconds(1));
  EXPECT_EQ(cb.state(0, later + seconds(1)), CircuitState::half_open);
  EXPECT_FALSE(cb.allows(0, later + seconds(1)));  // the probe still holds the slot
  cb.on_abandoned(0, old);
  EXPECT_FALSE(cb.allows(0, later + seconds(1)));
  cb.on_result(0, probe, false, later + seconds(2));
  EXPECT_EQ(cb.ejections(0), 2);
  EXPECT_EQ(cb.state(0, later + seconds(2)), CircuitState::open);
}

TEST(CircuitBreaker, CarryOverTakesTheStateOfTheSameBackend) {
  // A config reload: backend 0 of the new breaker is backend 1 of the old.
  CircuitBreaker old(2, cfg(3));
  fail(old, 1, t0, 3);
  ASSERT_EQ(old.state(1, t0), CircuitState::open);
  CircuitBreaker next(1, cfg(3));
  next.carry_over(0, old, 1);
  EXPECT_EQ(next.state(0, t0), CircuitState::open);
  EXPECT_EQ(next.open_until(0), old.open_until(1));
  EXPECT_EQ(next.ejections(0), 1);
  // Half-open with the old breaker's probe in flight: the new one's slot is free.
  const TimePoint later = old.open_until(1) + seconds(1);
  const CircuitTicket probe = old.on_attempt(1, later);
  ASSERT_TRUE(probe.probe);
  EXPECT_FALSE(old.allows(1, later));
  next.carry_over(0, old, 1);
  EXPECT_TRUE(next.allows(0, later));
}

}  // namespace
}  // namespace llmproxy::routing
