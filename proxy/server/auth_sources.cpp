#include "proxy/server/auth_sources.h"

#include "proxy/modules/auth/builtin_source.h"
#include "proxy/modules/auth/database_source.h"
#include "proxy/stores/sql/sql_pool.h"

namespace llmproxy::server {
namespace {

std::string at(const auth::Authenticator& auth, std::size_t i) {
  return "auth.pipeline[" + std::to_string(auth.pipeline_index(i)) + "]";
}

// The storage entry a database provider names (checked by check-config).
const config::DatabaseConfig* database_of(const config::Config& c, const config::AuthProvider& p) {
  return config::resolve_database(c, p.database.storage);
}

// The shared pool of a database provider, or null.
std::shared_ptr<stores::sql::SqlPool> pool_of(const config::Config& c, const config::AuthProvider& p,
                                              const AuthShared& shared) {
  const auto* db = database_of(c, p);
  if (!db) return nullptr;
  const auto it = shared.databases.find(db->name);
  return it == shared.databases.end() ? nullptr : it->second;
}

}  // namespace

std::string open_auth_databases(const config::Config& c, const auth::Authenticator& auth, AuthShared& shared) {
  for (std::size_t i = 0; i < auth.providers(); ++i) {
    if (auth.source(i) != auth::ProviderSource::store) continue;
    const auto& p = c.auth.pipeline[auth.pipeline_index(i)];
    if (p.type != config::ProviderType::database) continue;
    const auto* db = database_of(c, p);
    if (!db || shared.databases.count(db->name)) continue;  // check_auth_sources names a missing one
    std::string error;
    std::shared_ptr<stores::sql::SqlPool> pool = stores::sql::SqlPool::open(*db, error);
    if (!pool) return "storage.databases '" + db->name + "' (for " + at(auth, i) + "): " + error;
    shared.databases.emplace(db->name, std::move(pool));
  }
  // Each table and its columns, asked once now: a misspelt name stops the
  // start (or the reload), not every request after it.
  for (std::size_t i = 0; i < auth.providers(); ++i) {
    if (auth.source(i) != auth::ProviderSource::store) continue;
    const auto& p = c.auth.pipeline[auth.pipeline_index(i)];
    if (p.type != config::ProviderType::database) continue;
    const auto pool = pool_of(c, p, shared);
    std::string error;
    const auto sql = pool ? modules::auth::DatabaseStatements::build(p.database, pool->dialect(), error) : nullptr;
    if (!sql) continue;  // check_auth_sources says why
    const stores::sql::Result r = pool->run_blocking({stores::sql::Statement{sql->probe, {}}});
    if (!r.ok()) return at(auth, i) + ".database: table '" + p.database.table + "' in '" + pool->name() + "': " + r.error;
  }
  return {};
}

std::string check_auth_sources(const config::Config& c, const auth::Authenticator& auth, const AuthShared& shared) {
  for (std::size_t i = 0; i < auth.providers(); ++i) {
    if (auth.source(i) != auth::ProviderSource::store) continue;
    const auto& p = c.auth.pipeline[auth.pipeline_index(i)];
    switch (p.type) {
      case config::ProviderType::builtin:
        if (!shared.admin_keys)
          return at(auth, i) + ": the builtin provider reads the admin key store; set admin.enabled: true";
        break;
      case config::ProviderType::database: {
        const auto pool = pool_of(c, p, shared);
        if (!pool)
          return at(auth, i) + ".database.storage: the database '" + p.database.storage +
                 "' is not open (the simulator runs no database)";
        std::string error;
        if (!modules::auth::DatabaseStatements::build(p.database, pool->dialect(), error))
          return at(auth, i) + ".database." + error;
        break;
      }
      default:
        return at(auth, i) + ".type: " + std::string(config::enum_name(p.type)) + " is not built yet";
    }
  }
  return {};
}

modules::auth::StoreProviders auth_sources(const config::Config& c, const auth::Authenticator& auth,
                                           const AuthShared& shared, env::Env& env) {
  modules::auth::StoreProviders out;
  out.env = &env;
  out.cache_ttl = c.auth.cache_ttl;
  out.sources.resize(auth.providers());
  for (std::size_t i = 0; i < auth.providers(); ++i) {
    if (auth.source(i) != auth::ProviderSource::store) continue;
    const auto& p = c.auth.pipeline[auth.pipeline_index(i)];
    switch (p.type) {
      case config::ProviderType::builtin:
        out.sources[i] = std::make_shared<modules::auth::BuiltinSource>(shared.admin_keys);
        break;
      case config::ProviderType::database: {
        auto pool = pool_of(c, p, shared);
        std::string error;
        std::shared_ptr<const modules::auth::DatabaseStatements> sql =
            modules::auth::DatabaseStatements::build(p.database, pool->dialect(), error);
        out.sources[i] = std::make_shared<modules::auth::DatabaseSource>(std::move(pool), std::move(sql), env);
        break;
      }
      default:
        break;  // check_auth_sources refused it
    }
  }
  return out;
}

}  // namespace llmproxy::server
