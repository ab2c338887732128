// Time as the decision core sees it. There is deliberately no `now()` here:
// the current time always comes in as an argument, from the environment seam
// (proxy/env/env.h), so the same code runs on the real clock and on the
// simulator's virtual clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace llmproxy {

// Tag clock: time points of the environment's monotonic clock. It has no
// now(), so nothing can read the OS clock through it by accident.
struct MonoClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<MonoClock, duration>;
  static constexpr bool is_steady = true;
};

using Duration = std::chrono::nanoseconds;
using TimePoint = MonoClock::time_point;

// "No deadline": operations given this never time out.
inline constexpr TimePoint kNoDeadline = TimePoint::max();

// Wall-clock time (for logs, Date headers, key expiry): unix nanoseconds.
using WallTime = std::chrono::time_point<std::chrono::system_clock, Duration>;

inline constexpr double to_seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

// Deadlines: `d` after `now`, where a zero (or negative) `d` means "no
// limit" as every timeout of the config does; the earlier of two.
inline constexpr TimePoint deadline_after(TimePoint now, Duration d) {
  return d.count() > 0 ? now + d : kNoDeadline;
}
inline constexpr TimePoint earliest(TimePoint a, TimePoint b) { return a < b ? a : b; }

}  // namespace llmproxy
