// What store providers said about keys, remembered for auth.cache_ttl
// (BEHAVIOR §7: "a disabled key stops working within that TTL"). One per
// worker, used from its thread only: no lock. Pure: `now` is the worker's
// monotonic clock (virtual in the simulator).
//
// Both answers are remembered: a record (the key is known) and "unknown"
// (a null record), so a client retrying a wrong key does not reach the
// store either. An entry is used while now < stored + ttl; a ttl of 0
// remembers nothing.
//
// Bounded: at `capacity` entries a put first drops the expired ones; if
// that frees less than a quarter, it drops everything. A flood of distinct
// wrong keys therefore costs one store lookup each and evicts the good keys
// at most once per capacity/4 lookups, while every put stays amortised O(1).
//
// A record is shared (shared_ptr): a request keeps the one it was allowed
// by (Exchange::caller points into it) even after the cache has dropped it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "proxy/core/auth/key_record.h"
#include "proxy/core/time.h"

namespace llmproxy::auth {

class KeyCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 65536;
  KeyCache(Duration ttl, std::size_t capacity = kDefaultCapacity) : ttl_(ttl), capacity_(capacity) {}

  struct Hit {
    bool found = false;  // an unexpired answer is remembered
    const std::shared_ptr<const KeyRecord>* record = nullptr;  // when found; null record = unknown key
    std::int64_t mark = 0;
  };
  Hit find(const KeyHash& hash, TimePoint now) const;
  // `mark`: kept with the answer for its user (the auth module: how much of
  // this worker's usage the record counts, usage_ledger.h).
  void put(const KeyHash& hash, std::shared_ptr<const KeyRecord> record, TimePoint now, std::int64_t mark = 0);
  void forget(const KeyHash& hash) { entries_.erase(hash); }

  std::size_t size() const { return entries_.size(); }
  Duration ttl() const { return ttl_; }

 private:
  struct Entry {
    std::shared_ptr<const KeyRecord> record;
    TimePoint until;
    std::int64_t mark = 0;
  };
  void make_room(TimePoint now);

  Duration ttl_;
  std::size_t capacity_;
  std::unordered_map<KeyHash, Entry, KeyHashHasher, KeyHashEqual> entries_;
};

}  // namespace llmproxy::auth
