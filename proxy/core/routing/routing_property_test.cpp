// Properties of the routing decision core (issue #4 §6), checked directly on
// the pure classes: smooth-WRR window exactness, least-conn choice, random
// convergence, health thresholds against an independent reference, circuit
// cool-down monotonicity and single probes, backoff bounds, eligibility.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <deque>
#include <vector>

#include "proxy/core/routing/balancer.h"
#include "proxy/core/routing/circuit_breaker.h"
#include "proxy/core/routing/health_tracker.h"
#include "proxy/core/routing/retry_policy.h"

namespace llmproxy::routing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint t0 = TimePoint{} + seconds(1000);

std::vector<int> gen_weights(int max_backends) {
  const int n = *rc::gen::inRange(1, max_backends + 1);
  return *rc::gen::container<std::vector<int>>(static_cast<std::size_t>(n), rc::gen::inRange(1, 21));
}

// A random mask with at least one eligible backend.
std::vector<std::uint8_t> gen_eligible(std::size_t n) {
  auto mask = *rc::gen::container<std::vector<std::uint8_t>>(n, rc::gen::element<std::uint8_t>(0, 1));
  mask[*rc::gen::inRange<std::size_t>(0, n)] = 1;
  return mask;
}

// A random mask that may have nothing eligible.
std::vector<std::uint8_t> gen_any_mask(std::size_t n) {
  return *rc::gen::container<std::vector<std::uint8_t>>(n, rc::gen::element<std::uint8_t>(0, 1, 1));
}

RC_GTEST_PROP(RoutingProperty, SmoothWrrEveryWindowIsExact, ()) {
  const std::vector<int> weights = gen_weights(16);
  const std::size_t n = weights.size();
  Balancer b(Strategy::weighted, weights);
  Rng rng(1);
  // Some picks over a different eligible set first: the property must hold
  // from the moment the set becomes stable, whatever came before.
  const int warmup = *rc::gen::inRange(0, 50);
  for (int k = 0; k < warmup; ++k) b.pick(gen_any_mask(n), rng, t0);

  const std::vector<std::uint8_t> eligible = gen_eligible(n);
  int total = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (eligible[i] != 0) total += weights[i];
  const int len = 3 * total + *rc::gen::inRange(0, total);
  std::vector<std::size_t> seq;
  for (int k = 0; k < len; ++k) {
    const std::size_t p = b.pick(eligible, rng, t0);
    RC_ASSERT(p < n);
    RC_ASSERT(eligible[p] != 0);
    seq.push_back(p);
  }
  // Slide a window of Σw picks over the whole sequence.
  std::vector<int> count(n, 0);
  for (int k = 0; k < len; ++k) {
    ++count[seq[static_cast<std::size_t>(k)]];
    if (k >= total) --count[seq[static_cast<std::size_t>(k - total)]];
    if (k + 1 >= total)
      for (std::size_t i = 0; i < n; ++i) RC_ASSERT(count[i] == (eligible[i] != 0 ? weights[i] : 0));
  }
}

RC_GTEST_PROP(RoutingProperty, LeastConnPicksAMinimumInFlightBackend, ()) {
  const std::vector<int> weights = gen_weights(16);
  const std::size_t n = weights.size();
  Balancer b(Strategy::least_conn, weights);
  Rng rng(1);
  std::vector<std::size_t> open;  // backends of requests still in flight
  std::vector<std::uint32_t> model(n, 0);
  const int steps = *rc::gen::inRange(1, 400);
  for (int s = 0; s < steps; ++s) {
    if (!open.empty() && *rc::gen::inRange(0, 3) == 0) {
      const std::size_t k = *rc::gen::inRange<std::size_t>(0, open.size());
      b.on_end(open[k]);
      --model[open[k]];
      open.erase(open.begin() + static_cast<std::ptrdiff_t>(k));
      continue;
    }
    const auto eligible = gen_eligible(n);
    const std::size_t p = b.pick(eligible, rng, t0);
    RC_ASSERT(p < n);
    RC_ASSERT(eligible[p] != 0);
    for (std::size_t i = 0; i < n; ++i)
      if (eligible[i] != 0) RC_ASSERT(model[p] <= model[i]);
    b.on_start(p);
    ++model[p];
    open.push_back(p);
    for (std::size_t i = 0; i < n; ++i) RC_ASSERT(b.in_flight(i) == model[i]);
  }
}

