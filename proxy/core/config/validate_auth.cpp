// auth and api_keys: each provider's type, the storage it names, and the
// admin key store the builtin provider reads.
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {
namespace {

void check_provider(const Config& c, const AuthProvider& a, const std::string& p, Context& ctx) {
  switch (a.type) {
    case ProviderType::unset:
      ctx.error(p + ".type", "type is required (builtin, redis, database, webhook, lua or static)",
                !ctx.present(p + ".type"));
      break;
    case ProviderType::builtin:
      if (a.enabled && c.auth.enabled && !c.admin.enabled)
        ctx.error(p + ".type", "the builtin provider uses the admin key store; set admin.enabled: true");
      break;
    case ProviderType::redis:
      check_cache_ref(c, p + ".redis.storage", a.redis.storage, ctx, true);
      break;
    case ProviderType::database:
      check_database_ref(c, p + ".database.storage", a.database.storage, ctx);
      break;
    case ProviderType::webhook:
      if (a.enabled) check_required(a.webhook.url, p + ".webhook.url", "url", ctx);
      break;
    case ProviderType::lua:
      break;  // lint_scripts
    case ProviderType::static_keys:
      for (std::size_t j = 0; j < a.static_keys.keys.size(); ++j)
        if (a.static_keys.keys[j].key.empty()) ctx.error(idx(p + ".static.keys", j), "key is required", true);
      break;
  }
}

}  // namespace

void validate_auth(const Config& c, Context& ctx) {
  check_unique_names(c.auth.pipeline, "auth.pipeline", ctx, false);
  for (std::size_t i = 0; i < c.auth.pipeline.size(); ++i)
    check_provider(c, c.auth.pipeline[i], idx("auth.pipeline", i), ctx);
  for (std::size_t i = 0; i < c.api_keys.size(); ++i)
    if (c.api_keys[i].key.empty()) ctx.error(idx("api_keys", i), "key is required", true);
}

}  // namespace llmproxy::config::detail
