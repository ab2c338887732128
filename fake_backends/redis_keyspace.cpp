#include "fake_backends/redis_keyspace.h"

namespace llmproxy::fake {

bool RedisZSet::add(const std::string& member, double score) {
  const auto it = scores.find(member);
  if (it != scores.end()) {
    order.erase({it->second, member});
    it->second = score;
    order.emplace(score, member);
    return false;
  }
  scores.emplace(member, score);
  order.emplace(score, member);
  return true;
}

bool RedisZSet::remove(std::string_view member) {
  const auto it = scores.find(member);
  if (it == scores.end()) return false;
  order.erase({it->second, it->first});
  scores.erase(it);
  return true;
}

RedisEntry* find_live(RedisDatabase& db, std::string_view key, std::int64_t now_ms) {
  const auto it = db.find(key);
  if (it == db.end()) return nullptr;
  if (it->second.expire_at_ms >= 0 && now_ms > it->second.expire_at_ms) {
    db.erase(it);
    return nullptr;
  }
  return &it->second;
}

}  // namespace llmproxy::fake
