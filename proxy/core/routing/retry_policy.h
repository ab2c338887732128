// How a failed attempt is classified and whether, and after how long, it is
// retried (BEHAVIOR §4 "retry"). Pure: randomness comes in as an Rng.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/core/config/routing.h"
#include "proxy/core/random.h"
#include "proxy/core/time.h"

namespace llmproxy::routing {

// Why an attempt did not produce a response the client should get as is.
enum class AttemptFailure : std::uint8_t {
  none,               // a response the client gets (2xx/3xx)
  connect_failure,    // refused, unreachable, connect timeout
  timeout,            // attempt / first-byte / idle deadline passed
  reset,              // connection reset or closed before a complete response head
  server_error,       // upstream 5xx
  too_many_requests,  // upstream 429
  client_error,       // upstream 4xx other than 429: never retried
};

std::string_view failure_name(AttemptFailure f);

// 2xx/3xx (and 1xx) → none, 429 → too_many_requests, 5xx → server_error,
// other 4xx → client_error.
AttemptFailure classify_status(int status);

struct RetryPolicy {
  int max_retries = 0;  // attempts = 1 + max_retries
  Duration initial_wait{0};
  Duration max_wait{0};
  double multiplier = 2.0;
  double jitter = 0.0;  // fraction in [0, 1]
  std::uint32_t retry_on = 0;  // bit (1 << AttemptFailure) per retryable class

  // `enabled: false` → max_retries = 0.
  static RetryPolicy from(const config::RetryConfig& cfg);

  bool retryable(AttemptFailure f) const;
  // Nominal wait before retry k ≥ 1: min(initial_wait · multiplier^(k−1), max_wait).
  Duration nominal_wait(int k) const;
  // The wait used: uniform in [nominal·(1−jitter), nominal] — jitter only
  // shortens, so a wait never exceeds its formula or max_wait.
  Duration wait_before(int k, Rng& rng) const;
};

// Longest wait a Retry-After can ask for; larger values (either form) are
// capped so a hostile or broken upstream cannot park a request for years.
inline constexpr Duration kMaxRetryAfter = std::chrono::hours(24);

// Parses a Retry-After value: delta-seconds, or an HTTP-date (IMF-fixdate;
// RFC 850 and asctime forms accepted) relative to wall_now. A date in the
// past is 0; results are capped at kMaxRetryAfter. nullopt when the value is
// neither.
std::optional<Duration> parse_retry_after(std::string_view value, WallTime wall_now);

}  // namespace llmproxy::routing
