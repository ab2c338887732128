// Metric cells written by exactly one thread (a worker's event loop) and read
// concurrently by another (the scraper).
//
// Why a relaxed load followed by a relaxed store, not fetch_add: only the
// owning thread ever writes a cell, so nothing can come between its load and
// its store; a plain store avoids the locked read-modify-write instruction
// on the request path. Each cell is a std::atomic, so the reader's relaxed
// load sees some value the writer stored (never a torn one) and, because the
// writer only stores increasing values into counters, successive reads of a
// counter never go down.
//
// What is not promised: a reader sees no consistent snapshot across cells.
// A scrape may see a request in llmproxy_requests_total but not yet in its
// duration histogram, or a histogram's _sum a moment ahead of its buckets;
// the next scrape catches up. Prometheus client libraries make the same
// trade. (A histogram's _count is computed from its buckets at render time,
// so _count always equals the +Inf bucket.)
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace llmproxy::metrics {

class Counter {
 public:
  void add(std::uint64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
 public:
  void add(std::int64_t d) { v_.store(v_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
  std::int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

// `series` histograms sharing one list of upper bounds. Storage is one flat
// array allocated at construction: series s, bucket b (0..bounds.size(), the
// last being the overflow bucket above the highest bound) holds the number
// of observations v with bounds[b-1] < v <= bounds[b], not cumulated (one
// store per observation; render_metrics cumulates them).
class Histograms {
 public:
  Histograms(std::size_t series, std::vector<double> bounds)
      : bounds_(std::move(bounds)), buckets_(series * (bounds_.size() + 1)), sums_(series) {}

  // NaN and infinite observations are ignored (they cannot be durations and
  // would poison _sum forever); a negative one counts as 0.
  void observe(std::size_t series, double v) {
    if (!std::isfinite(v)) return;
    v = std::max(v, 0.0);
    const auto b = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    buckets_[series * (bounds_.size() + 1) + b].add(1);
    std::atomic<double>& s = sums_[series];
    s.store(s.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }

  std::size_t series() const { return sums_.size(); }
  std::span<const double> bounds() const { return bounds_; }
  // Observations in bucket b alone (b in 0..bounds().size()).
  std::uint64_t bucket(std::size_t series, std::size_t b) const {
    return buckets_[series * (bounds_.size() + 1) + b].value();
  }
  double sum(std::size_t series) const { return sums_[series].load(std::memory_order_relaxed); }
  std::uint64_t count(std::size_t series) const {
    std::uint64_t n = 0;
    for (std::size_t b = 0; b <= bounds_.size(); ++b) n += bucket(series, b);
    return n;
  }

 private:
  std::vector<double> bounds_;
  std::vector<Counter> buckets_;
  std::vector<std::atomic<double>> sums_;
};

}  // namespace llmproxy::metrics
