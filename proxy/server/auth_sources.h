// The auth module's store providers (auth.pipeline entries of type builtin,
// redis, database, webhook, and static providers whose keys have quotas;
// proxy/modules/auth/key_source.h) as the
// composition root builds them: checked once when the gateway is built,
// then each worker's own sources (its Redis client, its webhook client)
// made from what the process shares (the admin key store, database pools).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "proxy/core/auth/authenticator.h"
#include "proxy/core/config/config.h"
#include "proxy/env/env.h"
#include "proxy/modules/auth/auth_filter.h"
#include "proxy/stores/keys/key_store.h"

namespace llmproxy::stores::sql {
class SqlPool;
}

namespace llmproxy::stores::redis {
class SharedClients;
}

namespace llmproxy::modules::auth {
struct DatabaseStatements;
}

namespace llmproxy::server {

// What the store providers share across workers, opened when the gateway
// is built (a failure stops the start or the reload).
struct AuthShared {
  std::shared_ptr<stores::keys::KeyStore> admin_keys;  // admin.enabled
  // What static keys with a quota used (Authenticator::counts_static_usage),
  // in the admin key store's database.
  std::shared_ptr<stores::keys::KeyStore> static_usage;
  // The storage.databases entries database providers name, by entry name
  // (two providers on one entry share its pool).
  std::map<std::string, std::shared_ptr<stores::sql::SqlPool>> databases;
  // Each database provider's statements, by provider index: built once
  // for its pool's dialect, shared by the workers' sources.
  std::map<std::size_t, std::shared_ptr<const modules::auth::DatabaseStatements>> statements;
  // In the simulator the stores other programs run (Redis, a database, a
  // webhook service) are not there: those providers are refused, so the
  // simulated gateway leaves auth out and says so (gateway.h).
  bool simulated = false;
};

// Opens the pool of every storage.databases entry an auth database provider
// names, once, into `shared`: "" or the reason one cannot be opened, naming
// the entry. Not in the simulator (no threads there): check_auth_sources
// then refuses those providers.
std::string open_auth_databases(const config::Config& c, const auth::Authenticator& auth, AuthShared& shared);

// "" when every store provider of `auth` can be built from `shared`, else
// the first reason one cannot, naming the provider's config key.
std::string check_auth_sources(const config::Config& c, const auth::Authenticator& auth, const AuthShared& shared);

// Worker sources by provider index (null for table providers); each
// provider passed check_auth_sources. Redis providers take their client
// from the worker's `redis` (shared with its other modules on that cache).
modules::auth::StoreProviders auth_sources(const config::Config& c,
                                           const std::shared_ptr<const auth::Authenticator>& auth,
                                           const AuthShared& shared, env::Env& env,
                                           stores::redis::SharedClients& redis);

}  // namespace llmproxy::server
