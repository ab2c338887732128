// The per-worker cache of store answers: both answers kept for the TTL,
// gone at the TTL, a zero TTL keeps nothing, and the bound holds under a
// flood of distinct keys.
#include "proxy/core/auth/key_cache.h"

#include <gtest/gtest.h>

namespace {

using namespace llmproxy;
using namespace std::chrono_literals;
using auth::KeyCache;

auth::KeyHash hash_of(int i) { return auth::hash_key("key-" + std::to_string(i)); }

TEST(KeyCache, RemembersKnownAndUnknownForTheTtl) {
  KeyCache cache(10s);
  const TimePoint t0{};
  auto record = std::make_shared<const auth::KeyRecord>();
  cache.put(hash_of(1), record, t0, 7);
  cache.put(hash_of(2), nullptr, t0);
  const auto known = cache.find(hash_of(1), t0 + 9s);
  ASSERT_TRUE(known.found);
  EXPECT_EQ(known.record->get(), record.get());
  EXPECT_EQ(known.mark, 7);
  const auto unknown = cache.find(hash_of(2), t0 + 9s);
  ASSERT_TRUE(unknown.found);
  EXPECT_EQ(*unknown.record, nullptr);
  EXPECT_FALSE(cache.find(hash_of(3), t0).found);
  // At the TTL the answer is gone: a disabled key stops within it.
  EXPECT_FALSE(cache.find(hash_of(1), t0 + 10s).found);
  EXPECT_FALSE(cache.find(hash_of(2), t0 + 10s).found);
}

TEST(KeyCache, ZeroTtlKeepsNothing) {
  KeyCache cache(0s);
  cache.put(hash_of(1), nullptr, TimePoint{});
  EXPECT_FALSE(cache.find(hash_of(1), TimePoint{}).found);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(KeyCache, StaysWithinCapacityUnderAFloodOfDistinctKeys) {
  KeyCache cache(1h, 64);
  const TimePoint t0{};
  for (int i = 0; i < 10'000; ++i) {
    cache.put(hash_of(i), nullptr, t0 + std::chrono::milliseconds(i));
    ASSERT_LE(cache.size(), 64u);
  }
  // The newest answer is always there.
  EXPECT_TRUE(cache.find(hash_of(9'999), t0 + 10s).found);
}

TEST(KeyCache, ExpiredEntriesMakeRoomFirst) {
  KeyCache cache(1s, 4);
  const TimePoint t0{};
  for (int i = 0; i < 4; ++i) cache.put(hash_of(i), nullptr, t0);
  cache.put(hash_of(10), nullptr, t0 + 500ms);  // nothing expired: all dropped
  EXPECT_EQ(cache.size(), 1u);
  for (int i = 0; i < 3; ++i) cache.put(hash_of(i), nullptr, t0 + 600ms);
  cache.put(hash_of(20), nullptr, t0 + 1600ms);  // the four from 500–600 ms expired
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.find(hash_of(20), t0 + 1600ms).found);
}

}  // namespace
