#include "proxy/stores/redis/redis_limiter_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "proxy/core/log/log.h"
#include "proxy/core/ratelimit/memory_limiter.h"  // the shared rule names (kTokensRule, …)
#include "proxy/stores/redis/limiter_scripts.h"

namespace llmproxy::stores::redis {
namespace {

namespace rl = llmproxy::ratelimit;


std::int64_t ceil_us(std::int64_t ns) { return (ns + 999) / 1000; }

Duration us(std::int64_t v) { return std::chrono::microseconds(v); }

void append_hex(std::string& out, const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xf];
  }
}

}  // namespace

RedisLimiterStore::RedisLimiterStore(env::Env& env, ClientConfig redis, rl::LimitSet limits,
                                     RedisLimiterOptions options)
    : RedisLimiterStore(env, std::make_shared<RedisClient>(env, std::move(redis)), std::move(limits), options) {}

RedisLimiterStore::RedisLimiterStore(env::Env& env, std::shared_ptr<RedisClient> client, rl::LimitSet limits,
                                     RedisLimiterOptions options)
    : client_(std::move(client)),
      limits_(std::move(limits)),
      options_(options),
      admit_script_(std::string(kAdmitScript)),
      finish_script_(std::string(kFinishScript)),
      keeps_slots_(limits_.tokens_per_minute > 0 || limits_.max_concurrent > 0),
      global_key_(options_.key_prefix + "g") {
  // The arguments that never change, formatted once.
  fixed_args_.push_back(std::to_string(limits_.rules.size()));
  for (std::size_t i = 0; i < limits_.rules.size(); ++i) {
    const rl::RequestRule& r = limits_.rules[i];
    const std::int64_t e = std::max<std::int64_t>(1, ceil_us(r.emission_ns()));
    fixed_args_.push_back(r.name.empty() ? "rule " + std::to_string(i) : std::string(r.name));
    fixed_args_.push_back(r.scope == rl::Scope::global ? "g" : "k");
    fixed_args_.push_back(std::to_string(e));
    fixed_args_.push_back(std::to_string((r.burst - 1) * e));
  }
  fixed_args_.push_back(std::to_string(limits_.tokens_per_minute));
  max_concurrent_arg_ = std::to_string(limits_.max_concurrent);
  const auto ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.slot_ttl);
  slot_ttl_arg_ = std::to_string(std::max<std::int64_t>(1, ttl_ms.count()));
  const std::uint64_t id = env.rng()();
  char buf[16];
  const auto hex = std::to_chars(buf, buf + sizeof buf, id, 16);
  gateway_id_.assign(buf, hex.ptr);
}

// API keys never appear in Redis: a key's state lives under a hash of it.
std::string RedisLimiterStore::key_hash(std::string_view api_key) const {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(api_key.data()), api_key.size(), md);
  std::string out = options_.key_prefix;
  out += "k:";
  append_hex(out, md, 16);
  return out;
}

std::string RedisLimiterStore::member(std::uint64_t seq, std::int64_t reservation) const {
  std::string m = gateway_id_;
  m += '-';
  m += std::to_string(seq);
  m += ':';
  m += std::to_string(std::max<std::int64_t>(0, reservation));
  return m;
}

rl::Verdict RedisLimiterStore::on_error(error_code ec, std::string_view detail) {
  ++errors_;
  const bool open = limits_.fail_mode == config::FailMode::open;
  if (healthy_) {
    healthy_ = false;
    log::warn("rate limit store unreachable", {{"store", "redis"},
                                               {"error", ec.message()},
                                               {"detail", std::string(detail)},
                                               {"fail_mode", open ? "open" : "closed"}});
  }
  rl::Verdict v;
  v.store_error = true;
  if (!open) {
    v.admitted = false;
    v.limit = kStoreUnavailable;
    v.retry_after = options_.closed_retry_after;
  }
  return v;
}

void RedisLimiterStore::on_success() {
  if (healthy_) return;
  healthy_ = true;
  log::info("rate limit store reachable again", {{"store", "redis"}});
}

