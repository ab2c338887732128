// Properties of MemoryLimiter on virtual time (BEHAVIOR §6, DESIGN
// "Invariants"): random rules, keys, arrival times (ns), reservations, usage
// and durations. Requests end in time order: every finish due at or before an
// arrival is delivered before it, the way a gateway's event loop would.
#include "proxy/core/ratelimit/memory_limiter.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <string>
#include <vector>

#include "proxy/core/random.h"

namespace llmproxy::ratelimit {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
const TimePoint kStart = TimePoint(std::chrono::hours(1));

const std::vector<std::string>& key_names() {
  static const std::vector<std::string> names = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"};
  return names;
}

struct Arrival {
  std::int64_t gap = 0;  // ns after the previous arrival
  int key = 0;
  std::int64_t reservation = 0;
  std::int64_t actual = 0;  // ≤ reservation unless a test says otherwise
  std::int64_t duration = 0;
};

struct Outcome {
  std::int64_t t = 0;
  int key = 0;
  bool probe = false;
  Verdict verdict;
};

struct Charge {
  std::int64_t t = 0;
  std::int64_t tokens = 0;
};

struct Run {
  std::vector<Outcome> outcomes;                 // in arrival order
  std::map<int, std::vector<std::int64_t>> admitted;  // key → admission times
  std::vector<std::int64_t> admitted_all;
  std::map<int, std::vector<Charge>> charges;    // key → settled tokens, by finish time
  std::int64_t max_in_flight_excess = 0;         // in-flight − max_concurrent, at worst
  int rejections = 0;
};

struct Pending {
  std::int64_t end;
  std::int64_t seq;
  int key;
  std::int64_t reservation;
  std::int64_t actual;
  bool operator>(const Pending& o) const { return end != o.end ? end > o.end : seq > o.seq; }
};

// Drives `m` through the arrivals. `probe_at` (optional) marks arrival
// indexes before which an extra probe request (key probe_key[i]) is sent at
// the same instant; probes that are admitted are never finished.
Run drive(MemoryLimiter& m, const std::vector<Arrival>& arrivals, std::int64_t max_concurrent,
          const std::vector<Arrival>* probes = nullptr, const std::vector<bool>* keep_probe = nullptr) {
  Run run;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending;
  std::map<int, std::int64_t> in_flight;
  std::int64_t t = kStart.time_since_epoch().count();
  std::int64_t seq = 0;
  auto settle_until = [&](std::int64_t until) {
    while (!pending.empty() && pending.top().end <= until) {
      const Pending p = pending.top();
      pending.pop();
      m.finish(key_names()[p.key], p.reservation, p.actual, TimePoint(Duration(p.end)));
      --in_flight[p.key];
      run.charges[p.key].push_back(Charge{p.end, p.actual >= 0 ? p.actual : p.reservation});
    }
  };
  auto send = [&](const Arrival& a, bool probe) {
    const Verdict v = m.admit(key_names()[a.key], a.reservation, TimePoint(Duration(t)));
    run.outcomes.push_back(Outcome{t, a.key, probe, v});
    if (!v.admitted) {
      ++run.rejections;
      return;
    }
    if (probe) return;
    ++in_flight[a.key];
    if (max_concurrent > 0) run.max_in_flight_excess = std::max(run.max_in_flight_excess, in_flight[a.key] - max_concurrent);
    run.admitted[a.key].push_back(t);
    run.admitted_all.push_back(t);
    pending.push(Pending{t + a.duration, seq++, a.key, a.reservation, a.actual});
  };
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    t += arrivals[i].gap;
    settle_until(t);
    if (probes != nullptr && (keep_probe == nullptr || (*keep_probe)[i])) send((*probes)[i], true);
    send(arrivals[i], false);
  }
  settle_until(std::numeric_limits<std::int64_t>::max());
  return run;
}

