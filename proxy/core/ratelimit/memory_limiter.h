// The in-process rate limiter: enforces a LimitSet (limits.h) for one
// process, shared by all its worker threads (the memory store wraps it; the
// simulator shares one between simulated gateways to model a shared store).
//
// State: GCRA theoretical arrival times (TAT) for the global rules in one
// shard; per key, the TATs of the per-key rules, the token bucket and the
// in-flight count, in N mutex-protected shards chosen by the key's hash.
// admit() locks the key's shard and then (only when global rules exist) the
// global shard, always in that order, checks every rule and commits only if
// every rule admits, so a rejected request consumes nothing.
//
// Token bucket (tokens_per_minute = C per key): kept as `full_at`, the time at
// which the bucket would be full again, so refilling costs nothing: the level
// at t is C − max(0, full_at − t)/ns_per_token. Reservations of in-flight
// requests are held apart (`reserved`); a request is admitted while
// level − reserved > 0, and finish() charges the actual usage (the
// reservation when unknown) at the time usage became known. As long as a
// request uses at most what it reserved, the tokens charged over any window W
// stay ≤ C + C/60·W + one request's tokens.
//
// Bounded memory: at most max_keys per-key states (split evenly over the
// shards). A key is idle when its state equals a fresh one (every TAT and
// full_at ≤ now, nothing reserved or in flight); evicting an idle key
// therefore never loosens a limit. When a new key finds its shard full, the
// shard's idle keys are swept out; if none is idle the new key is rejected
// (limit "per_key key table full", Retry-After 1s): a busy key is never
// evicted, and memory stays bounded. A sweep that frees nothing is not
// retried for sweep_interval, so a table full of busy keys costs O(1) per
// request.
//
// Idle expiry (idle_ttl > 0, a memory cache's `ttl`): besides the sweep on a
// full shard, a shard's idle keys are swept on the first request it sees at
// least idle_ttl after its previous expiry sweep. A key idle for idle_ttl
// therefore holds no memory once its shard has seen one more request; since
// only idle keys go, expiry never changes a verdict (the idle-expiry
// property checks exactly that). It costs one comparison per request and one
// pass over a shard per idle_ttl.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "proxy/core/ratelimit/limits.h"
#include "proxy/core/time.h"

namespace llmproxy::ratelimit {

struct MemoryLimiterOptions {
  std::size_t shards = 16;
  std::size_t max_keys = 1'000'000;
  Duration sweep_interval{std::chrono::milliseconds(100)};
  Duration idle_ttl{0};  // 0: idle keys go only when their shard is full
};

// The limit named in a verdict when a new key cannot get a state slot.
inline constexpr std::string_view kKeyTableFull = "per_key key table full";
inline constexpr std::string_view kTokensRule = "per_key tokens_per_minute";
inline constexpr std::string_view kConcurrencyRule = "per_key max_concurrent";
// Retry-After for rejections whose end depends on other requests finishing
// (max_concurrent, a full key table): a guess, not a promise.
inline constexpr Duration kUnknownRetry{std::chrono::seconds(1)};

class MemoryLimiter {
 public:
  // At most kMaxKeyRules per-key request rules (limits_from makes two);
  // more throws std::invalid_argument.
  static constexpr std::size_t kMaxKeyRules = 4;

  explicit MemoryLimiter(LimitSet limits, MemoryLimiterOptions options = {});
  ~MemoryLimiter();
  MemoryLimiter(const MemoryLimiter&) = delete;
  MemoryLimiter& operator=(const MemoryLimiter&) = delete;

  // Decides one request of `key` arriving at `now` that reserves
  // `reservation` tokens. Admitted requests must be followed by exactly one
  // finish() with the same key and reservation.
  Verdict admit(std::string_view key, std::int64_t reservation, TimePoint now);

  // The request ended: releases its concurrency slot and settles its tokens
  // (`actual` < 0: usage unknown, the reservation is charged).
  void finish(std::string_view key, std::int64_t reservation, std::int64_t actual, TimePoint now);

  const LimitSet& limits() const { return limits_; }
  const MemoryLimiterOptions& options() const { return options_; }
  // Per-key states currently held (for tests and metrics).
  std::size_t key_count() const;

 private:
  struct KeyState;
  struct Shard;
  struct GlobalShard;
  struct Decision;

  Shard& shard_for(std::string_view key);
  void check_key_rules(const KeyState& ks, std::int64_t t, Decision& d) const;
  void commit_key(KeyState& ks, std::int64_t t, std::int64_t reservation) const;
  void check_global(std::int64_t t, Decision& d, bool commit_if_admitted);
  void key_headers(const KeyState& ks, std::int64_t t, Decision& d) const;
  bool sweep(Shard& s, std::int64_t t);
  void erase_idle(Shard& s, std::int64_t t) const;

  LimitSet limits_;
  MemoryLimiterOptions options_;
  // A request rule with its GCRA parameters computed once.
  struct Gcra {
    const RequestRule* rule;
    std::int64_t emission;   // T
    std::int64_t tolerance;  // τ
  };
  static std::int64_t gcra_wait(const Gcra& g, std::int64_t tat, std::int64_t t);

  std::vector<Gcra> global_rules_;
  std::vector<Gcra> key_rules_;
  bool has_per_key_ = false;
  double ns_per_token_ = 0;                // 60 s / tokens_per_minute
  std::size_t per_shard_cap_ = 1;
  std::unique_ptr<GlobalShard> global_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace llmproxy::ratelimit
