// The metrics module (BEHAVIOR §10; `metrics.enabled`, `path`,
// `latency_buckets`, `custom_labels`): Prometheus text exposition at
// metrics.path on the main listener. The counting itself is pure
// (proxy/core/metrics); this module plugs it into the pipeline:
//
//   MetricsHub        one per process: every worker's WorkerMetrics (fixed
//                     once the workers are built) and what a scrape reads
//                     from shared state (health board, circuit gauges)
//   MetricsFilter     first filter of each worker: requests and streams in
//                     flight (+1 on request, -1 on end)
//   MetricsObserver   each worker's observer: one sample per finished
//                     request, its failed attempts, rate-limit rejections,
//                     the circuit state of the backends it tried
//   MetricsEndpoint   GET metrics.path on every worker: merges all workers'
//                     counters at scrape time (no lock on the request path;
//                     one mutex between scrapes and worker registration)
//
// Circuit state is per worker (each worker has its own breaker); the gauge
// shows the most open state any worker saw at its last attempt on the
// backend. Custom labels: `model` (the request's model), `user_id` and
// `api_key` (the caller auth let in: its user_id, and its key's name or
// else prefix, never the key; "" for an anonymous request).
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/core/config/config.h"
#include "proxy/core/metrics/worker_metrics.h"
#include "proxy/shell/health_board.h"
#include "proxy/shell/pipeline.h"
#include "proxy/shell/worker.h"

namespace llmproxy::modules::metrics {

using llmproxy::metrics::WorkerMetrics;

class MetricsHub {
 public:
  MetricsHub(const config::MetricsConfig& config, std::vector<std::string> backend_names,
             std::shared_ptr<const shell::HealthBoard> health);

  // A worker's share: its counters and its circuit gauges (one per backend).
  struct WorkerShare {
    explicit WorkerShare(const llmproxy::metrics::MetricsLayout& layout, std::size_t backends)
        : metrics(layout), circuit(backends) {}
    WorkerMetrics metrics;
    std::vector<std::atomic<std::uint8_t>> circuit;  // metrics::CircuitGauge values
  };
  // Worker `index`'s share, made on first use (while the workers are
  // built). A reload that keeps the hub hands each worker its share again,
  // so counters go on.
  WorkerShare& worker_share(std::size_t index);

  // The whole exposition into `out` (any thread).
  void render(std::string& out) const;

  // The pipeline parts of one worker.
  void install(shell::WorkerOptions& options, WorkerShare& share) const;

  const std::string& path() const { return path_; }

 private:
  llmproxy::metrics::MetricsLayout layout_;
  std::string path_;
  std::shared_ptr<const shell::HealthBoard> health_;
  mutable std::mutex mu_;  // shares_ grows only while workers are built
  std::deque<WorkerShare> shares_;
};

}  // namespace llmproxy::modules::metrics
