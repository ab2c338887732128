// Passive health (routing.circuit_breaker): a backend that fails under live
// traffic — `consecutive_failures` in a row, or an error ratio ≥ `error_ratio`
// over `window` with at least `min_requests` — is ejected (open) for a
// cool-down: cool_down · 2^(ejections−1), capped at max_cool_down. After it,
// exactly one request is let through (half-open); its success closes the
// circuit (and resets the ejection count), its failure re-opens it with the
// next, longer cool-down. A new ejection never shortens a running cool-down.
// Pure; one per worker (each worker judges the traffic it sees).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "proxy/core/config/routing.h"
#include "proxy/core/time.h"

namespace llmproxy::routing {

enum class CircuitState : std::uint8_t { closed, open, half_open };

// Which attempt an outcome belongs to (CircuitBreaker::on_attempt).
struct CircuitTicket {
  bool probe = false;  // this attempt is the half-open probe
};

class CircuitBreaker {
 public:
  // A disabled config makes allows() always true and records nothing.
  CircuitBreaker(std::size_t backends, const config::CircuitBreakerConfig& cfg);

  // May a request be sent to backend i now? (closed; or the cool-down has
  // passed and no half-open probe is in flight.)
  bool allows(std::size_t i, TimePoint now) const;
  // A request is being sent to i: in half-open this takes the probe slot.
  // The ticket says whether it did; the request's outcome carries it back,
  // so that only the probe's own outcome decides a half-open circuit.
  CircuitTicket on_attempt(std::size_t i, TimePoint now);
  // The outcome of that request. `success` = a response that was not a 5xx
  // and no connect failure, timeout or reset (429 and other 4xx count as
  // success: the backend is alive). While the circuit is open, outcomes of
  // requests that were in flight when it opened are ignored.
  void on_result(std::size_t i, CircuitTicket ticket, bool success, TimePoint now);
  // The request ended without telling anything about the backend (the
  // client went away before a response head): a probe frees its slot, and
  // nothing is counted.
  void on_abandoned(std::size_t i, CircuitTicket ticket);
  CircuitState state(std::size_t i, TimePoint now) const;
  TimePoint open_until(std::size_t i) const { return b_[i].open_until; }
  int ejections(std::size_t i) const { return b_[i].ejections; }
  bool enabled() const { return enabled_; }
  // Config reload: backend i takes the state backend `from_index` has in
  // `from` (the same backend under the previous config). A half-open probe
  // in flight stays with `from`, so i's probe slot starts free.
  void carry_over(std::size_t i, const CircuitBreaker& from, std::size_t from_index);

 private:
  struct Backend {
    bool open = false;           // ejected (open or, after open_until, half-open)
    bool probe_in_flight = false;
    int consecutive = 0;
    int ejections = 0;
    TimePoint open_until{};
    TimePoint window_start{};
    int window_requests = 0;
    int window_failures = 0;
  };
  void eject(Backend& b, TimePoint now);

  bool enabled_;
  config::CircuitBreakerConfig cfg_;
  std::vector<Backend> b_;
};

}  // namespace llmproxy::routing
