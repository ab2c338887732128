#include "proxy/core/auth/key_cache.h"

#include <cassert>

namespace llmproxy::auth {

KeyCache::Hit KeyCache::find(const KeyHash& hash, TimePoint now) const {
  const auto it = entries_.find(hash);
  if (it == entries_.end() || now >= it->second.until) return {};
  return Hit{true, &it->second.record, it->second.mark};
}

void KeyCache::put(const KeyHash& hash, std::shared_ptr<const KeyRecord> record, TimePoint now,
                   std::int64_t mark) {
  if (ttl_ <= Duration::zero() || capacity_ == 0) return;
  const auto it = entries_.find(hash);
  if (it == entries_.end() && entries_.size() >= capacity_) make_room(now);
  entries_.insert_or_assign(hash, Entry{std::move(record), now + ttl_, mark});
  assert(entries_.size() <= capacity_);
}

void KeyCache::make_room(TimePoint now) {
  const std::size_t before = entries_.size();
  std::erase_if(entries_, [now](const auto& kv) { return now >= kv.second.until; });
  if (before - entries_.size() < capacity_ / 4 + 1) entries_.clear();
}

}  // namespace llmproxy::auth
