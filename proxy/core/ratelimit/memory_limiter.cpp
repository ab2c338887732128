#include "proxy/core/ratelimit/memory_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace llmproxy::ratelimit {

namespace {

constexpr double kMinuteNs = 60e9;
// Token debt beyond ~3 years is forgotten so the clock arithmetic cannot
// overflow; such a key is blocked for years either way.
constexpr double kMaxDebtNs = 1e17;

// Transparent hash so an existing key is found from a string_view without
// building a std::string (no allocation on the hot path).
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

std::int64_t ns_of(TimePoint t) { return t.time_since_epoch().count(); }

// The tokens a reservation holds, clamped so that a client's absurd
// max_tokens cannot overflow the sum of reservations in flight.
std::int64_t held_tokens(std::int64_t reservation) {
  return std::clamp<std::int64_t>(reservation, 0, kMaxReservation);
}

}  // namespace

struct MemoryLimiter::KeyState {
  std::array<std::int64_t, kMaxKeyRules> tat{};  // GCRA per per-key rule
  std::int64_t token_full_at = 0;                // when the bucket is full again
  std::int64_t reserved = 0;                     // tokens reserved by requests in flight
  std::int64_t in_flight = 0;

  explicit KeyState(std::int64_t now) : token_full_at(now) { tat.fill(now); }
};

// Shards are cache-line aligned so threads working on different shards do not
// fight over one line.
struct alignas(64) MemoryLimiter::Shard {
  std::mutex mu;
  std::unordered_map<std::string, KeyState, KeyHash, std::equal_to<>> keys;
  std::int64_t next_sweep = std::numeric_limits<std::int64_t>::min();
  std::int64_t next_expiry = std::numeric_limits<std::int64_t>::min();
};

struct alignas(64) MemoryLimiter::GlobalShard {
  std::mutex mu;
  std::vector<std::int64_t> tat;  // parallel to global_rules_
};

// What admit() has found so far: the verdict's rejection (the rule that
// waits longest) and the tightest request rule for the headers.
struct MemoryLimiter::Decision {
  bool admitted = true;
  std::string_view limit;
  std::int64_t wait = 0;
  const RequestRule* tight = nullptr;
  std::int64_t remaining = std::numeric_limits<std::int64_t>::max();
  std::int64_t reset = 0;

  void reject(std::string_view name, std::int64_t w) {
    if (admitted || w > wait) {
      limit = name;
      wait = w;
    }
    admitted = false;
  }

  // `tat` is the rule's state after the decision (committed if admitted).
  void offer(const Gcra& g, std::int64_t tat, std::int64_t t) {
    const std::int64_t tat_eff = std::max(tat, t);
    const std::int64_t room = t + g.tolerance + g.emission - tat_eff;
    const std::int64_t rem = room > 0 ? room / g.emission : 0;
    if (rem < remaining) {
      tight = g.rule;
      remaining = rem;
      reset = tat_eff - t;
    }
  }
};

// GCRA (virtual scheduling): admitted iff max(TAT, t) − t ≤ τ; the wait until
// it would be is max(TAT, t) − τ − t.
std::int64_t MemoryLimiter::gcra_wait(const Gcra& g, std::int64_t tat, std::int64_t t) {
  return std::max(tat, t) - g.tolerance - t;
}

