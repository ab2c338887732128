// The data of the fake Redis server: numbered databases whose keys hold a
// hash or a sorted set, each with an optional expiry.
//
// Expiry is kept as Redis keeps it, an absolute unix time in milliseconds,
// read from the environment's wall clock (virtual in the simulator). A key
// is expired once now_ms > expire_at_ms (at exactly expire_at_ms it still
// lives, as in Redis) and is deleted lazily by the first lookup that sees it
// expired; nothing else can observe a dead key, so no background sweep is
// needed. Ordered containers throughout: nothing depends on hash order.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace llmproxy::fake {

struct RedisHash {
  std::map<std::string, std::string, std::less<>> fields;
};

// Members ordered by (score, member bytes), as ZRANGEBYSCORE returns them.
struct RedisZSet {
  std::map<std::string, double, std::less<>> scores;
  std::set<std::pair<double, std::string>> order;

  // True when the member is new.
  bool add(const std::string& member, double score);
  bool remove(std::string_view member);
};

struct RedisEntry {
  std::variant<RedisHash, RedisZSet> value;
  std::int64_t expire_at_ms = -1;  // -1: persistent
};

using RedisDatabase = std::map<std::string, RedisEntry, std::less<>>;

// The live entry of `key` at now_ms, or null; an expired entry is erased.
RedisEntry* find_live(RedisDatabase& db, std::string_view key, std::int64_t now_ms);

}  // namespace llmproxy::fake