RC_GTEST_PROP(RoutingProperty, RandomConvergesToWeights, ()) {
  const std::vector<int> weights = gen_weights(16);
  const std::size_t n = weights.size();
  const auto eligible = gen_eligible(n);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  Balancer b(Strategy::random, weights);
  Rng rng(seed);
  constexpr int kPicks = 20000;
  std::vector<int> count(n, 0);
  for (int k = 0; k < kPicks; ++k) {
    const std::size_t p = b.pick(eligible, rng, t0);
    RC_ASSERT(p < n);
    RC_ASSERT(eligible[p] != 0);
    ++count[p];
  }
  double total = 0;
  int cells = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (eligible[i] != 0) {
      total += weights[i];
      ++cells;
    }
  double chi2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (eligible[i] == 0) continue;
    const double expected = kPicks * weights[i] / total;
    chi2 += (count[i] - expected) * (count[i] - expected) / expected;
  }
  // χ² has mean df and standard deviation √(2·df); ten deviations plus slack
  // is a generous bound that a broken weighting still blows through.
  const double df = std::max(cells - 1, 1);
  RC_ASSERT(chi2 < df + 10 * std::sqrt(2 * df) + 20);
}

// Reference for HealthTracker, written from the spec's words rather than as
// a streak counter: keep the outcomes since the last state change and flip
// when the last `threshold` of them all disagree with the state.
struct ReferenceHealth {
  ReferenceHealth(int unhealthy, int healthy_) : unhealthy_threshold(unhealthy), healthy_threshold(healthy_) {}
  int unhealthy_threshold, healthy_threshold;
  bool healthy = true;
  std::vector<bool> since_change;

  bool record(bool success) {
    since_change.push_back(success);
    const int need = healthy ? unhealthy_threshold : healthy_threshold;
    if (static_cast<int>(since_change.size()) < need) return false;
    for (auto it = since_change.end() - need; it != since_change.end(); ++it)
      if (*it == healthy) return false;
    healthy = !healthy;
    since_change.clear();
    return true;
  }
};

RC_GTEST_PROP(RoutingProperty, HealthTrackerMatchesReference, ()) {
  const int unhealthy = *rc::gen::inRange(1, 6);
  const int healthy = *rc::gen::inRange(1, 6);
  const std::size_t n = *rc::gen::inRange<std::size_t>(1, 4);
  HealthTracker h(n, unhealthy, healthy);
  std::vector<ReferenceHealth> ref(n, ReferenceHealth(unhealthy, healthy));
  const auto outcomes = *rc::gen::container<std::vector<std::pair<std::size_t, bool>>>(rc::gen::pair(
      rc::gen::inRange<std::size_t>(0, n), rc::gen::weightedElement<bool>({{1, false}, {1, true}})));
  for (const auto& [i, success] : outcomes) {
    const bool changed = h.record(i, success);
    RC_ASSERT(changed == ref[i].record(success));
    bool any = false;
    for (std::size_t j = 0; j < n; ++j) {
      RC_ASSERT(h.healthy(j) == ref[j].healthy);
      any = any || ref[j].healthy;
    }
    RC_ASSERT(h.any_healthy() == any);
  }
}

Duration expected_cool_down(const config::CircuitBreakerConfig& c, int k) {
  // Independent of the implementation's doubling loop: long double power.
  const long double d = static_cast<long double>(c.cool_down.count()) * std::pow(2.0L, k - 1);
  if (d >= static_cast<long double>(c.max_cool_down.count())) return c.max_cool_down;
  return Duration(static_cast<Duration::rep>(d));
}