MemoryLimiter::MemoryLimiter(LimitSet limits, MemoryLimiterOptions options)
    : limits_(std::move(limits)), options_(options), global_(std::make_unique<GlobalShard>()) {
  for (std::size_t i = 0; i < limits_.rules.size(); ++i) {
    const auto& r = limits_.rules[i];
    if (r.per_second <= 0 || r.burst < 1) throw std::invalid_argument("rate limit rule needs rate > 0, burst ≥ 1");
    (r.scope == Scope::global ? global_rules_ : key_rules_).push_back(Gcra{&r, r.emission_ns(), r.tolerance_ns()});
  }
  has_per_key_ = limits_.has_per_key();
  if (key_rules_.size() > kMaxKeyRules) throw std::invalid_argument("too many per-key rate limit rules");
  if (limits_.tokens_per_minute > 0) ns_per_token_ = kMinuteNs / static_cast<double>(limits_.tokens_per_minute);
  global_->tat.assign(global_rules_.size(), std::numeric_limits<std::int64_t>::min());
  const std::size_t n = std::max<std::size_t>(1, options_.shards);
  per_shard_cap_ = std::max<std::size_t>(1, options_.max_keys / n);
  shards_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

MemoryLimiter::~MemoryLimiter() = default;

MemoryLimiter::Shard& MemoryLimiter::shard_for(std::string_view key) {
  // Mixed so the shard does not correlate with the map's bucket (which uses
  // the low bits of the same hash).
  const std::uint64_t h = KeyHash{}(key) * 0x9e3779b97f4a7c15ULL;
  return *shards_[(h >> 32) % shards_.size()];
}

// Admission looks at the bucket before this request's reservation: the level
// may go negative by one request (limits.h).
void MemoryLimiter::check_key_rules(const KeyState& ks, std::int64_t t, Decision& d) const {
  for (std::size_t j = 0; j < key_rules_.size(); ++j) {
    const std::int64_t w = gcra_wait(key_rules_[j], ks.tat[j], t);
    if (w > 0) d.reject(key_rules_[j].rule->name, w);
  }
  if (limits_.tokens_per_minute > 0) {
    const double used = static_cast<double>(std::max<std::int64_t>(0, ks.token_full_at - t)) +
                        static_cast<double>(ks.reserved) * ns_per_token_;
    if (used >= kMinuteNs) d.reject(kTokensRule, static_cast<std::int64_t>(std::floor(used - kMinuteNs)) + 1);
  }
  if (limits_.max_concurrent > 0 && ks.in_flight >= limits_.max_concurrent) {
    d.reject(kConcurrencyRule, kUnknownRetry.count());
  }
}

void MemoryLimiter::commit_key(KeyState& ks, std::int64_t t, std::int64_t reservation) const {
  for (std::size_t j = 0; j < key_rules_.size(); ++j) {
    ks.tat[j] = std::max(ks.tat[j], t) + key_rules_[j].emission;
  }
  if (limits_.tokens_per_minute > 0) ks.reserved += held_tokens(reservation);
  ++ks.in_flight;
}

void MemoryLimiter::check_global(std::int64_t t, Decision& d, bool commit_if_admitted) {
  if (global_rules_.empty()) return;
  std::lock_guard lock(global_->mu);
  auto& tat = global_->tat;
  for (std::size_t j = 0; j < global_rules_.size(); ++j) {
    const std::int64_t w = gcra_wait(global_rules_[j], tat[j], t);
    if (w > 0) d.reject(global_rules_[j].rule->name, w);
  }
  if (d.admitted && commit_if_admitted) {
    for (std::size_t j = 0; j < global_rules_.size(); ++j) {
      tat[j] = std::max(tat[j], t) + global_rules_[j].emission;
    }
  }
  for (std::size_t j = 0; j < global_rules_.size(); ++j) d.offer(global_rules_[j], tat[j], t);
}

void MemoryLimiter::key_headers(const KeyState& ks, std::int64_t t, Decision& d) const {
  for (std::size_t j = 0; j < key_rules_.size(); ++j) d.offer(key_rules_[j], ks.tat[j], t);
}

// Erases the shard's idle keys: those whose state equals a fresh one at t.
void MemoryLimiter::erase_idle(Shard& s, std::int64_t t) const {
  const std::size_t nrules = key_rules_.size();
  std::erase_if(s.keys, [&](const auto& kv) {
    const KeyState& ks = kv.second;
    if (ks.in_flight != 0 || ks.reserved != 0 || ks.token_full_at > t) return false;
    for (std::size_t j = 0; j < nrules; ++j) {
      if (ks.tat[j] > t) return false;
    }
    return true;
  });
}

bool MemoryLimiter::sweep(Shard& s, std::int64_t t) {
  if (t < s.next_sweep) return false;
  erase_idle(s, t);
  if (s.keys.size() < per_shard_cap_) return true;
  s.next_sweep = t + options_.sweep_interval.count();
  return false;
}

Verdict MemoryLimiter::admit(std::string_view key, std::int64_t reservation, TimePoint now) {
  Verdict v;
  if (limits_.empty()) return v;
  const std::int64_t t = ns_of(now);
  Decision d;

  if (!has_per_key_) {
    check_global(t, d, true);
  } else {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mu);
    if (options_.idle_ttl.count() > 0 && t >= s.next_expiry) {
      erase_idle(s, t);
      s.next_expiry = t + options_.idle_ttl.count();
    }
    auto it = s.keys.find(key);
    if (it == s.keys.end() && s.keys.size() >= per_shard_cap_ && !sweep(s, t)) {
      v.admitted = false;
      v.limit = kKeyTableFull;
      v.retry_after = kUnknownRetry;
      return v;
    }
    // A new key is decided on a fresh state and stored only when admitted,
    // so rejected requests never create state.
    const KeyState fresh(t);
    const KeyState& current = it == s.keys.end() ? fresh : it->second;
    check_key_rules(current, t, d);
    check_global(t, d, true);
    const KeyState* after = &current;
    if (d.admitted) {
      if (it == s.keys.end()) it = s.keys.emplace(std::string(key), fresh).first;
      commit_key(it->second, t, reservation);
      after = &it->second;
    }
    key_headers(*after, t, d);
    if (limits_.tokens_per_minute > 0) {
      const double used = static_cast<double>(std::max<std::int64_t>(0, after->token_full_at - t)) +
                          static_cast<double>(after->reserved) * ns_per_token_;
      const double left = (kMinuteNs - used) / ns_per_token_;
      v.limit_tokens = limits_.tokens_per_minute;
      v.remaining_tokens = left > 0 ? static_cast<std::int64_t>(std::floor(left)) : 0;
      v.reset_tokens = Duration(static_cast<std::int64_t>(std::ceil(std::max(0.0, used))));
    }
  }

  v.admitted = d.admitted;
  if (!d.admitted) {
    v.limit = d.limit;
    v.retry_after = Duration(d.wait);
  }
  if (d.tight != nullptr) {
    v.limit_requests = d.tight->limit;
    v.remaining_requests = d.remaining;
    v.reset_requests = Duration(d.reset);
  }
  return v;
}

