// The auth module (auth, api_keys; BEHAVIOR §7, docs/auth.md): the pure
// decision (proxy/core/auth/authenticator.h) run as a pipeline filter at the
// auth phase, for every proxied request:
//   - a path under auth.skip_paths goes on as anonymous;
//   - no key in auth.header_names → 401 invalid_api_key (with
//     WWW-Authenticate: Bearer), as is a key no provider knows;
//   - a known key the decision refuses → its 403 (key_disabled,
//     key_expired, key_not_yet_valid, ip_not_allowed) or 429
//     (quota_exceeded);
//   - an allowed key becomes Exchange::caller (the per-key rate limits
//     count on it).
// The client address is the socket's peer. Per request: one header scan,
// one SHA-256, one hash-table probe per provider; nothing allocated.
#pragma once

#include <memory>

#include "proxy/core/auth/authenticator.h"
#include "proxy/shell/pipeline.h"

namespace llmproxy::modules::auth {

class AuthFilter final : public shell::Filter {
 public:
  explicit AuthFilter(std::shared_ptr<const llmproxy::auth::Authenticator> authenticator)
      : auth_(std::move(authenticator)) {}
  shell::FilterPhase phase() const override { return shell::FilterPhase::auth; }
  env::Task<shell::FilterVerdict> on_request(shell::Exchange& ex) override;

  // The decision without the coroutine (for the benchmark and tests):
  // sets ex.caller, returns the verdict.
  shell::FilterVerdict judge(shell::Exchange& ex) const;

 private:
  std::shared_ptr<const llmproxy::auth::Authenticator> auth_;
};

}  // namespace llmproxy::modules::auth
