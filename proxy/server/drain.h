// The graceful drain after SIGTERM/SIGINT, in one place for `serve` (one
// worker per thread, the real clock) and the simulator (every worker on one
// executor, virtual time), so the drain the simulator checks is the one
// production runs:
//
//   1. begin_drain(worker, acceptors) on every worker: stop accepting (new
//      connections are refused), then the worker stops taking requests:
//      idle keep-alive connections close, busy ones close after their
//      current response (`Connection: close`), /ready answers 503;
//   2. every kDrainPollInterval, Drain::next(open sessions, now): wait
//      while sessions are open and the drain deadline has not passed;
//   3. end_drain(worker) on every worker: the connections still open are
//      closed (after the deadline), nothing is kept for reuse.
//
// How the steps reach the workers (a post per thread, or a direct call) is
// the caller's: that is the only part serve and the simulator do
// differently.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>

#include "proxy/core/time.h"

namespace llmproxy::env {
class Acceptor;
}
namespace llmproxy::shell {
class Worker;
}

namespace llmproxy::server {

// How often the drain looks at the open sessions: the drain ends at most
// this long after its last connection closed.
inline constexpr Duration kDrainPollInterval = std::chrono::milliseconds(20);

// Step 1 for one worker (on its own executor); `admin` is the admin
// listener (admin.listen) when this worker serves it.
void begin_drain(shell::Worker& worker, env::Acceptor& acceptor, env::Acceptor* admin = nullptr);
// Step 3 for one worker (on its own executor).
void end_drain(shell::Worker& worker);

// Step 2: the decision, from the open sessions and the time alone.
class Drain {
 public:
  enum class Next { wait, close_all };

  // A drain that started at `started` with server.drain_timeout `timeout`
  // (0 or less: close at once, as a zero deadline means "no waiting").
  Drain(TimePoint started, Duration timeout) : deadline_(started + std::max(timeout, Duration{0})) {}

  // `open`: sessions still open over every worker; nullopt while some
  // worker has not reported yet (never read as "nothing open").
  Next next(std::optional<std::size_t> open, TimePoint now) const {
    if (open && *open == 0) return Next::close_all;
    return now >= deadline_ ? Next::close_all : Next::wait;
  }
  TimePoint deadline() const { return deadline_; }

 private:
  TimePoint deadline_;
};

}  // namespace llmproxy::server
