// Active health state per backend (BEHAVIOR §5): a backend turns unhealthy
// after exactly `unhealthy_threshold` consecutive failed probes and healthy
// after exactly `healthy_threshold` consecutive successes. Every backend
// starts healthy (the first probe runs at start-up). Pure; one per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace llmproxy::routing {

class HealthTracker {
 public:
  HealthTracker(std::size_t backends, int unhealthy_threshold, int healthy_threshold);

  // Feeds one probe outcome; returns true when the backend's state changed.
  bool record(std::size_t i, bool success);

  // Sets backend i's state with no streak (a tracker that takes over a
  // health board after a config reload).
  void start_as(std::size_t i, bool healthy);

  bool healthy(std::size_t i) const { return healthy_[i] != 0; }
  bool any_healthy() const;
  std::size_t size() const { return healthy_.size(); }

 private:
  int unhealthy_threshold_;
  int healthy_threshold_;
  std::vector<std::uint8_t> healthy_;
  std::vector<int> streak_;  // consecutive outcomes opposite to the current state
};

}  // namespace llmproxy::routing
