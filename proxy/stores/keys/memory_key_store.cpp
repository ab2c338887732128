#include "proxy/stores/keys/memory_key_store.h"

#include <algorithm>

namespace llmproxy::stores::keys {

env::Task<Found> MemoryKeyStore::find(std::string hash) {
  std::lock_guard lk(mu_);
  const auto it = keys_.find(hash);
  if (it == keys_.end()) co_return Found{Status{Outcome::not_found, {}}, std::nullopt};
  co_return Found{Status{}, it->second};
}

env::Task<Status> MemoryKeyStore::create(StoredKey key) {
  std::lock_guard lk(mu_);
  const std::string hash = key.hash;
  if (!keys_.emplace(hash, std::move(key)).second) co_return Status{Outcome::duplicate, {}};
  co_return Status{};
}

env::Task<Status> MemoryKeyStore::update(StoredKey key) {
  std::lock_guard lk(mu_);
  const auto it = keys_.find(key.hash);
  if (it == keys_.end()) co_return Status{Outcome::not_found, {}};
  key.created_at = it->second.created_at;
  key.used_quota = it->second.used_quota;
  key.quota_reset_at = it->second.quota_reset_at;
  it->second = std::move(key);
  co_return Status{};
}

env::Task<Status> MemoryKeyStore::remove(std::string hash) {
  std::lock_guard lk(mu_);
  if (keys_.erase(hash) == 0) co_return Status{Outcome::not_found, {}};
  co_return Status{};
}

env::Task<Page> MemoryKeyStore::list(std::int64_t offset, std::int64_t limit) {
  std::lock_guard lk(mu_);
  std::vector<const StoredKey*> all;
  all.reserve(keys_.size());
  for (const auto& [hash, key] : keys_) all.push_back(&key);
  std::stable_sort(all.begin(), all.end(), [](const StoredKey* a, const StoredKey* b) {
    return a->created_at != b->created_at ? a->created_at < b->created_at : a->hash < b->hash;
  });
  Page page;
  page.total = static_cast<std::int64_t>(all.size());
  // From what is left after `from`, never offset + limit: any offset up to
  // INT64_MAX is a valid (empty) page, not an overflow.
  const std::int64_t from = std::clamp<std::int64_t>(offset, 0, page.total);
  const std::int64_t to = from + std::clamp<std::int64_t>(limit, 0, page.total - from);
  for (auto i = static_cast<std::size_t>(from); i < static_cast<std::size_t>(to); ++i) page.keys.push_back(*all[i]);
  co_return page;
}

env::Task<Status> MemoryKeyStore::sync(std::vector<StoredKey> keys, SyncMode mode) {
  if (keys.size() > kMaxSyncKeys)
    co_return Status{Outcome::unavailable, "a sync takes at most " + std::to_string(kMaxSyncKeys) + " keys"};
  std::lock_guard lk(mu_);
  std::map<std::string, StoredKey> next;
  if (mode == SyncMode::incremental) next = keys_;
  for (auto& key : keys) {
    if (const auto old = keys_.find(key.hash); old != keys_.end()) {
      key.used_quota = old->second.used_quota;
      key.quota_reset_at = old->second.quota_reset_at;
      key.created_at = old->second.created_at;
    }
    const std::string hash = key.hash;
    next.insert_or_assign(hash, std::move(key));
  }
  keys_ = std::move(next);
  co_return Status{};
}

env::Task<Status> MemoryKeyStore::add_usage(std::string hash, std::int64_t tokens,
                                            std::optional<std::int64_t> period_start) {
  std::lock_guard lk(mu_);
  const auto it = keys_.find(hash);
  if (it == keys_.end()) co_return Status{Outcome::not_found, {}};
  StoredKey& k = it->second;
  if (period_start && k.quota_reset_at.value_or(k.created_at) < *period_start) {
    k.used_quota = tokens;
    k.quota_reset_at = *period_start;
  } else {
    k.used_quota += tokens;
  }
  co_return Status{};
}

}  // namespace llmproxy::stores::keys
