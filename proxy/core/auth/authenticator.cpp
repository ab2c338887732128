#include "proxy/core/auth/authenticator.h"

namespace llmproxy::auth {

bool auth_required(const config::Config& c) { return c.auth.enabled || !c.api_keys.empty(); }

util::Parsed<Authenticator> Authenticator::from(const config::Config& c) {
  using R = util::Parsed<Authenticator>;
  Authenticator a;
  a.mode_ = c.auth.mode;
  a.skip_ = SkipPaths(c.auth.skip_paths);
  a.headers_ = auth::key_headers(c.auth.header_names);
  for (std::size_t i = 0; c.auth.enabled && i < c.auth.pipeline.size(); ++i) {
    const auto& p = c.auth.pipeline[i];
    if (!p.enabled) continue;
    const std::string at = "auth.pipeline[" + std::to_string(i) + "]";
    if (p.type != config::ProviderType::static_keys)
      return R::failure(at + ".type: only static providers are built");
    auto table = KeyTable::from(p.static_keys.keys);
    if (!table) return R::failure(at + ".static.keys" + table.error);
    a.providers_.push_back(Provider{p.name, std::move(*table.value)});
  }
  if (!c.api_keys.empty()) {
    auto table = KeyTable::from(c.api_keys);
    if (!table) return R::failure("api_keys" + table.error);
    a.providers_.push_back(Provider{"api_keys", std::move(*table.value)});
  }
  return R::success(std::move(a));
}

AuthResult Authenticator::check(std::string_view key, const std::optional<util::IpAddress>& client_ip,
                                WallTime now) const {
  return check_hash(hash_key(key), client_ip, now);
}

AuthResult Authenticator::check_hash(const KeyHash& hash, const std::optional<util::IpAddress>& client_ip,
                                     WallTime now) const {
  const auto unknown = AuthResult{nullptr, Decision::deny(openai::ErrorId::invalid_api_key)};
  const KeyRecord* caller = nullptr;
  for (const auto& p : providers_) {
    const KeyRecord* k = p.keys.find(hash);
    if (!k) {
      if (mode_ == config::AuthMode::all) return unknown;
      continue;
    }
    const Decision d = decide(*k, client_ip, now);
    if (!d.allowed()) return AuthResult{nullptr, d};
    if (!caller) caller = k;
    if (mode_ == config::AuthMode::first_match) break;
  }
  return caller ? AuthResult{caller, Decision::allow()} : unknown;
}

}  // namespace llmproxy::auth