// Merged per-key arrival times (ns, key) as arrivals in time order, each a
// copy of `like` with its gap and key filled in.
std::vector<Arrival> arrivals_at(std::vector<std::pair<std::int64_t, int>> times, const Arrival& like) {
  std::sort(times.begin(), times.end());
  std::vector<Arrival> arrivals;
  arrivals.reserve(times.size());
  std::int64_t prev = 0;
  for (const auto& [at, k] : times) {
    Arrival a = like;
    a.gap = at - prev;
    prev = at;
    a.key = k;
    arrivals.push_back(a);
  }
  return arrivals;
}

// Requests among sorted `times` inside [end − w, end].
std::int64_t count_in(const std::vector<std::int64_t>& times, std::int64_t end, std::int64_t w) {
  const auto lo = std::lower_bound(times.begin(), times.end(), end - w);
  const auto hi = std::upper_bound(times.begin(), times.end(), end);
  return hi - lo;
}

constexpr std::string_view kGlobalName = "global requests_per_second";
constexpr std::string_view kKeyName = "per_key requests_per_second";

rc::Gen<RequestRule> gen_rule() {
  return rc::gen::exec([] {
    RequestRule r;
    r.scope = *rc::gen::element(Scope::global, Scope::per_key);
    r.per_second = static_cast<double>(*rc::gen::inRange(1, 2000)) / 10.0;  // 0.1 … 200 rps
    r.burst = *rc::gen::inRange<std::int64_t>(1, 20);
    r.limit = std::max<std::int64_t>(1, std::llround(r.per_second));
    r.name = r.scope == Scope::global ? kGlobalName : kKeyName;
    return r;
  });
}

// Gaps that mix simultaneous arrivals, bursts at about the rule's spacing, and
// long pauses.
rc::Gen<std::int64_t> gen_gap(std::int64_t spacing) {
  return rc::gen::weightedOneOf<std::int64_t>({
      {3, rc::gen::just<std::int64_t>(0)},
      {6, rc::gen::inRange<std::int64_t>(0, 2 * spacing + 1)},
      {1, rc::gen::inRange<std::int64_t>(0, 3 * kSecond)},
  });
}

RC_GTEST_PROP(RateLimitProperty, AdmittedPerWindowWithinBurstPlusRate, ()) {
  LimitSet set;
  set.rules = *rc::gen::container<std::vector<RequestRule>>(*rc::gen::inRange(1, 4), gen_rule());
  if (*rc::gen::element(false, true)) set.max_concurrent = *rc::gen::inRange<std::int64_t>(1, 5);
  if (*rc::gen::element(false, true)) set.tokens_per_minute = *rc::gen::inRange<std::int64_t>(100, 5000);
  const auto per_key = std::count_if(set.rules.begin(), set.rules.end(),
                                     [](const RequestRule& r) { return r.scope == Scope::per_key; });
  RC_PRE(per_key <= static_cast<long>(MemoryLimiter::kMaxKeyRules));
  std::int64_t spacing = kSecond;
  for (const auto& r : set.rules) spacing = std::min(spacing, r.emission_ns());
  const int keys = *rc::gen::inRange(1, 5);
  const auto arrivals = *rc::gen::container<std::vector<Arrival>>(
      *rc::gen::inRange(1, 400), rc::gen::exec([=] {
        Arrival a;
        a.gap = *gen_gap(spacing);
        a.key = *rc::gen::inRange(0, keys);
        a.reservation = *rc::gen::inRange<std::int64_t>(0, 300);
        a.actual = *rc::gen::inRange<std::int64_t>(0, a.reservation + 1);
        a.duration = *rc::gen::inRange<std::int64_t>(0, 2 * kSecond);
        return a;
      }));
  MemoryLimiter m{set};
  const Run run = drive(m, arrivals, set.max_concurrent);

  const std::int64_t extra_w = *rc::gen::inRange<std::int64_t>(0, 5 * kSecond);
  for (const auto& r : set.rules) {
    const std::int64_t e = r.emission_ns();
    const std::vector<std::int64_t> windows = {0, r.period.count(), e, r.tolerance_ns() + e, 10 * e, extra_w};
    auto check = [&](const std::vector<std::int64_t>& times) {
      for (std::int64_t end : times) {
        for (std::int64_t w : windows) {
          const double bound = static_cast<double>(r.burst) + r.per_second * static_cast<double>(w) / 1e9 + 1e-9;
          const auto n = count_in(times, end, w);
          RC_ASSERT(static_cast<double>(n) <= bound);
        }
      }
    };
    if (r.scope == Scope::global) {
      check(run.admitted_all);
    } else {
      for (const auto& [key, times] : run.admitted) check(times);
    }
  }
}