RC_GTEST_PROP(RoutingProperty, CircuitBreakerCoolDownsAndSingleProbe, ()) {
  config::CircuitBreakerConfig c;
  c.enabled = true;
  c.consecutive_failures = *rc::gen::inRange(1, 5);
  c.error_ratio = *rc::gen::element(0.0, 0.25, 0.5, 1.0);
  c.window = seconds(*rc::gen::inRange(1, 20));
  c.min_requests = *rc::gen::inRange(1, 10);
  c.cool_down = milliseconds(*rc::gen::inRange(1, 5000));
  c.max_cool_down = c.cool_down * *rc::gen::inRange(1, 40);
  CircuitBreaker cb(1, c);

  TimePoint now = t0;
  std::vector<CircuitTicket> outstanding;  // requests admitted and not yet answered
  bool probe_admitted = false;             // the half-open probe is out
  const int steps = *rc::gen::inRange(1, 500);
  for (int s = 0; s < steps; ++s) {
    now += milliseconds(*rc::gen::inRange(0, 3000));
    const CircuitState before = cb.state(0, now);
    const TimePoint until_before = cb.open_until(0);
    const int ejections_before = cb.ejections(0);

    if (!outstanding.empty() && *rc::gen::inRange(0, 2) == 0) {
      // Answers arrive in any order.
      const std::size_t k = *rc::gen::inRange<std::size_t>(0, outstanding.size());
      const CircuitTicket t = outstanding[k];
      outstanding.erase(outstanding.begin() + static_cast<std::ptrdiff_t>(k));
      const int outcome = *rc::gen::weightedElement<int>({{4, 0}, {2, 1}, {1, 2}});
      if (outcome == 2) {
        cb.on_abandoned(0, t);  // the client left: frees a probe slot, decides nothing
        RC_ASSERT(cb.ejections(0) == ejections_before);
        RC_ASSERT(cb.open_until(0) == until_before);
      } else {
        cb.on_result(0, t, outcome == 1, now);
      }
      if (t.probe) {
        probe_admitted = false;
      } else if (before != CircuitState::closed) {
        // An answer of a request that was in flight when the circuit opened
        // decides nothing.
        RC_ASSERT(cb.state(0, now) == before);
        RC_ASSERT(cb.ejections(0) == ejections_before);
        RC_ASSERT(cb.open_until(0) == until_before);
      }
    } else if (cb.allows(0, now)) {
      RC_ASSERT(!(before == CircuitState::half_open && probe_admitted));
      const CircuitTicket t = cb.on_attempt(0, now);
      RC_ASSERT(t.probe == (before == CircuitState::half_open));
      if (t.probe) probe_admitted = true;
      outstanding.push_back(t);
      RC_ASSERT(before != CircuitState::half_open || !cb.allows(0, now));  // slot taken
    } else {
      RC_ASSERT(before != CircuitState::closed);
    }

    const CircuitState after = cb.state(0, now);
    if (after == CircuitState::closed) probe_admitted = false;
    if (before != CircuitState::closed && after != CircuitState::closed)
      RC_ASSERT(cb.open_until(0) >= until_before);  // never shortens while open
    if (cb.ejections(0) > ejections_before) {
      RC_ASSERT(cb.ejections(0) == ejections_before + 1);
      RC_ASSERT(after == CircuitState::open);
      RC_ASSERT(cb.open_until(0) == std::max(until_before, now + expected_cool_down(c, cb.ejections(0))));
      probe_admitted = false;
    } else if (cb.ejections(0) < ejections_before) {
      RC_ASSERT(cb.ejections(0) == 0);  // only a successful probe resets the ladder
      RC_ASSERT(before == CircuitState::half_open);
      RC_ASSERT(after == CircuitState::closed);
    }
  }
}

