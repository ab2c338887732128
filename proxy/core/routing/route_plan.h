// The routing of one request (BEHAVIOR §4, docs/routing.md): which backend
// its first attempt goes to, and after each failed attempt, what comes next.
// Pure: the backends' state is read through BackendSet, time and randomness
// come in as arguments. The I/O shell asks it, in order:
//
//   start(model, deadline, now, rng)        → first backend, or kNoBackend
//   after_failure(backend, failure, …)      → Step{stop | retry | fallback}
//   after_failure(…) …                      (once per failed attempt)
//
// Exact semantics:
// - start: the balancer picks among backends that are routable now, serve
//   the model and are not standbys (routing.fallback). The request's chain
//   is that backend's fallbacks. When nothing is eligible, the first
//   applicable rule's fallbacks are tried in order (the primary counts as
//   failed) and the first routable one that serves the model is returned.
// - after_failure(b, f): f none or client_error → stop (the answer goes to
//   the client). The request deadline passed → stop. A retryable f with
//   retries left and a wait that fits (the backoff, or a longer Retry-After
//   not above max_wait, ending before the deadline) → retry: on the same
//   backend when the chain chose it (a fallback, a pinned backend), or
//   re-picked when the balancer chose it (another routable backend that has
//   not failed this request first, else any routable one). A retry that
//   does not fit or finds nothing routable moves to the next routable
//   fallback of the chain; none left → stop.
// - The plan is decided once per failure: the shell does not second-guess
//   it, and nothing is passed back through a side channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "proxy/core/random.h"
#include "proxy/core/routing/balancer.h"
#include "proxy/core/routing/fallback_chains.h"
#include "proxy/core/routing/retry_policy.h"
#include "proxy/core/time.h"

namespace llmproxy::routing {

// The routing view of the configured backends (the worker implements it
// from health, circuit breakers and the backend list).
class BackendSet {
 public:
  virtual std::size_t size() const = 0;
  // Healthy and its circuit allows a request now.
  virtual bool routable(std::size_t backend, TimePoint now) const = 0;
  virtual bool serves(std::size_t backend, std::string_view model) const = 0;

 protected:
  ~BackendSet() = default;
};

class RoutePlan {
 public:
  struct Step {
    enum Kind : std::uint8_t { stop, retry, fallback } kind = stop;
    Duration wait{0};         // retry: the backoff before it
    std::size_t backend = kNoBackend;  // the next attempt's backend
  };

  // One per worker, reused by its requests one after the other (buffers
  // keep their capacity).
  RoutePlan(const BackendSet& backends, Balancer& balancer, const FallbackChains& fallback,
            const RetryPolicy& retry);

  // Starts a request for `model` ("" = any) that must end by `deadline`
  // (kNoDeadline = none). Returns the first backend or kNoBackend.
  std::size_t start(std::string_view model, TimePoint deadline, TimePoint now, Rng& rng);

  // After an attempt on `backend` failed with `failure` (retry_after: the
  // upstream's Retry-After, if any). See the header comment.
  Step after_failure(std::size_t backend, AttemptFailure failure,
                     std::optional<Duration> retry_after, TimePoint now, Rng& rng);

  // Another attempt could still follow a failure (a retry left, or a
  // fallback not yet taken). An upper bound: routability is judged later.
  bool could_try_again() const {
    return retries_ < retry_.max_retries || next_fallback_ < chain_.size();
  }
  int retries() const { return retries_; }
  int fallbacks() const { return fallbacks_taken_; }
  TimePoint deadline() const { return deadline_; }

 private:
  std::size_t pick(bool exclude_failed, TimePoint now, Rng& rng);
  bool can_serve(std::size_t backend, TimePoint now) const;
  std::size_t take_fallback(TimePoint now);

  const BackendSet& backends_;
  Balancer& balancer_;
  const FallbackChains& fallback_;
  const RetryPolicy& retry_;
  std::vector<std::uint8_t> eligible_;
  std::vector<std::uint8_t> failed_;  // backends that failed this request
  std::span<const std::size_t> chain_;
  std::size_t next_fallback_ = 0;
  bool balanced_ = true;  // the current backend came from the balancer
  int retries_ = 0;
  int fallbacks_taken_ = 0;
  TimePoint deadline_ = kNoDeadline;
  std::string_view model_;
};

}  // namespace llmproxy::routing
