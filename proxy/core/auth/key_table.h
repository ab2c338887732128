// The keys of one static provider (auth.pipeline[].static.keys, or the
// top-level api_keys), as records keyed by their SHA-256 digest: built once
// per config (a reload builds a new one), read-only afterwards, so every
// worker thread may read it without a lock. A lookup is one hash-table
// probe on the digest the caller computed once for the request.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/core/auth/key_record.h"
#include "proxy/core/config/auth.h"
#include "proxy/core/util/parsed.h"

namespace llmproxy::auth {

// A config key as a record: the key hashed (not kept), status, window, IP
// rules and quota parsed; `provider` and `store_ref` (the hex digest) set
// for a provider whose quotas are counted in a store (authenticator.h).
// The quota's used tokens are the config's used_quota, counted from the
// start of time: the store's count replaces both (static_source.h).
// The error (check-config rejects the same inputs first) names the field,
// e.g. "status: unknown status \"on\" (…)".
util::Parsed<KeyRecord> key_record_from(const config::StaticKey& key, std::size_t provider = 0);

class KeyTable {
 public:
  KeyTable() = default;
  // Two entries with the same key are an error (the second's index).
  // `provider`: the index of the provider the table is (key_record_from).
  static util::Parsed<KeyTable> from(const std::vector<config::StaticKey>& keys, std::size_t provider = 0);

  // nullptr when the digest is not a key of this table.
  const KeyRecord* find(const KeyHash& hash) const {
    const auto it = keys_.find(hash);
    return it == keys_.end() ? nullptr : &it->second;
  }
  std::size_t size() const { return keys_.size(); }
  // Some key has a quota (total_quota > 0).
  bool has_quotas() const { return has_quotas_; }

 private:
  bool has_quotas_ = false;
  std::unordered_map<KeyHash, KeyRecord, KeyHashHasher, KeyHashEqual> keys_;
};

}  // namespace llmproxy::auth
