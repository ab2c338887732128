#include "proxy/core/ratelimit/limits.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace llmproxy::ratelimit {

namespace {
// GCRA spans are capped at about three years so that absurd configurations
// (a request per century, a burst of 10^15) cannot overflow the clock
// arithmetic; no real limit comes near it.
constexpr std::int64_t kMaxSpanNs = 100'000'000'000'000'000;
}  // namespace

std::int64_t RequestRule::emission_ns() const {
  // Rounded up: a spacing shorter than 1/r would let GCRA admit slightly more
  // than r·W over a long window; a longer one only makes the limit stricter
  // by under a nanosecond per request.
  const double ns = std::ceil(1e9 / per_second);
  if (!(ns < static_cast<double>(kMaxSpanNs))) return kMaxSpanNs;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(ns));
}

std::int64_t RequestRule::tolerance_ns() const {
  const std::int64_t e = emission_ns();
  if (burst <= 1) return 0;
  if (burst - 1 > kMaxSpanNs / e) return kMaxSpanNs;
  return (burst - 1) * e;
}

bool LimitSet::has_per_key() const {
  if (tokens_per_minute > 0 || max_concurrent > 0) return true;
  return std::any_of(rules.begin(), rules.end(),
                     [](const RequestRule& r) { return r.scope == Scope::per_key; });
}

namespace {

// One second's worth of requests, rounded up, at least 1 (limits.h).
std::int64_t default_burst(double per_second) {
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(per_second - 1e-9)));
}

void add_rule(LimitSet& set, Scope scope, double configured, bool per_minute, std::int64_t burst_size,
              std::string_view name) {
  if (configured <= 0) return;
  RequestRule r;
  r.scope = scope;
  r.per_second = per_minute ? configured / 60.0 : configured;
  r.burst = burst_size > 0 ? burst_size : default_burst(r.per_second);
  r.limit = std::max<std::int64_t>(1, std::llround(configured));
  r.period = per_minute ? Duration(std::chrono::minutes(1)) : Duration(std::chrono::seconds(1));
  r.name = name;
  set.rules.push_back(r);
}

}  // namespace

LimitSet limits_from(const config::RateLimitConfig& cfg) {
  LimitSet set;
  if (!cfg.enabled) return set;
  set.fail_mode = cfg.fail_mode;
  if (cfg.global.enabled) {
    const auto& g = cfg.global;
    add_rule(set, Scope::global, g.requests_per_second, false, g.burst_size, "global requests_per_second");
    add_rule(set, Scope::global, g.requests_per_minute, true, g.burst_size, "global requests_per_minute");
  }
  if (cfg.per_key.enabled) {
    const auto& k = cfg.per_key;
    add_rule(set, Scope::per_key, k.requests_per_second, false, k.burst_size, "per_key requests_per_second");
    add_rule(set, Scope::per_key, k.requests_per_minute, true, k.burst_size, "per_key requests_per_minute");
    set.tokens_per_minute = k.tokens_per_minute;
    set.max_concurrent = k.max_concurrent;
  }
  return set;
}

std::int64_t token_reservation(std::int64_t max_tokens, std::size_t prompt_bytes) {
  const std::int64_t completion = max_tokens > 0 ? std::min(max_tokens, kMaxReservation) : 256;
  return std::min(completion + prompt_token_estimate(prompt_bytes), kMaxReservation);
}

std::int64_t prompt_token_estimate(std::size_t prompt_bytes) {
  const std::size_t prompt = prompt_bytes / 4 + (prompt_bytes % 4 != 0 ? 1 : 0);  // rounded up
  return static_cast<std::int64_t>(std::min<std::size_t>(prompt, kMaxReservation));
}

Verdict unreachable_store_verdict(config::FailMode mode) {
  Verdict v;
  v.store_error = true;
  if (mode == config::FailMode::closed) {
    v.admitted = false;
    v.limit = kStoreUnavailable;
    v.retry_after = std::chrono::seconds(1);
  }
  return v;
}

namespace {

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// OpenAI formats resets like Go durations: "20ms", "1s", "1.5s", "6m0s",
// "1h2m3s". Rounded up to whole milliseconds so a client waiting that long
// never comes back early.
void append_reset(std::string& out, Duration d) {
  const std::int64_t ns = std::max<std::int64_t>(0, d.count());
  const std::int64_t ms = (ns + 999'999) / 1'000'000;
  if (ms == 0) {
    out += "0s";
    return;
  }
  if (ms < 1000) {
    append_int(out, ms);
    out += "ms";
    return;
  }
  const std::int64_t hours = ms / 3'600'000;
  const std::int64_t minutes = ms / 60'000 % 60;
  const std::int64_t secs = ms / 1000 % 60;
  const std::int64_t frac = ms % 1000;
  if (hours > 0) {
    append_int(out, hours);
    out += 'h';
  }
  if (hours > 0 || minutes > 0) {
    append_int(out, minutes);
    out += 'm';
  }
  append_int(out, secs);
  if (frac != 0) {
    char digits[4] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                      static_cast<char>('0' + frac % 10), 0};
    std::size_t n = 3;
    while (digits[n - 1] == '0') --n;
    out += '.';
    out.append(digits, n);
  }
  out += 's';
}

void append_header(std::string& out, std::string_view name, std::int64_t v) {
  out += name;
  out += ": ";
  append_int(out, v);
  out += "\r\n";
}

void append_reset_header(std::string& out, std::string_view name, Duration d) {
  out += name;
  out += ": ";
  append_reset(out, d);
  out += "\r\n";
}

}  // namespace

void append_rate_limit_headers(std::string& out, const Verdict& v) {
  if (v.limit_requests >= 0) {
    append_header(out, "x-ratelimit-limit-requests", v.limit_requests);
    append_header(out, "x-ratelimit-remaining-requests", std::max<std::int64_t>(0, v.remaining_requests));
    append_reset_header(out, "x-ratelimit-reset-requests", v.reset_requests);
  }
  if (v.limit_tokens >= 0) {
    append_header(out, "x-ratelimit-limit-tokens", v.limit_tokens);
    append_header(out, "x-ratelimit-remaining-tokens", std::max<std::int64_t>(0, v.remaining_tokens));
    append_reset_header(out, "x-ratelimit-reset-tokens", v.reset_tokens);
  }
  if (!v.admitted) {
    const std::int64_t ns = std::max<std::int64_t>(0, v.retry_after.count());
    append_header(out, "retry-after", std::max<std::int64_t>(1, (ns + 999'999'999) / 1'000'000'000));
  }
}

}  // namespace llmproxy::ratelimit