RC_GTEST_PROP(RateLimitProperty, InFlightNeverExceedsMaxConcurrentAndSlotsAreReleased, ()) {
  LimitSet set;
  set.max_concurrent = *rc::gen::inRange<std::int64_t>(1, 6);
  const int keys = *rc::gen::inRange(1, 5);
  const auto arrivals = *rc::gen::container<std::vector<Arrival>>(
      *rc::gen::inRange(1, 300), rc::gen::exec([=] {
        Arrival a;
        a.gap = *rc::gen::weightedOneOf<std::int64_t>(
            {{1, rc::gen::just<std::int64_t>(0)}, {3, rc::gen::inRange<std::int64_t>(0, kSecond)}});
        a.key = *rc::gen::inRange(0, keys);
        a.duration = *rc::gen::inRange<std::int64_t>(0, 5 * kSecond);
        return a;
      }));
  MemoryLimiter m{set};
  const Run run = drive(m, arrivals, set.max_concurrent);
  RC_ASSERT(run.max_in_flight_excess <= 0);
  // Every ending released its slot: each key has all its slots again.
  const TimePoint later = kStart + std::chrono::hours(100);
  for (int k = 0; k < keys; ++k) {
    for (std::int64_t i = 0; i < set.max_concurrent; ++i) RC_ASSERT(m.admit(key_names()[k], 0, later).admitted);
    RC_ASSERT(!m.admit(key_names()[k], 0, later).admitted);
  }
}

// Offered load ≤ 90 % of every limit, evenly spaced per key with random
// phases: nothing is rejected. Keys ≤ the global burst, so the keys' phases
// cannot line up into more than the burst at once.
RC_GTEST_PROP(RateLimitProperty, NoRejectionsUnderNinetyPercentEvenLoad, ()) {
  config::RateLimitConfig cfg;
  cfg.enabled = true;
  auto rate = [] { return static_cast<double>(*rc::gen::inRange(1, 1000)) / 10.0; };
  if (*rc::gen::element(false, true)) cfg.global.requests_per_second = rate() * 10;
  if (*rc::gen::element(false, true)) cfg.global.requests_per_minute = rate() * 600;
  if (*rc::gen::element(false, true)) cfg.per_key.requests_per_second = rate();
  if (*rc::gen::element(false, true)) cfg.per_key.requests_per_minute = rate() * 60;
  if (*rc::gen::element(false, true)) cfg.global.burst_size = *rc::gen::inRange<std::int64_t>(1, 30);
  if (*rc::gen::element(false, true)) cfg.per_key.burst_size = *rc::gen::inRange<std::int64_t>(1, 30);
  const LimitSet base = limits_from(cfg);
  int keys = *rc::gen::inRange(1, 6);
  double global_rate = 1e9, key_rate = 1e9;
  for (const auto& r : base.rules) {
    if (r.scope == Scope::global) {
      global_rate = std::min(global_rate, r.per_second);
      keys = static_cast<int>(std::min<std::int64_t>(keys, r.burst));
    } else {
      key_rate = std::min(key_rate, r.per_second);
    }
  }
  const double per_key_rate = 0.9 * std::min({key_rate, global_rate / keys, 50.0});
  const std::int64_t period = static_cast<std::int64_t>(std::ceil(1e9 / per_key_rate));
  const std::int64_t duration = *rc::gen::inRange<std::int64_t>(0, 2 * period + 1);
  const std::int64_t reservation = *rc::gen::inRange<std::int64_t>(1, 2000);
  LimitSet set = base;
  // In flight per key: the ones started within the last `duration` (≤ 2
  // periods) plus the new one.
  set.max_concurrent = 3;
  // 90 % of the token rate, and room for the in-flight reservations plus one
  // settled request's debt (see memory_limiter.h).
  const double tokens_needed = static_cast<double>(reservation) * 60e9 / (0.9 * static_cast<double>(period));
  set.tokens_per_minute = static_cast<std::int64_t>(std::ceil(std::max(tokens_needed, 4.0 * static_cast<double>(reservation) + 1)));

  std::vector<std::int64_t> phase(keys);
  for (auto& p : phase) p = *rc::gen::inRange<std::int64_t>(0, period);
  // Merge the keys' periodic streams into one arrival list.
  const int per_key_count = *rc::gen::inRange(1, 200);
  std::vector<std::pair<std::int64_t, int>> times;
  for (int k = 0; k < keys; ++k) {
    for (int i = 0; i < per_key_count; ++i) times.emplace_back(phase[k] + i * period, k);
  }
  Arrival like;
  like.reservation = reservation;
  like.actual = reservation;
  like.duration = duration;
  const std::vector<Arrival> arrivals = arrivals_at(std::move(times), like);
  MemoryLimiter m{set};
  const Run run = drive(m, arrivals, set.max_concurrent);
  for (const auto& o : run.outcomes) {
    if (!o.verdict.admitted) RC_FAIL("rejected by " + std::string(o.verdict.limit));
  }
}

