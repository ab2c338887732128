#include "proxy/core/auth/authenticator.h"

#include <cassert>

namespace llmproxy::auth {

bool auth_required(const config::Config& c) { return c.auth.enabled || !c.api_keys.empty(); }

util::Parsed<Authenticator> Authenticator::from(const config::Config& c) {
  using R = util::Parsed<Authenticator>;
  Authenticator a;
  a.mode_ = c.auth.mode;
  a.skip_ = SkipPaths(c.auth.skip_paths);
  a.headers_ = auth::key_headers(c.auth.header_names);
  for (std::size_t i = 0; i < c.auth.trusted_proxies.size(); ++i) {
    auto block = util::parse_cidr(c.auth.trusted_proxies[i]);
    if (!block) return R::failure("auth.trusted_proxies[" + std::to_string(i) + "]: " + block.error);
    a.trusted_.push_back(*block.value);
  }
  for (std::size_t i = 0; c.auth.enabled && i < c.auth.pipeline.size(); ++i) {
    const auto& p = c.auth.pipeline[i];
    if (!p.enabled) continue;
    const std::string at = "auth.pipeline[" + std::to_string(i) + "]";
    switch (p.type) {
      case config::ProviderType::builtin:
      case config::ProviderType::redis:
      case config::ProviderType::database:
      case config::ProviderType::webhook:
        a.providers_.push_back(Provider{p.name, ProviderSource::store, i, {}, false});
        a.uses_stores_ = true;
        continue;
      case config::ProviderType::static_keys:
        break;
      case config::ProviderType::lua:
      case config::ProviderType::unset:
        return R::failure(at + ".type: " + std::string(config::enum_name(p.type)) + " providers are not built");
    }
    auto table = KeyTable::from(p.static_keys.keys, a.providers_.size());
    if (!table) return R::failure(at + ".static.keys" + table.error);
    a.add_table(p.name, i, std::move(*table.value));
  }
  if (!c.api_keys.empty()) {
    auto table = KeyTable::from(c.api_keys, a.providers_.size());
    if (!table) return R::failure("api_keys" + table.error);
    a.add_table("api_keys", static_cast<std::size_t>(-1), std::move(*table.value));
  }
  return R::success(std::move(a));
}

void Authenticator::add_table(std::string name, std::size_t pipeline_index, KeyTable keys) {
  const bool counted = keys.has_quotas();
  providers_.push_back(
      Provider{std::move(name), counted ? ProviderSource::store : ProviderSource::table, pipeline_index,
               std::move(keys), counted});
  uses_stores_ = uses_stores_ || counted;
  counts_static_usage_ = counts_static_usage_ || counted;
}

AuthResult Authenticator::check(std::string_view key, const std::optional<util::IpAddress>& client_ip,
                                WallTime now) const {
  return check_hash(hash_key(key), client_ip, now);
}

AuthResult Authenticator::check_hash(const KeyHash& hash, const std::optional<util::IpAddress>& client_ip,
                                     WallTime now) const {
  assert(!uses_stores_ && "a store provider's answer comes from the shell (Judgement)");
  Judgement j(mode_);
  for (const auto& p : providers_)
    if (j.fold(p.keys.find(hash), client_ip, now)) break;
  return j.result();
}

bool Judgement::fold(const KeyRecord* known, const std::optional<util::IpAddress>& client_ip, WallTime now,
                     std::int64_t pending) {
  assert(!decided_ && "fold after the result was final");
  if (!known) {
    if (mode_ == config::AuthMode::all) decided_ = Decision::deny(openai::ErrorId::invalid_api_key);
    return decided_.has_value();
  }
  const Decision d = decide(*known, client_ip, now, pending);
  if (!d.allowed()) {
    caller_ = nullptr;
    decided_ = d;
  } else {
    if (!caller_) caller_ = known;
    if (mode_ == config::AuthMode::first_match) decided_ = d;
  }
  return decided_.has_value();
}

AuthResult Judgement::result() const {
  if (decided_ && !decided_->allowed()) return AuthResult{nullptr, *decided_};
  if (caller_) return AuthResult{caller_, Decision::allow()};
  return AuthResult{nullptr, Decision::deny(openai::ErrorId::invalid_api_key)};
}

}  // namespace llmproxy::auth
