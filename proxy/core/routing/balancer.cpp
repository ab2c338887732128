#include "proxy/core/routing/balancer.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace llmproxy::routing {

namespace {

// Calls f(i) for i = start, start+1, …, n−1, 0, …, start−1: a rotation split
// into two plain loops so the hot scan has no wrap-around branch.
template <class F>
inline void for_each_from(std::size_t start, std::size_t n, F&& f) {
  for (std::size_t i = start; i < n; ++i) f(i);
  for (std::size_t i = 0; i < start; ++i) f(i);
}

}  // namespace

Strategy strategy_from(config::LoadBalance lb) {
  switch (lb) {
    case config::LoadBalance::round_robin: return Strategy::round_robin;
    case config::LoadBalance::weighted: return Strategy::weighted;
    case config::LoadBalance::least_conn: return Strategy::least_conn;
    case config::LoadBalance::random: return Strategy::random;
    case config::LoadBalance::latency_based: return Strategy::latency_based;
  }
  return Strategy::round_robin;
}

Balancer::Balancer(Strategy strategy, std::vector<int> weights, LatencyOptions latency)
    : strategy_(strategy),
      weights_(std::move(weights)),
      latency_(latency),
      current_(weights_.size(), 0),
      in_flight_(weights_.size(), 0),
      ewma_us_(weights_.size(), -1.0),
      // "Never picked" counts as stale: a backend only ever reached through a
      // fallback chain still gets one exploratory pick.
      last_picked_(weights_.size(), TimePoint::min()),
      wrr_eligible_(weights_.size(), 0) {
  // The config check enforces weight ≥ 1; a zero or negative weight here would
  // make `weighted` and `random` divide by or walk past nothing.
  for (int& w : weights_) w = std::max(w, 1);
  latency_.alpha = std::clamp(latency_.alpha, 0.0, 1.0);
}

std::size_t Balancer::pick(std::span<const std::uint8_t> eligible, Rng& rng, TimePoint now) {
  assert(eligible.size() == size());
  if (eligible.size() != size()) return kNoBackend;
  switch (strategy_) {
    case Strategy::round_robin: return pick_round_robin(eligible);
    case Strategy::weighted: return pick_weighted(eligible);
    case Strategy::least_conn: return pick_least_conn(eligible);
    case Strategy::random: return pick_random(eligible, rng);
    case Strategy::latency_based: return pick_latency(eligible, now);
  }
  return kNoBackend;
}

std::size_t Balancer::pick_round_robin(std::span<const std::uint8_t> eligible) {
  const std::size_t n = size();
  if (n == 0) return kNoBackend;
  std::size_t i = cursor_ % n;
  for (std::size_t step = 0; step < n; ++step, i = (i + 1 == n ? 0 : i + 1)) {
    if (eligible[i] != 0) {
      cursor_ = i + 1;
      return i;
    }
  }
  return kNoBackend;
}

std::size_t Balancer::pick_weighted(std::span<const std::uint8_t> eligible) {
  const std::size_t n = size();
  std::uint8_t changed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t e = eligible[i] != 0 ? 1 : 0;
    changed |= static_cast<std::uint8_t>(e ^ wrr_eligible_[i]);
    wrr_eligible_[i] = e;
  }
  if (changed != 0) std::fill(current_.begin(), current_.end(), 0);

  // Branch-free max so the scan does not mispredict on every new leader.
  std::int64_t total = 0;
  std::int64_t best_value = INT64_MIN;
  std::size_t best = kNoBackend;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t w = wrr_eligible_[i] != 0 ? weights_[i] : 0;
    const std::int64_t c = current_[i] + w;
    current_[i] = c;
    total += w;
    const bool better = w != 0 && c > best_value;  // strict: lowest index on ties
    best_value = better ? c : best_value;
    best = better ? i : best;
  }
  if (best != kNoBackend) current_[best] -= total;
  return best;
}