// Poisson arrivals at 90 % of every request limit with bursts ≥ 200: the GCRA
// state is an M/D/1 workload at load 0.9, whose chance of exceeding 199
// emission intervals is about e^−40, so any rejection is a bug.
RC_GTEST_PROP(RateLimitProperty, NoRejectionsUnderNinetyPercentPoissonLoad, ()) {
  config::RateLimitConfig cfg;
  cfg.enabled = true;
  const double key_rps = static_cast<double>(*rc::gen::inRange(1, 500)) / 10.0;
  const int keys = *rc::gen::inRange(1, 5);
  cfg.per_key.requests_per_second = key_rps;
  cfg.per_key.burst_size = *rc::gen::inRange<std::int64_t>(200, 400);
  if (*rc::gen::element(false, true)) {
    cfg.global.requests_per_minute = key_rps * keys * 60 * static_cast<double>(*rc::gen::inRange(50, 200)) / 100.0;
    cfg.global.burst_size = *rc::gen::inRange<std::int64_t>(200, 400);
  }
  const LimitSet set = limits_from(cfg);
  double global_rate = 1e9;
  for (const auto& r : set.rules) {
    if (r.scope == Scope::global) global_rate = r.per_second;
  }
  const double lambda = 0.9 * std::min(key_rps, global_rate / keys);  // per key, per second
  Rng rng(*rc::gen::arbitrary<std::uint64_t>());
  // Each key's own Poisson stream, merged.
  std::vector<std::pair<std::int64_t, int>> times;
  const int per_key_count = *rc::gen::inRange(1, 1500);
  for (int k = 0; k < keys; ++k) {
    double at = 0;
    for (int i = 0; i < per_key_count; ++i) {
      at += -std::log(1.0 - rng.uniform()) / lambda * 1e9;
      times.emplace_back(static_cast<std::int64_t>(at), k);
    }
  }
  const std::vector<Arrival> arrivals = arrivals_at(std::move(times), Arrival{});
  MemoryLimiter m{set};
  const Run run = drive(m, arrivals, 0);
  RC_ASSERT(run.rejections == 0);
}

