#include "proxy/server/auth_sources.h"

#include "proxy/modules/auth/builtin_source.h"
#include "proxy/modules/auth/database_source.h"
#include "proxy/modules/auth/redis_source.h"
#include "proxy/modules/auth/static_source.h"
#include "proxy/modules/auth/webhook_source.h"
#include "proxy/stores/redis/shared_clients.h"
#include "proxy/stores/sql/sql_pool.h"

namespace llmproxy::server {
namespace {

std::string at(const auth::Authenticator& auth, std::size_t i) {
  if (auth.pipeline_index(i) == static_cast<std::size_t>(-1)) return "api_keys";
  return "auth.pipeline[" + std::to_string(auth.pipeline_index(i)) + "]";
}

// The auth.pipeline entry of provider i when it is a store of its own
// (builtin, redis, database, webhook); null for tables, counted ones
// included (their store is AuthShared::static_usage).
const config::AuthProvider* store_entry(const config::Config& c, const auth::Authenticator& auth, std::size_t i) {
  if (auth.source(i) != auth::ProviderSource::store || auth.counted(i)) return nullptr;
  return &c.auth.pipeline[auth.pipeline_index(i)];
}

// The Redis client settings of a redis provider's storage.caches entry;
// "" in `why` when they are usable.
stores::redis::ClientConfig redis_client_of(const config::Config& c, const config::RedisProvider& r, std::string& why) {
  const config::CacheConfig* cache = config::resolve_cache(c, r.storage);
  if (!cache || cache->driver != config::CacheDriver::redis) {
    why = "the redis provider needs a storage.caches entry with driver redis ('" + r.storage + "')";
    return {};
  }
  env::error_code ec;
  auto cfg = stores::redis::ClientConfig::from(*cache, ec);
  if (ec) why = "storage.caches '" + cache->name + "': " + ec.message();
  return cfg;
}

// auth.header_names: the webhook leaves them out of the request it describes.
std::vector<std::string> key_header_names(const auth::Authenticator& auth) {
  std::vector<std::string> out;
  for (const auto& h : auth.key_headers()) out.push_back(h.name);
  return out;
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
    const auto* entry = store_entry(c, auth, i);
    if (!entry || entry->type != config::ProviderType::database) continue;
    const auto& p = *entry;
    const auto* db = database_of(c, p);
    if (!db || shared.databases.count(db->name)) continue;  // check_auth_sources names a missing one
    std::string error;
    std::shared_ptr<stores::sql::SqlPool> pool = stores::sql::SqlPool::open(*db, error);
    if (!pool) return "storage.databases '" + db->name + "' (for " + at(auth, i) + "): " + error;
    shared.databases.emplace(db->name, std::move(pool));
  }
  // Each provider's statements, built once; each table and its columns,
  // asked once now: a misspelt name stops the start (or the reload), not
  // every request after it.
  for (std::size_t i = 0; i < auth.providers(); ++i) {
    const auto* entry = store_entry(c, auth, i);
    if (!entry || entry->type != config::ProviderType::database) continue;
    const auto& p = *entry;
    const auto pool = pool_of(c, p, shared);
    if (!pool) continue;  // check_auth_sources says why
    std::string error;
    std::shared_ptr<const modules::auth::DatabaseStatements> sql =
        modules::auth::DatabaseStatements::build(p.database, pool->dialect(), error);
    if (!sql) return at(auth, i) + ".database." + error;
    const stores::sql::Result r = pool->run_blocking({stores::sql::Statement{sql->probe, {}}});
    if (!r.ok()) return at(auth, i) + ".database: table '" + p.database.table + "' in '" + pool->name() + "': " + r.error;
    shared.statements.emplace(i, std::move(sql));
  }
  return {};
}

std::string check_auth_sources(const config::Config& c, const auth::Authenticator& auth, const AuthShared& shared) {
  for (std::size_t i = 0; i < auth.providers(); ++i) {
    if (auth.counted(i) && !shared.static_usage)
      return at(auth, i) + ": its keys' quotas need the store of static keys' usage";
    const auto* entry = store_entry(c, auth, i);
    if (!entry) continue;
    const auto& p = *entry;
    if (shared.simulated && p.type != config::ProviderType::builtin)
      return at(auth, i) + ".type: " + std::string(config::enum_name(p.type)) +
             ": the store it asks does not run in the simulator";
    switch (p.type) {
      case config::ProviderType::builtin:
        if (!shared.admin_keys)
          return at(auth, i) + ": the builtin provider reads the admin key store; set admin.enabled: true";
        break;
      case config::ProviderType::redis: {
        std::string why;
        redis_client_of(c, p.redis, why);
        if (!why.empty()) return at(auth, i) + ".redis.storage: " + why;
        break;
      }
      case config::ProviderType::webhook: {
        const auto url = util::parse_url(p.webhook.url);
        if (!url) return at(auth, i) + ".webhook.url: " + url.error;
        if (url.value->tls()) return at(auth, i) + ".webhook.url: https:// is not built yet (use http://)";
        break;
      }
      case config::ProviderType::database:
        // open_auth_databases built its statements (and said why not).
        if (!pool_of(c, p, shared) || !shared.statements.count(i))
          return at(auth, i) + ".database.storage: the database '" + p.database.storage +
                 "' is not open (the simulator runs no database)";
        break;
      default:
        return at(auth, i) + ".type: " + std::string(config::enum_name(p.type)) + " is not built yet";
    }
  }
  return {};
}

modules::auth::StoreProviders auth_sources(const config::Config& c,
                                           const std::shared_ptr<const auth::Authenticator>& authenticator,
                                           const AuthShared& shared, env::Env& env,
                                           stores::redis::SharedClients& redis) {
  const auth::Authenticator& auth = *authenticator;
  modules::auth::StoreProviders out;
  out.env = &env;
  out.cache_ttl = c.auth.cache_ttl;
  out.quota_check = c.auth.quota_check;
  out.sources.resize(auth.providers());
  for (std::size_t i = 0; i < auth.providers(); ++i) {
    if (auth.counted(i)) {
      out.sources[i] = std::make_shared<modules::auth::StaticSource>(authenticator, i, shared.static_usage, env);
      continue;
    }
    const auto* entry = store_entry(c, auth, i);
    if (!entry) continue;
    const auto& p = *entry;
    switch (p.type) {
      case config::ProviderType::builtin:
        out.sources[i] = std::make_shared<modules::auth::BuiltinSource>(shared.admin_keys);
        break;
      case config::ProviderType::redis: {
        env::error_code ec;  // the cache and its addr were checked by check_auth_sources
        auto client = redis.get(*config::resolve_cache(c, p.redis.storage), ec);
        out.sources[i] = std::make_shared<modules::auth::RedisSource>(env, std::move(client), p.redis.key_pattern);
        break;
      }
      case config::ProviderType::webhook:  // this worker's calls on this worker's env
        out.sources[i] = std::make_shared<modules::auth::WebhookSource>(
            env, p.webhook, *util::parse_url(p.webhook.url).value, key_header_names(auth));
        break;
      case config::ProviderType::database:
        out.sources[i] =
            std::make_shared<modules::auth::DatabaseSource>(pool_of(c, p, shared), shared.statements.at(i), env);
        break;
      default:
        break;  // check_auth_sources refused it
    }
  }
  return out;
}

}  // namespace llmproxy::server
