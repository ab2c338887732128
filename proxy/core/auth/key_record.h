// One API key as the gateway judges it (BEHAVIOR §7), whatever store it
// came from, and the pure decision on one request. No clocks: `now` is the
// environment's wall clock, passed in.
#pragma once

#include <optional>
#include <string>

#include "proxy/core/auth/ip_rules.h"
#include "proxy/core/auth/key_hash.h"
#include "proxy/core/auth/key_status.h"
#include "proxy/core/auth/quota.h"
#include "proxy/core/openai/error_catalogue.h"
#include "proxy/core/time.h"

namespace llmproxy::auth {

struct KeyRecord {
  KeyHash hash{};           // SHA-256 of the key; the key itself is not kept
  std::string id;           // to_hex(hash): the identity per-key limits count on
  std::string prefix;       // key_prefix(key): all a log may show of it
  std::string name;
  std::string user_id;
  KeyStatus status = KeyStatus::active;
  std::optional<WallTime> starts_at;   // not valid before (inclusive start)
  std::optional<WallTime> expires_at;  // not valid from this instant on
  IpRules ips;
  Quota quota;
  // Store providers: which one (Authenticator's provider index) gave the
  // record, and where that store finds the key to charge its usage (the
  // admin key store: `id`; Redis: the key's name; a database: the key
  // column's value). The last may hold the key itself: never logged.
  std::size_t provider = 0;
  std::string store_ref;
};

// Allow, or the catalogue error the client is answered with.
struct Decision {
  std::optional<openai::ErrorId> error;
  bool allowed() const { return !error; }
  static Decision allow() { return {}; }
  static Decision deny(openai::ErrorId id) { return {id}; }
};

// The checks, in this order, the first that fails deciding:
//   1 status   disabled → key_disabled (403), expired → key_expired (403),
//              quota_exceeded → quota_exceeded (429); active goes on
//   2 window   now < starts_at → key_not_yet_valid (403);
//              now >= expires_at → key_expired (403)
//   3 address  IpRules::permits(client_ip) false → ip_not_allowed (403)
//   4 quota    exhausted(quota, now, pending) → quota_exceeded (429)
// `client_ip` is the socket peer; nullopt when it is not an address.
// `pending`: tokens this gateway has charged to the key that the record
// does not count yet (quota.h).
Decision decide(const KeyRecord& key, const std::optional<util::IpAddress>& client_ip, WallTime now,
                std::int64_t pending = 0);

}  // namespace llmproxy::auth
