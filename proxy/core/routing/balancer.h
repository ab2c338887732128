// Backend choice for one worker (BEHAVIOR §4): round_robin, weighted (smooth
// weighted round robin), least_conn, random (seeded) and latency_based (EWMA
// of time to first byte). Pure decision code: the caller says which backends
// may be picked right now (healthy, circuit allows, serves the model, not
// already failed for this request) and passes time and randomness in.
// One Balancer per worker; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "proxy/core/config/common.h"
#include "proxy/core/random.h"
#include "proxy/core/time.h"

namespace llmproxy::routing {

enum class Strategy : std::uint8_t { round_robin, weighted, least_conn, random, latency_based };

inline constexpr std::size_t kNoBackend = static_cast<std::size_t>(-1);

// routing.load_balance → Strategy (least_connections is an alias of least_conn).
Strategy strategy_from(config::LoadBalance lb);

struct LatencyOptions {
  // Weight of a new time-to-first-byte sample in the EWMA.
  double alpha = 0.3;
  // A backend that has not been picked for this long gets the next pick
  // (once), so a slow backend that recovered is measured again. Backends
  // without a sample are tried first, also once per explore_after until a
  // sample arrives (so one that never answers does not draw every request);
  // when no eligible backend has a sample, picks rotate over them. Callers
  // should report an attempt that timed out before its first byte as a
  // sample of the time waited.
  Duration explore_after = std::chrono::seconds(10);
};

class Balancer {
 public:
  // weights[i] ≥ 1 is backend i's weight (used by `weighted` and `random`).
  Balancer(Strategy strategy, std::vector<int> weights, LatencyOptions latency = {});

  // eligible[i] != 0 when backend i may be picked; eligible.size() == size().
  // Returns kNoBackend when none is eligible. Ties are broken
  // deterministically (never by address or hash order).
  std::size_t pick(std::span<const std::uint8_t> eligible, Rng& rng, TimePoint now);

  // Request accounting for least_conn: every on_start(i) is followed by
  // exactly one on_end(i) when the response ends (streams and client
  // cancels included).
  void on_start(std::size_t i);
  void on_end(std::size_t i);

  // latency_based: time to first byte of an attempt on backend i.
  void on_first_byte(std::size_t i, Duration ttfb);

  std::uint32_t in_flight(std::size_t i) const { return in_flight_[i]; }
  // Current EWMA in microseconds; negative when backend i has no sample.
  double ewma_us(std::size_t i) const { return ewma_us_[i]; }
  std::size_t size() const { return weights_.size(); }
  Strategy strategy() const { return strategy_; }

 private:
  std::size_t pick_round_robin(std::span<const std::uint8_t> eligible);
  std::size_t pick_weighted(std::span<const std::uint8_t> eligible);
  std::size_t pick_least_conn(std::span<const std::uint8_t> eligible);
  std::size_t pick_random(std::span<const std::uint8_t> eligible, Rng& rng);
  std::size_t pick_latency(std::span<const std::uint8_t> eligible, TimePoint now);

  Strategy strategy_;
  std::vector<int> weights_;
  LatencyOptions latency_;
  std::size_t cursor_ = 0;                 // round_robin / least_conn tie rotation
  std::vector<std::int64_t> current_;      // smooth WRR running weights
  std::vector<std::uint32_t> in_flight_;
  std::vector<double> ewma_us_;
  std::vector<TimePoint> last_picked_;
  // smooth WRR: the eligible set of the previous pick; a change restarts the
  // running weights at zero so every Σw window over the new set is exact.
  std::vector<std::uint8_t> wrr_eligible_;
};

}  // namespace llmproxy::routing
