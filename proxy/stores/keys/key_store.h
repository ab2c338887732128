// Where API keys managed through the admin API live (the `builtin` auth
// provider, BEHAVIOR §7 and §9): one row per key, shared by every gateway
// instance that uses the same database. Implementations:
//   sql_key_store.h     a storage.databases entry (SQLite, PostgreSQL, MySQL)
//   memory_key_store.h  one process; the simulator and `conform`
// Both pass the same tests (key_store_dbtest.cpp).
//
// The key itself is never stored: rows are found by the hex SHA-256 of the
// key (`hash`); `prefix` is the part people may see. Times are unix seconds,
// passed in by the caller (stores read no clock).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/env/env.h"

namespace llmproxy::stores::keys {

struct StoredKey {
  std::string hash;    // hex SHA-256 of the key: the row's identity
  std::string prefix;  // what logs and the admin API show of the key
  std::string name;
  std::string user_id;
  int status = 0;      // the original project's numbers: 0 active, 1 disabled, 2 quota exceeded, 3 expired
  std::optional<std::int64_t> starts_at;   // unix seconds; none = valid from creation
  std::optional<std::int64_t> expires_at;  // unix seconds; none = never
  std::int64_t total_quota = 0;            // tokens; 0 = unlimited
  std::int64_t used_quota = 0;
  std::string quota_reset_period = "never";  // never | daily | weekly | monthly
  std::optional<std::int64_t> quota_reset_at;  // the start of the period used_quota counts (none: since created_at)
  std::string allowed_ips;  // comma-separated addresses and CIDRs (address_list()); "" = any
  std::string denied_ips;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  bool operator==(const StoredKey&) const = default;
};

// "a, b,,c" → {"a", "b", "c"}: the entries of a stored address list,
// trimmed, empty ones left out (requests to the admin API may write a list
// the same way).
std::vector<std::string> address_list(std::string_view stored);

// What a store call came to. `unavailable` carries the store's own message
// (the database is down, a statement failed), for the log, not the client.
enum class Outcome : std::uint8_t { ok, not_found, duplicate, unavailable };
std::string_view to_string(Outcome o);

struct Status {
  Outcome outcome = Outcome::ok;
  std::string message;
  bool ok() const { return outcome == Outcome::ok; }
};

struct Found {
  Status status;
  std::optional<StoredKey> key;  // set when status is ok
};

struct Page {
  Status status;
  std::vector<StoredKey> keys;  // ordered by created_at, then hash
  std::int64_t total = 0;       // all keys, not only this page
};

// A sync writes every field of the keys it is given, except what a key
// that already exists has accrued: its used_quota, quota_reset_at and
// created_at stay.
enum class SyncMode : std::uint8_t {
  full,         // the store ends holding exactly these keys
  incremental,  // these keys are created or replaced; others stay
};
// Placeholders a database takes in one statement bound the set (SQLite:
// 32766); a larger sync is refused, not cut.
inline constexpr std::size_t kMaxSyncKeys = 10000;

// What a store's rows are (a database keeps each in a table of its own).
enum class KeyRows : std::uint8_t {
  admin_keys,        // the admin API's keys (the builtin provider reads them)
  // What static keys with a quota (auth static providers, api_keys) have
  // used: a row per key, made when the key first uses tokens. Only the
  // count columns mean anything here (used_quota, quota_reset_at,
  // created_at); the key's rules are the config's.
  static_key_usage,
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual env::Task<Found> find(std::string hash) = 0;
  // duplicate when a key with this hash exists.
  virtual env::Task<Status> create(StoredKey key) = 0;
  // Replaces every field but hash, created_at and what the key accrued
  // (used_quota, quota_reset_at); not_found when there is no such key.
  virtual env::Task<Status> update(StoredKey key) = 0;
  virtual env::Task<Status> remove(std::string hash) = 0;
  virtual env::Task<Page> list(std::int64_t offset, std::int64_t limit) = 0;
  // All or nothing (one transaction in a database). More than kMaxSyncKeys
  // keys: unavailable, nothing written.
  virtual env::Task<Status> sync(std::vector<StoredKey> keys, SyncMode mode) = 0;
  // used_quota += tokens, atomically in the store (two gateways adding at
  // once both count). not_found when the key is gone.
  // `period_start` (unix seconds): the start of the key's current quota
  // period (proxy/core/auth/quota.h), none for `never`. When what the row
  // counts belongs to an earlier period (quota_reset_at, else created_at,
  // before it), the count restarts: used_quota = tokens, quota_reset_at =
  // period_start; in the same atomic statement.
  virtual env::Task<Status> add_usage(std::string hash, std::int64_t tokens,
                                      std::optional<std::int64_t> period_start = std::nullopt) = 0;
};

}  // namespace llmproxy::stores::keys