std::size_t Balancer::pick_least_conn(std::span<const std::uint8_t> eligible) {
  const std::size_t n = size();
  if (n == 0) return kNoBackend;
  // Scan from the cursor so equally loaded backends take turns instead of the
  // lowest index getting every request while all are idle.
  constexpr std::uint64_t kIneligible = UINT64_MAX;
  std::uint64_t best_load = kIneligible;
  std::size_t best = kNoBackend;
  for_each_from(cursor_ % n, n, [&](std::size_t i) {
    const std::uint64_t load = eligible[i] != 0 ? in_flight_[i] : kIneligible;
    const bool better = load < best_load;
    best_load = better ? load : best_load;
    best = better ? i : best;
  });
  if (best != kNoBackend) cursor_ = best + 1;
  return best;
}

std::size_t Balancer::pick_random(std::span<const std::uint8_t> eligible, Rng& rng) {
  const std::size_t n = size();
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (eligible[i] != 0) total += static_cast<std::uint64_t>(weights_[i]);
  if (total == 0) return kNoBackend;
  std::uint64_t r = rng.below(total);
  for (std::size_t i = 0; i < n; ++i) {
    if (eligible[i] == 0) continue;
    const auto w = static_cast<std::uint64_t>(weights_[i]);
    if (r < w) return i;
    r -= w;
  }
  return kNoBackend;  // unreachable: r < total
}

std::size_t Balancer::pick_latency(std::span<const std::uint8_t> eligible, TimePoint now) {
  const std::size_t n = size();
  if (n == 0) return kNoBackend;
  // Written as a subtraction from `now` so TimePoint::min() ("never") cannot overflow.
  const TimePoint stale_before = now - latency_.explore_after;
  std::size_t fresh = kNoBackend;    // no sample, not tried within explore_after
  std::size_t pending = kNoBackend;  // no sample yet, but tried recently
  std::size_t stale = kNoBackend;
  std::size_t fastest = kNoBackend;
  TimePoint stalest = TimePoint::max();
  double fastest_us = 0;
  for_each_from(cursor_ % n, n, [&](std::size_t i) {
    if (eligible[i] == 0) return;
    const double e = ewma_us_[i];
    const TimePoint last = last_picked_[i];
    if (e < 0) {
      // No measurement yet: try it first, in rotation from the cursor. Once
      // tried it waits for its sample like a stale backend would, so one that
      // never answers does not draw every request.
      if (last <= stale_before) {
        if (fresh == kNoBackend) fresh = i;
      } else if (pending == kNoBackend) {
        pending = i;
      }
      return;
    }
    if (last <= stale_before && (stale == kNoBackend || last < stalest)) {
      stale = i;
      stalest = last;
    }
    if (fastest == kNoBackend || e < fastest_us) {
      fastest = i;
      fastest_us = e;
    }
  });
  std::size_t chosen = fresh;
  if (chosen == kNoBackend) chosen = stale;
  if (chosen == kNoBackend) chosen = fastest;
  if (chosen == kNoBackend) chosen = pending;  // nothing measured yet: rotate
  if (chosen == kNoBackend) chosen = stale;
  if (chosen == kNoBackend) chosen = fastest;
  if (chosen == kNoBackend) return kNoBackend;
  cursor_ = chosen + 1;
  last_picked_[chosen] = now;
  return chosen;
}

void Balancer::on_start(std::size_t i) { ++in_flight_[i]; }

void Balancer::on_end(std::size_t i) {
  // An unmatched on_end is a caller bug; in release, clamp rather than wrap
  // to 4 billion and starve the backend forever.
  assert(in_flight_[i] > 0);
  if (in_flight_[i] > 0) --in_flight_[i];
}

void Balancer::on_first_byte(std::size_t i, Duration ttfb) {
  const double sample_us = std::max(0.0, std::chrono::duration<double, std::micro>(ttfb).count());
  double& e = ewma_us_[i];
  e = e < 0 ? sample_us : latency_.alpha * sample_us + (1.0 - latency_.alpha) * e;
}

}  // namespace llmproxy::routing