RC_GTEST_PROP(RoutingProperty, BackoffStaysWithinFormula, ()) {
  RetryPolicy p;
  p.max_retries = 10;
  p.initial_wait = milliseconds(*rc::gen::inRange(0, 10'000));
  p.max_wait = p.initial_wait + milliseconds(*rc::gen::inRange(0, 60'000));
  p.multiplier = *rc::gen::oneOf(rc::gen::element(1.0, 1.5, 2.0, 10.0),
                                 rc::gen::map(rc::gen::inRange(100, 1000), [](int x) { return x / 100.0; }));
  p.jitter = *rc::gen::inRange(0, 101) / 100.0;
  Rng rng(*rc::gen::arbitrary<std::uint64_t>());
  Duration previous = Duration::zero();
  for (int k = 1; k <= 70; ++k) {
    const Duration nominal = p.nominal_wait(k);
    RC_ASSERT(nominal >= previous);  // multiplier ≥ 1: never shrinks
    RC_ASSERT(nominal <= p.max_wait);
    const long double formula = std::min<long double>(
        static_cast<long double>(p.initial_wait.count()) * std::pow(static_cast<long double>(p.multiplier), k - 1),
        static_cast<long double>(p.max_wait.count()));
    RC_ASSERT(std::fabs(static_cast<long double>(nominal.count()) - formula) <= 1 + formula * 1e-12L);
    for (int r = 0; r < 5; ++r) {
      const Duration w = p.wait_before(k, rng);
      RC_ASSERT(w <= nominal);
      RC_ASSERT(static_cast<double>(w.count()) >= static_cast<double>(nominal.count()) * (1 - p.jitter) - 1);
    }
    previous = nominal;
  }
  RC_ASSERT(p.nominal_wait(1'000'000) <= p.max_wait);
}

// Unix seconds of a civil UTC date by counting days year by year and month by
// month: slow and obviously right, unlike the era arithmetic it checks.
std::int64_t naive_unix(int y, int m, int d, int hh, int mm, int ss) {
  const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  auto leap = [](int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; };
  std::int64_t days = 0;
  for (int year = 1970; year < y; ++year) days += leap(year) ? 366 : 365;
  for (int month = 1; month < m; ++month) days += month_days[month - 1] + (month == 2 && leap(y) ? 1 : 0);
  days += d - 1;
  return days * 86400 + hh * 3600 + mm * 60 + ss;
}

RC_GTEST_PROP(RoutingProperty, RetryAfterDatesMatchNaiveCalendar, ()) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kLongDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                              "Friday", "Saturday", "Sunday"};
  const int y = *rc::gen::inRange(1971, 2100);
  const int m = *rc::gen::inRange(1, 13);
  const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int dim[12] = {31, 28 + leap, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int d = *rc::gen::inRange(1, dim[m - 1] + 1);
  const int hh = *rc::gen::inRange(0, 24), mm = *rc::gen::inRange(0, 60), ss = *rc::gen::inRange(0, 60);
  const std::int64_t date = naive_unix(y, m, d, hh, mm, ss);
  const std::int64_t wd = ((date / 86400) % 7 + 3) % 7;  // 1970-01-01 was a Thursday
  const std::int64_t ahead_ms = *rc::gen::inRange<std::int64_t>(-5'000'000, 100'000'000);
  const WallTime now = WallTime(seconds(date)) - milliseconds(ahead_ms);
  const Duration expected = std::clamp<Duration>(milliseconds(ahead_ms), Duration::zero(), kMaxRetryAfter);

  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[wd], d, kMonths[m - 1], y, hh, mm, ss);
  RC_ASSERT(parse_retry_after(buf, now) == std::optional<Duration>(expected));
  std::snprintf(buf, sizeof buf, "%s, %02d-%s-%02d %02d:%02d:%02d GMT", kLongDays[wd], d, kMonths[m - 1], y % 100, hh,
                mm, ss);
  RC_ASSERT(parse_retry_after(buf, now) == std::optional<Duration>(expected));
  std::snprintf(buf, sizeof buf, "%s %s %2d %02d:%02d:%02d %04d", kDays[wd], kMonths[m - 1], d, hh, mm, ss, y);
  RC_ASSERT(parse_retry_after(buf, now) == std::optional<Duration>(expected));
}

RC_GTEST_PROP(RoutingProperty, RetryAfterIsNeverNegative, (std::string value, std::int64_t now_ns)) {
  const auto d = parse_retry_after(value, WallTime(Duration(now_ns)));
  if (d) RC_ASSERT(*d >= Duration::zero() && *d <= kMaxRetryAfter);
}

RC_GTEST_PROP(RoutingProperty, NeverPicksAnIneligibleBackend, ()) {
  const auto strategy = *rc::gen::element(Strategy::round_robin, Strategy::weighted, Strategy::least_conn,
                                          Strategy::random, Strategy::latency_based);
  const std::vector<int> weights = gen_weights(16);
  const std::size_t n = weights.size();
  LatencyOptions lat;
  lat.explore_after = milliseconds(*rc::gen::inRange(1, 20'000));
  Balancer b(strategy, weights, lat);
  Rng rng(*rc::gen::arbitrary<std::uint64_t>());
  TimePoint now = t0;
  std::deque<std::size_t> open;
  const int steps = *rc::gen::inRange(1, 300);
  for (int s = 0; s < steps; ++s) {
    now += milliseconds(*rc::gen::inRange(0, 2000));
    const auto mask = gen_any_mask(n);
    const std::size_t p = b.pick(mask, rng, now);
    const bool none = std::none_of(mask.begin(), mask.end(), [](std::uint8_t e) { return e != 0; });
    if (none) {
      RC_ASSERT(p == kNoBackend);
      continue;
    }
    RC_ASSERT(p < n);
    RC_ASSERT(mask[p] != 0);
    b.on_start(p);
    open.push_back(p);
    if (*rc::gen::inRange(0, 2) == 0) b.on_first_byte(p, milliseconds(*rc::gen::inRange(0, 3000)));
    while (!open.empty() && *rc::gen::inRange(0, 3) == 0) {
      b.on_end(open.front());
      open.pop_front();
    }
  }
}

}  // namespace
}  // namespace llmproxy::routing
