#include "proxy/core/routing/circuit_breaker.h"

#include <algorithm>

namespace llmproxy::routing {

CircuitBreaker::CircuitBreaker(std::size_t backends, const config::CircuitBreakerConfig& cfg)
    : enabled_(cfg.enabled), cfg_(cfg), b_(backends) {
  // The config check enforces these; clamp so a hand-built config cannot
  // eject on zero failures or divide the window by nothing.
  cfg_.consecutive_failures = std::max(cfg_.consecutive_failures, 1);
  cfg_.min_requests = std::max(cfg_.min_requests, 1);
  cfg_.cool_down = std::max(cfg_.cool_down, Duration::zero());
  cfg_.max_cool_down = std::max(cfg_.max_cool_down, Duration::zero());
}

bool CircuitBreaker::allows(std::size_t i, TimePoint now) const {
  if (!enabled_) return true;
  const Backend& b = b_[i];
  if (!b.open) return true;
  return now >= b.open_until && !b.probe_in_flight;
}

CircuitTicket CircuitBreaker::on_attempt(std::size_t i, TimePoint now) {
  if (!enabled_) return {};
  Backend& b = b_[i];
  if (b.open && now >= b.open_until && !b.probe_in_flight) {
    b.probe_in_flight = true;
    return CircuitTicket{true};
  }
  return {};
}

void CircuitBreaker::on_result(std::size_t i, CircuitTicket ticket, bool success, TimePoint now) {
  if (!enabled_) return;
  Backend& b = b_[i];
  if (b.open) {
    // Only the half-open probe decides. Results of requests that were already
    // in flight when the circuit opened say nothing new and are ignored.
    if (!ticket.probe || !b.probe_in_flight) return;
    b.probe_in_flight = false;
    if (success) {
      b = Backend{};  // closed, ejections and counters reset
    } else {
      eject(b, now);
    }
    return;
  }

  // Tumbling window: it starts at the first result after the previous one ended.
  if (b.window_requests == 0 || now - b.window_start >= cfg_.window) {
    b.window_start = now;
    b.window_requests = 0;
    b.window_failures = 0;
  }
  ++b.window_requests;
  if (success) {
    b.consecutive = 0;
    return;
  }
  ++b.window_failures;
  ++b.consecutive;
  const bool too_many_in_a_row = b.consecutive >= cfg_.consecutive_failures;
  const bool ratio_exceeded =
      b.window_requests >= cfg_.min_requests &&
      static_cast<double>(b.window_failures) >= cfg_.error_ratio * static_cast<double>(b.window_requests);
  if (too_many_in_a_row || ratio_exceeded) eject(b, now);
}

void CircuitBreaker::on_abandoned(std::size_t i, CircuitTicket ticket) {
  if (!enabled_) return;
  Backend& b = b_[i];
  // The probe told nothing: the next request after it may probe again.
  if (b.open && ticket.probe) b.probe_in_flight = false;
}

void CircuitBreaker::eject(Backend& b, TimePoint now) {
  ++b.ejections;
  // cool_down · 2^(ejections−1), capped, by doubling so nothing overflows.
  Duration cool = std::min(cfg_.cool_down, cfg_.max_cool_down);
  for (int k = 1; k < b.ejections && cool > Duration::zero() && cool < cfg_.max_cool_down; ++k)
    cool = cool > cfg_.max_cool_down / 2 ? cfg_.max_cool_down : cool * 2;
  b.open = true;
  b.probe_in_flight = false;
  b.open_until = std::max(b.open_until, now + cool);  // never shortens a running cool-down
  b.consecutive = 0;
  b.window_requests = 0;
  b.window_failures = 0;
}

CircuitState CircuitBreaker::state(std::size_t i, TimePoint now) const {
  if (!enabled_) return CircuitState::closed;
  const Backend& b = b_[i];
  if (!b.open) return CircuitState::closed;
  return now < b.open_until ? CircuitState::open : CircuitState::half_open;
}

void CircuitBreaker::carry_over(std::size_t i, const CircuitBreaker& from, std::size_t from_index) {
  b_[i] = from.b_[from_index];
  b_[i].probe_in_flight = false;
}

}  // namespace llmproxy::routing
