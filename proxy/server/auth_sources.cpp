#include "proxy/server/auth_sources.h"

#include "proxy/modules/auth/builtin_source.h"
#include "proxy/modules/auth/redis_source.h"
#include "proxy/modules/auth/webhook_source.h"

namespace llmproxy::server {
namespace {

std::string at(const auth::Authenticator& auth, std::size_t i) {
  return "auth.pipeline[" + std::to_string(auth.pipeline_index(i)) + "]";
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

}  // namespace

std::string check_auth_sources(const config::Config& c, const auth::Authenticator& auth, const AuthShared& shared) {
  for (std::size_t i = 0; i < auth.providers(); ++i) {
    if (auth.source(i) != auth::ProviderSource::store) continue;
    const auto& p = c.auth.pipeline[auth.pipeline_index(i)];
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
      case config::ProviderType::redis: {
        std::string why;  // checked by check_auth_sources
        out.sources[i] = std::make_shared<modules::auth::RedisSource>(env, redis_client_of(c, p.redis, why),
                                                                      p.redis.key_pattern);
        break;
      }
      case config::ProviderType::webhook:  // this worker's calls on this worker's env
        out.sources[i] = std::make_shared<modules::auth::WebhookSource>(
            env, p.webhook, *util::parse_url(p.webhook.url).value, key_header_names(auth));
        break;
      default:
        break;  // check_auth_sources refused it
    }
  }
  return out;
}

}  // namespace llmproxy::server
