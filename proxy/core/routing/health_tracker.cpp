#include "proxy/core/routing/health_tracker.h"

#include <algorithm>

namespace llmproxy::routing {

HealthTracker::HealthTracker(std::size_t backends, int unhealthy_threshold, int healthy_threshold)
    // The config check enforces ≥ 1; 0 would flip on every outcome.
    : unhealthy_threshold_(std::max(unhealthy_threshold, 1)),
      healthy_threshold_(std::max(healthy_threshold, 1)),
      healthy_(backends, 1),
      streak_(backends, 0) {}

bool HealthTracker::record(std::size_t i, bool success) {
  const bool healthy = healthy_[i] != 0;
  if (success == healthy) {
    // An outcome that agrees with the current state breaks the opposite streak.
    streak_[i] = 0;
    return false;
  }
  const int needed = healthy ? unhealthy_threshold_ : healthy_threshold_;
  if (++streak_[i] < needed) return false;
  healthy_[i] = success ? 1 : 0;
  streak_[i] = 0;
  return true;
}

bool HealthTracker::any_healthy() const {
  return std::any_of(healthy_.begin(), healthy_.end(), [](std::uint8_t h) { return h != 0; });
}

void HealthTracker::start_as(std::size_t i, bool healthy) {
  healthy_[i] = healthy ? 1 : 0;
  streak_[i] = 0;
}

}  // namespace llmproxy::routing
