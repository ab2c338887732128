// A store provider as the auth filter sees it (BEHAVIOR §7): the place one
// presented key's record is looked up when the worker's cache has no answer
// (builtin_source.h: the admin key store; redis_source.h; database_source.h;
// webhook_source.h), and where the usage of the keys it knows is written.
//
// Conventions, for every source:
//   - lookup() answers `known` with a record, `unknown` (no such key: the
//     client is told invalid_api_key), or `failed` (the store could not be
//     asked, or answered something that cannot be read: the client is told
//     503 auth_unavailable, never let in on a record that was not read).
//     `failed.error` is for the operator's log: it never holds the key, at
//     most its prefix.
//   - A record's `provider` is the index the source was asked as, and its
//     `store_ref` is what add_usage() is later given for it.
//   - known and unknown answers are cached by the filter for auth.cache_ttl;
//     failures are not.
//   - One source per worker, used from its executor only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/auth/key_record.h"
#include "proxy/core/util/cidr.h"
#include "proxy/env/env.h"
#include "proxy/stores/keys/key_store.h"

namespace llmproxy::shell {
class Exchange;  // a class (clang -Wmismatched-tags)
}

namespace llmproxy::modules::auth {

struct LookupRequest {
  std::string_view key;                  // as presented (never logged)
  const llmproxy::auth::KeyHash& hash;   // its SHA-256
  std::size_t provider;                  // the index to put in the record
  const std::optional<util::IpAddress>& client;  // as auth judges it (nullopt: unknown)
  const shell::Exchange& exchange;       // the request (webhook: method, path, headers)
};

struct SourceAnswer {
  enum class Kind : std::uint8_t { known, unknown, failed };
  Kind kind = Kind::unknown;
  std::shared_ptr<const llmproxy::auth::KeyRecord> record;  // known
  std::string error;                                        // failed

  static SourceAnswer known(llmproxy::auth::KeyRecord r) {
    return {Kind::known, std::make_shared<const llmproxy::auth::KeyRecord>(std::move(r)), {}};
  }
  static SourceAnswer unknown() { return {}; }
  static SourceAnswer failed(std::string why) { return {Kind::failed, nullptr, std::move(why)}; }
};

class KeySource {
 public:
  virtual ~KeySource() = default;
  virtual env::Task<SourceAnswer> lookup(const LookupRequest& req) = 0;

  // Whether add_usage() writes anywhere (a webhook keeps no usage).
  virtual bool keeps_usage() const { return true; }
  // Whether the usage of this key (a record it answered) is kept: static
  // keys count only toward a quota.
  virtual bool counts(const llmproxy::auth::KeyRecord& /*key*/) const { return true; }
  // Whether a lookup sent after an add_usage() was sent is answered after
  // that write (one ordered connection per worker: Redis). Then a write
  // still running counts as written for a record fetched meanwhile;
  // otherwise (a pool of connections) it counts as not written yet.
  virtual bool ordered() const { return false; }
  // Adds `tokens` to the key's used quota; `period_start` (unix seconds,
  // the key's period) restarts a count kept for an earlier period, in the
  // same atomic step (quota.h). not_found: the key is gone (its usage has
  // nowhere to go); unavailable: try again later.
  virtual env::Task<stores::keys::Status> add_usage(const std::string& store_ref, std::int64_t tokens,
                                                    std::optional<std::int64_t> period_start) = 0;
  // Drops connections (the worker is closing); later calls fail.
  virtual void close() {}
};

}  // namespace llmproxy::modules::auth
