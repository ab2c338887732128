// The auth module's whole decision for one request (BEHAVIOR §7), pure:
// which paths need no key, where the key is read, which providers know it
// and how their answers combine. Built once per config from `auth` and the
// top-level `api_keys`; immutable afterwards and shared by every worker.
//
// Providers, in order: each enabled auth.pipeline entry (only `static` is
// built; check-config rejects the others), then `api_keys` as one more
// static provider. Auth is on when auth.enabled is true, or when api_keys is
// non-empty (then the api_keys provider alone, with auth's header_names and
// skip_paths: listing keys means requiring them).
//
// mode first_match: the first provider that knows the key decides (decide());
//      none knows it → invalid_api_key.
// mode all: every provider must know the key and allow it; the first, in
//      order, that does not know it (invalid_api_key) or refuses it decides.
//      The caller is the first provider's record.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/auth/key_header.h"
#include "proxy/core/auth/key_record.h"
#include "proxy/core/auth/key_table.h"
#include "proxy/core/auth/skip_paths.h"
#include "proxy/core/config/config.h"
#include "proxy/core/util/parsed.h"

namespace llmproxy::auth {

// auth.enabled, or a non-empty api_keys.
bool auth_required(const config::Config& c);

struct AuthResult {
  const KeyRecord* caller = nullptr;  // set when allowed; lives as long as the Authenticator
  Decision decision;
};

class Authenticator {
 public:
  // The error names the config key ("auth.pipeline[1].static.keys[0].status: …").
  static util::Parsed<Authenticator> from(const config::Config& c);

  const SkipPaths& skip_paths() const { return skip_; }
  const std::vector<KeyHeader>& key_headers() const { return headers_; }

  // The decision for a presented key (hashed here, once) from `client_ip`
  // at `now`.
  AuthResult check(std::string_view key, const std::optional<util::IpAddress>& client_ip, WallTime now) const;
  AuthResult check_hash(const KeyHash& hash, const std::optional<util::IpAddress>& client_ip,
                        WallTime now) const;

  std::size_t providers() const { return providers_.size(); }

 private:
  struct Provider {
    std::string name;
    KeyTable keys;
  };
  config::AuthMode mode_ = config::AuthMode::first_match;
  SkipPaths skip_;
  std::vector<KeyHeader> headers_;
  std::vector<Provider> providers_;
};

}  // namespace llmproxy::auth