// Tokens settled over any window W ≤ C + C/60·W + the largest single
// request's usage, as long as no request uses more than it reserved.
RC_GTEST_PROP(RateLimitProperty, TokenOvershootIsAtMostOneRequest, ()) {
  LimitSet set;
  set.tokens_per_minute = *rc::gen::inRange<std::int64_t>(100, 100000);
  const std::int64_t c = set.tokens_per_minute;
  const int keys = *rc::gen::inRange(1, 4);
  const auto arrivals = *rc::gen::container<std::vector<Arrival>>(
      *rc::gen::inRange(1, 400), rc::gen::exec([=] {
        Arrival a;
        a.gap = *rc::gen::weightedOneOf<std::int64_t>(
            {{1, rc::gen::just<std::int64_t>(0)}, {4, rc::gen::inRange<std::int64_t>(0, 5 * kSecond)}});
        a.key = *rc::gen::inRange(0, keys);
        a.reservation = *rc::gen::inRange<std::int64_t>(1, 2 * c);
        a.actual = *rc::gen::weightedOneOf<std::int64_t>(
            {{4, rc::gen::inRange<std::int64_t>(0, a.reservation + 1)}, {1, rc::gen::just<std::int64_t>(-1)}});
        a.duration = *rc::gen::inRange<std::int64_t>(0, 30 * kSecond);
        return a;
      }));
  MemoryLimiter m{set};
  const Run run = drive(m, arrivals, 0);
  const std::vector<std::int64_t> windows = {0, kSecond, 10 * kSecond, kMinute, 2 * kMinute};
  for (const auto& [key, charges] : run.charges) {
    std::int64_t max_one = 0;
    for (const auto& ch : charges) max_one = std::max(max_one, ch.tokens);
    for (std::size_t j = 0; j < charges.size(); ++j) {
      for (std::int64_t w : windows) {
        std::int64_t sum = 0;
        for (std::size_t i = 0; i <= j; ++i) {
          if (charges[i].t >= charges[j].t - w) sum += charges[i].tokens;
        }
        // Later charges at the same instant belong to the window too.
        for (std::size_t i = j + 1; i < charges.size() && charges[i].t == charges[j].t; ++i) sum += charges[i].tokens;
        const double bound =
            static_cast<double>(c) + static_cast<double>(c) * static_cast<double>(w) / 60e9 + static_cast<double>(max_one) + 1e-6;
        RC_ASSERT(static_cast<double>(sum) <= bound);
      }
    }
  }
}

// Up to two rules, maybe max_concurrent and tokens_per_minute: the limits of
// the properties that compare two runs of the same traffic.
LimitSet draw_small_limits() {
  LimitSet set;
  set.rules = *rc::gen::container<std::vector<RequestRule>>(*rc::gen::inRange(0, 3), gen_rule());
  if (*rc::gen::element(false, true)) set.max_concurrent = *rc::gen::inRange<std::int64_t>(1, 4);
  if (*rc::gen::element(false, true)) set.tokens_per_minute = *rc::gen::inRange<std::int64_t>(100, 5000);
  return set;
}

// An arrival of one of the eight keys, with any usage up to its reservation
// (or unknown) and a duration up to 3 s.
rc::Gen<Arrival> gen_keyed_arrival(std::int64_t spacing) {
  return rc::gen::exec([=] {
    Arrival a;
    a.gap = *gen_gap(spacing);
    a.key = *rc::gen::inRange(0, 8);
    a.reservation = *rc::gen::inRange<std::int64_t>(0, 1000);
    a.actual = *rc::gen::inRange<std::int64_t>(-1, a.reservation + 1);
    a.duration = *rc::gen::inRange<std::int64_t>(0, 3 * kSecond);
    return a;
  });
}

// Every field a client could see (the decision and the headers).
void assert_same_verdict(const Verdict& x, const Verdict& y) {
  RC_ASSERT(x.admitted == y.admitted);
  RC_ASSERT(x.limit == y.limit);
  RC_ASSERT(x.retry_after == y.retry_after);
  RC_ASSERT(x.remaining_requests == y.remaining_requests);
  RC_ASSERT(x.reset_requests == y.reset_requests);
  RC_ASSERT(x.remaining_tokens == y.remaining_tokens);
  RC_ASSERT(x.reset_tokens == y.reset_tokens);
}

