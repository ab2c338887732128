// A static provider whose keys have quotas (a counted table,
// proxy/core/auth/authenticator.h; auth.pipeline static entries and the
// top-level api_keys): each key and its rules are the config's, what it
// used is counted in the store of static keys' usage
// (stores::keys::KeyRows::static_key_usage, in the database of the admin
// key store: admin.storage, else the SQLite file admin.db_path). Every
// instance on that database counts the same tokens, and the count outlives
// restarts.
//
// lookup():
//   - a key the config does not list: unknown;
//   - a key without a quota: its config record, no store call;
//   - a key with a quota: its config record with the count of its row
//     (used_quota, in the period that began at quota_reset_at, else
//     created_at). No row yet: the key has used nothing through a gateway,
//     so the count is the config's used_quota, in the current period. A
//     row that cannot be read (a negative count) fails the lookup.
// add_usage(): adds to the key's row; when there is none yet it is made
// first, holding the config's used_quota (made once: instances racing to
// make it all add to the one row).
// So the config's used_quota seeds the count once; a later edit of it
// changes nothing, the row counts (docs/auth.md says how to start a key's
// count again).
#pragma once

#include <memory>

#include "proxy/core/auth/authenticator.h"
#include "proxy/modules/auth/key_source.h"

namespace llmproxy::modules::auth {

class StaticSource final : public KeySource {
 public:
  StaticSource(std::shared_ptr<const llmproxy::auth::Authenticator> authenticator, std::size_t provider,
               std::shared_ptr<stores::keys::KeyStore> usage, env::Env& env);
  env::Task<SourceAnswer> lookup(const LookupRequest& req) override;
  // Only keys with a quota are counted (no row for the others).
  bool counts(const llmproxy::auth::KeyRecord& key) const override { return key.quota.limited(); }
  env::Task<stores::keys::Status> add_usage(const std::string& store_ref, std::int64_t tokens,
                                            std::optional<std::int64_t> period_start) override;

 private:
  std::shared_ptr<const llmproxy::auth::Authenticator> auth_;
  std::size_t provider_;
  std::shared_ptr<stores::keys::KeyStore> usage_;
  env::Env& env_;
};

}  // namespace llmproxy::modules::auth
