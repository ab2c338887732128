// The auth module's whole decision for one request (BEHAVIOR §7), pure:
// which paths need no key, where the key is read, which providers know it
// and how their answers combine. Built once per config from `auth` and the
// top-level `api_keys`; immutable afterwards and shared by every worker.
//
// Providers, in order: each enabled auth.pipeline entry, then `api_keys` as
// one more static provider. Auth is on when auth.enabled is true, or when
// api_keys is non-empty (then the api_keys provider alone, with auth's
// header_names and skip_paths: listing keys means requiring them).
//
// A provider is either a table (`static`, `api_keys`: the records are here)
// or a store (`builtin`, `redis`, `database`, `webhook`: asked by the auth
// module, which caches the answers; proxy/modules/auth). A static provider
// with a key that has a quota is a store too (a counted table): its keys
// are here, but what they used is counted in a store shared by the
// instances (proxy/modules/auth/static_source.h). `lua` is refused by
// from() (check-config says it is not built yet).
//
// mode first_match: the first provider that knows the key decides;
//      none knows it → invalid_api_key.
// mode all: every provider must know the key and allow it; the first, in
//      order, that does not know it (invalid_api_key) or refuses it decides.
//      The caller is the first provider's record.
// Judgement folds the providers' answers one at a time, so a caller that
// must wait for a store can ask them in turn; check_hash() is the same
// fold over table providers.
#pragma once

#include <cstdint>
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
  const KeyRecord* caller = nullptr;  // set when allowed; lives as long as its provider's answer
  Decision decision;
};

enum class ProviderSource : std::uint8_t { table, store };

// One request's walk over the providers: fold() each provider's answer in
// order until it returns true (decided) or the providers run out.
class Judgement {
 public:
  explicit Judgement(config::AuthMode mode) : mode_(mode) {}
  // `known`: the provider's record of the key, null when it does not know
  // it. `pending`: tokens charged to that key not counted in the record
  // (quota.h). True once the result is final.
  bool fold(const KeyRecord* known, const std::optional<util::IpAddress>& client_ip, WallTime now,
            std::int64_t pending = 0);
  AuthResult result() const;

 private:
  config::AuthMode mode_;
  const KeyRecord* caller_ = nullptr;
  std::optional<Decision> decided_;
};

class Authenticator {
 public:
  // The error names the config key ("auth.pipeline[1].static.keys[0].status: …").
  static util::Parsed<Authenticator> from(const config::Config& c);

  const SkipPaths& skip_paths() const { return skip_; }
  // auth.trusted_proxies (forwarded_for.h); empty: the peer is the client.
  const std::vector<util::Cidr>& trusted_proxies() const { return trusted_; }
  const std::vector<KeyHeader>& key_headers() const { return headers_; }

  // The decision for a presented key (hashed here, once) from `client_ip`
  // at `now`, when every provider is a table (asserted).
  AuthResult check(std::string_view key, const std::optional<util::IpAddress>& client_ip, WallTime now) const;
  AuthResult check_hash(const KeyHash& hash, const std::optional<util::IpAddress>& client_ip,
                        WallTime now) const;

  config::AuthMode mode() const { return mode_; }
  std::size_t providers() const { return providers_.size(); }
  ProviderSource source(std::size_t i) const { return providers_[i].source; }
  const std::string& name(std::size_t i) const { return providers_[i].name; }
  // The auth.pipeline entry provider i was built from (npos: api_keys).
  std::size_t pipeline_index(std::size_t i) const { return providers_[i].pipeline_index; }
  // A table provider's record of the key (a counted table's too: as the
  // config says it, before what it used); null when it does not know it.
  const KeyRecord* find(std::size_t i, const KeyHash& hash) const { return providers_[i].keys.find(hash); }
  // Provider i is a counted table: a static provider whose keys' quotas
  // are counted in a store (its source is `store`).
  bool counted(std::size_t i) const { return providers_[i].counted; }
  // Some provider is a counted table: the gateway needs the store of
  // static keys' usage.
  bool counts_static_usage() const { return counts_static_usage_; }
  // Some provider is a store: a check may have to wait for it.
  bool uses_stores() const { return uses_stores_; }

 private:
  struct Provider {
    std::string name;
    ProviderSource source = ProviderSource::table;
    std::size_t pipeline_index = static_cast<std::size_t>(-1);
    KeyTable keys;  // table providers, counted ones included
    bool counted = false;
  };
  // A static provider from its keys: a table, or a counted table when a
  // key has a quota.
  void add_table(std::string name, std::size_t pipeline_index, KeyTable keys);
  bool uses_stores_ = false;
  bool counts_static_usage_ = false;
  config::AuthMode mode_ = config::AuthMode::first_match;
  SkipPaths skip_;
  std::vector<util::Cidr> trusted_;
  std::vector<KeyHeader> headers_;
  std::vector<Provider> providers_;
};

}  // namespace llmproxy::auth
