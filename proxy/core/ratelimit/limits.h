// The rate limits of BEHAVIOR §6 as plain data, and the verdict a limiter
// store returns. Shared by every store (memory, Redis, the simulator's), so
// they all enforce the same rules:
//
// - Request rules (requests_per_second, requests_per_minute; global and per
//   key) use GCRA (virtual scheduling): with rate r per second and burst b,
//   over every window [t−W, t] at most b + r·W requests are admitted. b is
//   `burst_size`, or when it is 0 the requests one second of the rule allows,
//   rounded up, at least 1 (rps 10 → 10, rpm 600 → 10, rpm 30 → 1).
// - tokens_per_minute (per key) is a token bucket of capacity T refilled at
//   T/60 per second. A request is admitted only while the key's level is > 0;
//   on admission it reserves an estimate (token_reservation()) which is
//   replaced by the actual usage when the response ends. The level may go
//   negative by at most one request's tokens, so the overshoot is bounded by
//   one request.
// - max_concurrent (per key): in-flight requests of the key; the slot is
//   held until the response ends and released on every ending.
// A request is admitted only if every rule admits it; a rejected request
// consumes nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/config/rate_limit.h"
#include "proxy/core/time.h"

namespace llmproxy::ratelimit {

enum class Scope : std::uint8_t { global, per_key };

struct RequestRule {
  Scope scope = Scope::global;
  double per_second = 0;     // rate r (requests per second)
  std::int64_t burst = 1;    // b ≥ 1
  std::int64_t limit = 0;    // the configured number (for x-ratelimit-limit-requests)
  Duration period{std::chrono::seconds(1)};  // 1s or 1min (for the headers)
  std::string_view name;     // "global requests_per_minute", "per_key requests_per_second", …

  // GCRA parameters in nanoseconds.
  std::int64_t emission_ns() const;   // 1e9 / per_second
  std::int64_t tolerance_ns() const;  // (burst − 1) · emission
};

struct LimitSet {
  std::vector<RequestRule> rules;     // global ones first, then per-key ones
  std::int64_t tokens_per_minute = 0; // per key; 0 = none
  std::int64_t max_concurrent = 0;    // per key; 0 = none
  config::FailMode fail_mode = config::FailMode::open;

  bool empty() const { return rules.empty() && tokens_per_minute == 0 && max_concurrent == 0; }
  bool has_per_key() const;
};

LimitSet limits_from(const config::RateLimitConfig& cfg);

// The tokens reserved when a request is admitted: max_tokens when the client
// sent it (else 256), plus the prompt estimated at 4 bytes per token; at most
// kMaxReservation (so sums of reservations cannot overflow).
inline constexpr std::int64_t kMaxReservation = 1'000'000'000'000;
std::int64_t token_reservation(std::int64_t max_tokens, std::size_t prompt_bytes);
// The prompt part of it: ceil(prompt_bytes / 4), at most kMaxReservation.
// Also the prompt tokens of the usage estimate for a stream that ended
// without usage (openai/usage_estimate.h), so both agree.
std::int64_t prompt_token_estimate(std::size_t prompt_bytes);

// What a store says about one request. The header fields describe the key's
// tightest request rule and its token bucket (-1 = no such limit).
struct Verdict {
  bool admitted = true;
  bool store_error = false;   // the store could not be asked (fail_mode decided)
  std::string_view limit;     // the rule that rejected, "" when admitted
  Duration retry_after{0};    // when rejected: until that rule would admit
  std::int64_t limit_requests = -1;
  std::int64_t remaining_requests = -1;
  Duration reset_requests{0};
  std::int64_t limit_tokens = -1;
  std::int64_t remaining_tokens = -1;
  Duration reset_tokens{0};
};

// The verdict when the store could not be asked: admitted under fail_mode
// open, rejected (limit kStoreUnavailable, retry after a second) under
// closed; store_error set either way.
inline constexpr std::string_view kStoreUnavailable = "rate limit store unavailable";
Verdict unreachable_store_verdict(config::FailMode mode);

// Appends the x-ratelimit-* headers (each line ends in CRLF) and, when
// rejected, Retry-After (whole seconds, rounded up).
void append_rate_limit_headers(std::string& out, const Verdict& v);

}  // namespace llmproxy::ratelimit
