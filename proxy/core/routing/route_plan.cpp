#include "proxy/core/routing/route_plan.h"

#include <algorithm>

namespace llmproxy::routing {

RoutePlan::RoutePlan(const BackendSet& backends, Balancer& balancer,
                     const FallbackChains& fallback, const RetryPolicy& retry)
    : backends_(backends), balancer_(balancer), fallback_(fallback), retry_(retry) {}

std::size_t RoutePlan::start(std::string_view model, TimePoint deadline, TimePoint now, Rng& rng) {
  failed_.assign(backends_.size(), 0);
  chain_ = {};
  next_fallback_ = 0;
  retries_ = 0;
  fallbacks_taken_ = 0;
  model_ = model;
  deadline_ = deadline;
  std::size_t backend = pick(false, now, rng);
  if (backend != kNoBackend) {
    chain_ = fallback_.fallbacks_of(backend, model_);
    balanced_ = chain_.empty();
    return backend;
  }
  // No primary is routable: a fallback chain still may be.
  chain_ = fallback_.first_fallbacks(model_);
  balanced_ = false;
  return take_fallback(now);
}

std::size_t RoutePlan::pick(bool exclude_failed, TimePoint now, Rng& rng) {
  const std::size_t n = backends_.size();
  eligible_.assign(n, 0);
  if (!fallback_.empty()) fallback_.standbys(model_, eligible_);
  for (std::size_t i = 0; i < n; ++i) {
    // `eligible_` holds the standby marks so far; turn it into the answer.
    const bool standby = eligible_[i] != 0;
    eligible_[i] = !standby && !(exclude_failed && failed_[i]) && can_serve(i, now);
  }
  return balancer_.pick(eligible_, rng, now);
}

bool RoutePlan::can_serve(std::size_t backend, TimePoint now) const {
  return backends_.routable(backend, now) && backends_.serves(backend, model_);
}

std::size_t RoutePlan::take_fallback(TimePoint now) {
  while (next_fallback_ < chain_.size()) {
    const std::size_t f = chain_[next_fallback_++];
    if (can_serve(f, now)) return f;
  }
  return kNoBackend;
}

RoutePlan::Step RoutePlan::after_failure(std::size_t backend, AttemptFailure failure,
                                         std::optional<Duration> retry_after, TimePoint now,
                                         Rng& rng) {
  Step step;
  if (backend < failed_.size()) failed_[backend] = 1;
  if (failure == AttemptFailure::none || failure == AttemptFailure::client_error) return step;
  if (now >= deadline_) return step;  // routing.request_timeout: nothing more
  if (retry_.retryable(failure) && retries_ < retry_.max_retries) {
    Duration wait = retry_.wait_before(retries_ + 1, rng);
    bool fits = true;
    if (retry_after) {
      if (*retry_after > retry_.max_wait) fits = false;
      wait = std::max(wait, *retry_after);
    }
    if (fits && deadline_ != kNoDeadline && now + wait >= deadline_) fits = false;
    if (fits) {
      std::size_t next = backend;
      if (balanced_) {
        // A retry may go elsewhere: another routable backend first.
        next = pick(true, now, rng);
        if (next == kNoBackend) next = pick(false, now, rng);
      } else if (!backends_.routable(backend, now)) {
        next = kNoBackend;
      }
      if (next != kNoBackend) {
        ++retries_;
        step.kind = Step::retry;
        step.wait = wait;
        step.backend = next;
        return step;
      }
    }
  }
  if (const std::size_t f = take_fallback(now); f != kNoBackend) {
    balanced_ = false;
    ++fallbacks_taken_;
    step.kind = Step::fallback;
    step.backend = f;
  }
  return step;
}

}  // namespace llmproxy::routing
