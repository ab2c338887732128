// Active health checks (BEHAVIOR §5): the first round of probes runs at
// start-up, then one every `interval`; each probe is one HTTP request
// (`method` `path`, Connection: close) bounded by `timeout`, healthy iff the
// status equals `expected_status`. Outcomes feed a HealthTracker (exact
// thresholds) whose state is published on the HealthBoard all workers read.
// Runs on one environment, so it is driven by virtual time in the simulator.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "proxy/core/routing/health_tracker.h"
#include "proxy/env/env.h"
#include "proxy/shell/health_board.h"
#include "proxy/shell/shell_config.h"

namespace llmproxy::shell {

class HealthProber {
 public:
  HealthProber(env::Env& env, std::shared_ptr<const ShellConfig> config,
               std::shared_ptr<HealthBoard> board);
  ~HealthProber();
  HealthProber(const HealthProber&) = delete;
  HealthProber& operator=(const HealthProber&) = delete;

  // Probes until stop(). Every probe of a round runs concurrently.
  env::Task<void> run();
  // Ends run() promptly: the wait is cancelled and open probes are closed.
  void stop();

  const routing::HealthTracker& tracker() const { return tracker_; }

  // Observers (logs, the simulator's checkers): every probe outcome, with
  // `changed` set when the backend's state flipped.
  std::function<void(std::size_t backend, bool success, bool changed)> on_probe;

 private:
  struct Round;
  env::Task<void> probe(std::size_t i, std::shared_ptr<Round> round);
  env::Task<bool> probe_once(std::size_t i);

  env::Env& env_;
  std::shared_ptr<const ShellConfig> config_;
  std::shared_ptr<HealthBoard> board_;
  routing::HealthTracker tracker_;
  std::unique_ptr<env::Timer> wait_;
  std::vector<env::Stream*> open_;  // the probe connection of each backend, if any
  bool stopped_ = false;
};

}  // namespace llmproxy::shell
