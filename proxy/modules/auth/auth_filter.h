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
// Store providers (key_source.h: builtin, redis, database, webhook): the
// answer comes from this worker's KeyCache for that provider (auth.cache_ttl,
// both "known" and "unknown"), else from one lookup that fills it. Their
// keys' token use is charged at the request's end to the provider's
// UsageLedger, which writes it to the store and feeds the quota check
// (quota.h) what the cached record lacks.
// With auth.quota_check `exact` (the default) a cached record of a key with
// a quota is not enough: the key is read from its store again on every
// request (one store round trip), so a quota crossed through any worker of
// any instance is seen by the next request everywhere. If that read fails,
// the cached record decides (as for any cached key while the store is
// down) and the failure is logged.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "proxy/core/auth/authenticator.h"
#include "proxy/core/auth/key_cache.h"
#include "proxy/modules/auth/key_source.h"
#include "proxy/modules/auth/usage_ledger.h"
#include "proxy/shell/pipeline.h"

namespace llmproxy::modules::auth {

// What the store providers read; needed when the authenticator has any.
struct StoreProviders {
  env::Env* env = nullptr;
  Duration cache_ttl{};
  // By the authenticator's provider index: each store provider's source
  // (this worker's); null for table providers.
  std::vector<std::shared_ptr<KeySource>> sources;
  config::QuotaCheck quota_check = config::QuotaCheck::exact;
};

class AuthFilter final : public shell::Filter {
 public:
  explicit AuthFilter(std::shared_ptr<const llmproxy::auth::Authenticator> authenticator,
                      StoreProviders stores = {});
  shell::FilterPhase phase() const override { return shell::FilterPhase::auth; }
  env::Task<shell::FilterVerdict> on_request(shell::Exchange& ex) override;
  env::Task<void> on_end(shell::Exchange& ex) override;
  // Each store's connections close once its ledger has no write running.
  void close() override;

  // The decision without the coroutine when every provider is a table (for
  // the benchmark and tests): sets ex.caller, returns the verdict.
  shell::FilterVerdict judge(shell::Exchange& ex) const;

  // Store provider i's cache and ledger (null ledger: it keeps no usage).
  const llmproxy::auth::KeyCache& cache(std::size_t i) const { return stores_[i].cache; }
  const std::shared_ptr<UsageLedger>& ledger(std::size_t i) const { return stores_[i].ledger; }

 private:
  struct Store {
    std::shared_ptr<KeySource> source;  // null: a table provider
    llmproxy::auth::KeyCache cache;
    std::shared_ptr<UsageLedger> ledger;
  };
  struct StoreAnswer {
    std::shared_ptr<const llmproxy::auth::KeyRecord> record;  // null: the store does not know the key
    std::int64_t mark = 0;
  };
  // nullopt: the store failed (logged).
  env::Task<std::optional<StoreAnswer>> ask(std::size_t i, const LookupRequest& req);
  std::optional<shell::FilterVerdict> before_providers(shell::Exchange& ex, std::string_view& key) const;
  env::Task<shell::FilterVerdict> judge_with_stores(shell::Exchange& ex);
  void warn_store(std::string_view provider, std::string_view error);

  std::shared_ptr<const llmproxy::auth::Authenticator> auth_;
  env::Env* env_ = nullptr;
  std::vector<Store> stores_;  // by provider index
  bool exact_quota_ = true;    // auth.quota_check == exact
  TimePoint quiet_until_{};  // store warnings: at most one per kWarnEvery
};

}  // namespace llmproxy::modules::auth
