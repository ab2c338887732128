#include "proxy/server/auth_sources.h"

#include "proxy/modules/auth/builtin_source.h"
#include "proxy/modules/auth/webhook_source.h"

namespace llmproxy::server {
namespace {

std::string at(const auth::Authenticator& auth, std::size_t i) {
  return "auth.pipeline[" + std::to_string(auth.pipeline_index(i)) + "]";
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
