#include "proxy/server/auth_sources.h"

#include "proxy/modules/auth/builtin_source.h"

namespace llmproxy::server {
namespace {

std::string at(const auth::Authenticator& auth, std::size_t i) {
  return "auth.pipeline[" + std::to_string(auth.pipeline_index(i)) + "]";
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
      default:
        break;  // check_auth_sources refused it
    }
  }
  return out;
}

}  // namespace llmproxy::server