void MemoryLimiter::finish(std::string_view key, std::int64_t reservation, std::int64_t actual, TimePoint now) {
  if (!has_per_key_) return;
  const std::int64_t t = ns_of(now);
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.keys.find(key);
  if (it == s.keys.end()) return;  // never admitted (a busy key is never evicted)
  KeyState& ks = it->second;
  if (ks.in_flight > 0) --ks.in_flight;
  if (limits_.tokens_per_minute > 0) {
    const std::int64_t held = held_tokens(reservation);
    ks.reserved = std::max<std::int64_t>(0, ks.reserved - held);
    const std::int64_t charged = actual >= 0 ? std::min(actual, kMaxReservation) : held;
    // Rounded up (stricter by under a nanosecond's worth of tokens); capped so
    // an absurd usage figure cannot overflow the clock arithmetic.
    const double ns = std::min(std::ceil(static_cast<double>(charged) * ns_per_token_), kMaxDebtNs);
    const std::int64_t full_at = std::max(ks.token_full_at, t) + static_cast<std::int64_t>(ns);
    ks.token_full_at = std::min(full_at, t + static_cast<std::int64_t>(kMaxDebtNs));
  }
}

std::size_t MemoryLimiter::key_count() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->keys.size();
  }
  return n;
}

}  // namespace llmproxy::ratelimit