env::Task<rl::Verdict> RedisLimiterStore::admit(const AdmitRequest& req) {
  if (limits_.empty()) co_return rl::Verdict{};
  const std::string hash = key_hash(req.key);
  const std::string slots = hash + ":s";
  const std::int64_t reservation = std::max<std::int64_t>(0, req.token_reservation);
  const std::uint64_t seq = next_seq_++;
  const std::string slot = keeps_slots_ ? member(seq, reservation) : std::string();
  const std::string reservation_arg = std::to_string(reservation);

  const std::array<std::string_view, 3> keys = {global_key_, hash, slots};
  std::vector<std::string_view> args(fixed_args_.begin(), fixed_args_.end());
  args.push_back(reservation_arg);
  args.push_back(max_concurrent_arg_);
  args.push_back(slot_ttl_arg_);
  args.push_back(slot);

  error_code ec;
  const Reply reply = co_await client_->eval(admit_script_, keys, args, ec);
  if (ec) co_return on_error(ec, reply.str);
  if (!reply.is_array() || reply.elements.size() != kAdmitReplySize ||
      !std::all_of(reply.elements.begin(), reply.elements.end(),
                   [](const Reply& r) { return r.is_integer(); })) {
    co_return on_error(errc::bad_reply, reply.describe());
  }
  on_success();

  auto at = [&](AdmitReply i) { return reply.elements[static_cast<std::size_t>(i)].integer; };
  const std::int64_t n = static_cast<std::int64_t>(limits_.rules.size());
  rl::Verdict v;
  v.admitted = at(kAdmitted) == 1;
  if (!v.admitted) {
    const std::int64_t by = at(kRejectedBy);
    if (by >= 1 && by <= n) v.limit = limits_.rules[static_cast<std::size_t>(by - 1)].name;
    else if (by == n + 1) v.limit = rl::kTokensRule;
    else v.limit = rl::kConcurrencyRule;
    v.retry_after = us(at(kWaitUs));
  }
  const std::int64_t tight = at(kTightRule);
  if (tight >= 1 && tight <= n) {
    v.limit_requests = limits_.rules[static_cast<std::size_t>(tight - 1)].limit;
    v.remaining_requests = at(kRemainingRequests);
    v.reset_requests = us(at(kResetRequestsUs));
  }
  if (limits_.tokens_per_minute > 0) {
    v.limit_tokens = limits_.tokens_per_minute;
    v.remaining_tokens = at(kRemainingTokens);
    v.reset_tokens = us(at(kResetTokensUs));
  }
  if (v.admitted && keeps_slots_) held_[hash].push_back({seq, reservation});
  co_return v;
}

env::Task<void> RedisLimiterStore::finish(const FinishRequest& req) {
  if (!keeps_slots_) co_return;  // request rules are settled at admission
  const std::string hash = key_hash(req.key);
  std::string slot;
  std::int64_t reservation = std::max<std::int64_t>(0, req.token_reservation);
  if (auto it = held_.find(hash); it != held_.end()) {
    // Any slot of the key frees the same capacity, but the reservation must
    // be the one this request made: take a slot with that reservation.
    auto& slots_held = it->second;
    auto pick = std::find_if(slots_held.rbegin(), slots_held.rend(),
                             [&](const Slot& s) { return s.reservation == reservation; });
    const auto idx = pick == slots_held.rend()
                         ? slots_held.size() - 1
                         : static_cast<std::size_t>(slots_held.rend() - pick) - 1;
    const Slot s = slots_held[idx];
    slots_held[idx] = slots_held.back();
    slots_held.pop_back();
    if (slots_held.empty()) held_.erase(it);
    slot = member(s.seq, s.reservation);
    reservation = s.reservation;
  } else if (limits_.tokens_per_minute == 0) {
    co_return;  // admitted without the store (it failed open): no slot, no tokens
  }
  // Without a recorded slot (admission failed open) nothing was reserved in
  // Redis: the usage is simply charged.
  const std::string slots = hash + ":s";
  const std::string tpm = std::to_string(limits_.tokens_per_minute);
  const std::string res = std::to_string(reservation);
  const std::string actual = std::to_string(req.actual_tokens < 0 ? -1 : req.actual_tokens);
  const std::array<std::string_view, 2> keys = {hash, slots};
  const std::array<std::string_view, 5> args = {tpm, res, actual, slot, slot_ttl_arg_};

  error_code ec;
  const Reply reply = co_await client_->eval(finish_script_, keys, args, ec);
  if (ec) {
    on_error(ec, reply.str);
    co_return;
  }
  on_success();
}

}  // namespace llmproxy::stores::redis
