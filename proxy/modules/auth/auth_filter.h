// The auth module (auth, api_keys; BEHAVIOR §7, docs/auth.md): the pure
// decision (proxy/core/auth/authenticator.h) run as a pipeline filter at the
// auth phase, for every proxied request:
//   - a path under auth.skip_paths goes on as anonymous;
//   - no key in auth.header_names → 401 invalid_api_key (with
//     WWW-Authenticate: Bearer), as is a key no provider knows;
//   - a known key the decision refuses → its 403 (key_disabled,
//     key_expired, key_not_yet_valid, ip_not_allowed) or 429
//     (quota_exceeded);
//   - a key a store provider could not look up (the store failed) → 503
//     auth_unavailable: neither let in nor told it is wrong;
//   - an allowed key becomes Exchange::caller (the per-key rate limits
//     count on it).
// The client address is the socket's peer, or behind auth.trusted_proxies
// the one X-Forwarded-For names (proxy/core/auth/forwarded_for.h).
//
// Table providers (static, api_keys): one header scan, one SHA-256, one
// hash-table probe per provider; nothing allocated, no suspension.
// The builtin provider (the admin key store): the answer comes from this
// worker's KeyCache (auth.cache_ttl, both "known" and "unknown"), else from
// one store lookup that fills it. Its keys' token use is charged at the
// request's end to the worker's UsageLedger, which writes it to the store
// and feeds the quota check (quota.h) what the cached record lacks.
#pragma once

#include <memory>
#include <optional>

#include "proxy/core/auth/authenticator.h"
#include "proxy/core/auth/key_cache.h"
#include "proxy/modules/auth/usage_ledger.h"
#include "proxy/shell/pipeline.h"

namespace llmproxy::modules::auth {

// What the builtin provider reads; needed when the authenticator uses it.
struct BuiltinKeys {
  env::Env* env = nullptr;
  std::shared_ptr<stores::keys::KeyStore> store;
  Duration cache_ttl{};
};

class AuthFilter final : public shell::Filter {
 public:
  explicit AuthFilter(std::shared_ptr<const llmproxy::auth::Authenticator> authenticator,
                      BuiltinKeys builtin = {});
  shell::FilterPhase phase() const override { return shell::FilterPhase::auth; }
  env::Task<shell::FilterVerdict> on_request(shell::Exchange& ex) override;
  env::Task<void> on_end(shell::Exchange& ex) override;

  // The decision without the coroutine when every provider is a table (for
  // the benchmark and tests): sets ex.caller, returns the verdict.
  shell::FilterVerdict judge(shell::Exchange& ex) const;

  const llmproxy::auth::KeyCache& cache() const { return cache_; }
  const std::shared_ptr<UsageLedger>& ledger() const { return ledger_; }

 private:
  struct StoreAnswer {
    std::shared_ptr<const llmproxy::auth::KeyRecord> record;  // null: the store does not know the key
    std::int64_t mark = 0;
  };
  // nullopt: the store failed (logged).
  env::Task<std::optional<StoreAnswer>> ask_builtin(const llmproxy::auth::KeyHash& hash);
  std::optional<shell::FilterVerdict> before_providers(shell::Exchange& ex, std::string_view& key) const;
  env::Task<shell::FilterVerdict> judge_with_stores(shell::Exchange& ex);
  void warn_store(std::string_view what, std::string_view error);

  std::shared_ptr<const llmproxy::auth::Authenticator> auth_;
  BuiltinKeys builtin_;
  llmproxy::auth::KeyCache cache_;
  std::shared_ptr<UsageLedger> ledger_;
  TimePoint quiet_until_{};  // store warnings: at most one per kWarnEvery
};

}  // namespace llmproxy::modules::auth