// A rejected request changes nothing: the same traffic with extra probe
// requests gets the same verdicts, as long as the probes that were admitted
// are part of both runs.
RC_GTEST_PROP(RateLimitProperty, RejectedRequestsChangeNothing, ()) {
  const LimitSet set = draw_small_limits();
  MemoryLimiterOptions options;
  options.shards = *rc::gen::inRange<std::size_t>(1, 4);
  options.max_keys = *rc::gen::inRange<std::size_t>(1, 10);
  // A sweep throttled by an earlier rejection is the one state a rejection
  // leaves behind (memory_limiter.h); without throttling it leaves none.
  options.sweep_interval = Duration(0);
  std::int64_t spacing = kSecond;
  for (const auto& r : set.rules) spacing = std::min(spacing, r.emission_ns());
  const auto gen_arrival = gen_keyed_arrival(spacing);
  const auto arrivals = *rc::gen::container<std::vector<Arrival>>(*rc::gen::inRange(1, 200), gen_arrival);
  auto probes = *rc::gen::container<std::vector<Arrival>>(arrivals.size(), gen_arrival);
  std::vector<bool> send_probe = *rc::gen::container<std::vector<bool>>(arrivals.size(), rc::gen::arbitrary<bool>());

  MemoryLimiter with{set, options};
  const Run a = drive(with, arrivals, 0, &probes, &send_probe);
  // Keep only the probes that were admitted.
  std::vector<bool> admitted_probe(arrivals.size(), false);
  std::size_t at = 0;
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    if (send_probe[i]) admitted_probe[i] = a.outcomes[at++].verdict.admitted;
    ++at;
  }
  MemoryLimiter without{set, options};
  const Run b = drive(without, arrivals, 0, &probes, &admitted_probe);

  std::vector<const Outcome*> kept;
  for (const auto& o : a.outcomes) {
    if (!o.probe || o.verdict.admitted) kept.push_back(&o);
  }
  RC_ASSERT(kept.size() == b.outcomes.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    assert_same_verdict(kept[i]->verdict, b.outcomes[i].verdict);
  }
}

// Idle expiry (a memory cache's ttl, memory_limiter.h) only forgets states
// equal to fresh ones: the same traffic gets the same verdicts and headers
// with any idle_ttl as without, and the expiring limiter never holds more
// keys.
RC_GTEST_PROP(RateLimitProperty, IdleExpiryNeverChangesAVerdict, ()) {
  const LimitSet set = draw_small_limits();
  MemoryLimiterOptions options;
  options.shards = *rc::gen::inRange<std::size_t>(1, 4);
  MemoryLimiterOptions expiring = options;
  expiring.idle_ttl = Duration(*rc::gen::inRange<std::int64_t>(1, 5 * kSecond));
  std::int64_t spacing = kSecond;
  for (const auto& r : set.rules) spacing = std::min(spacing, r.emission_ns());
  const auto arrivals = *rc::gen::container<std::vector<Arrival>>(*rc::gen::inRange(1, 200), gen_keyed_arrival(spacing));
  MemoryLimiter plain{set, options};
  MemoryLimiter expires{set, expiring};
  const Run a = drive(plain, arrivals, 0);
  const Run b = drive(expires, arrivals, 0);
  RC_ASSERT(a.outcomes.size() == b.outcomes.size());
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    assert_same_verdict(a.outcomes[i].verdict, b.outcomes[i].verdict);
  }
  RC_ASSERT(expires.key_count() <= plain.key_count());
  RC_CLASSIFY(expires.key_count() < plain.key_count(), "expiry freed keys");
}

}  // namespace
}  // namespace llmproxy::ratelimit
