// Every KeyStore passes the same tests: memory, and SQL against each driver
// named in LLMPROXY_SQL_DRIVERS (sqlite by default; postgres and mysql need
// the servers scripts/services.sh starts, see sql_pool_dbtest.cpp), on both
// tables of key rows (the admin keys, the usage of static keys).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/stores/keys/memory_key_store.h"
#include "proxy/stores/keys/sql_key_store.h"
#include "proxy/stores/sql/migrations.h"
#include "proxy/stores/sql/testing/test_databases.h"

namespace {

namespace asio = boost::asio;
using namespace llmproxy;
using namespace llmproxy::stores::keys;

// "memory", or "<driver>_<table>" for each SQL driver under test.
constexpr std::string_view kStaticUsage = "_static_key_usage";

std::vector<std::string> stores() {
  std::vector<std::string> out;
  if (!std::getenv("LLMPROXY_SQL_DRIVERS")) out.push_back("memory");
  for (const auto& driver : stores::sql::testing::drivers_under_test()) {
    out.push_back(driver + "_admin_keys");
    out.push_back(driver + std::string(kStaticUsage));
  }
  return out;
}

std::shared_ptr<stores::sql::SqlPool> open_database(const std::string& driver) {
  std::string error;
  std::shared_ptr<stores::sql::SqlPool> pool =
      stores::sql::SqlPool::open(stores::sql::testing::test_database(driver, "keys", 4), error);
  if (!pool) throw std::runtime_error(error);
  if (stores::sql::migrate(*pool, stores::sql::gateway_migrations(), error) < 0) throw std::runtime_error(error);
  for (const auto rows : {KeyRows::admin_keys, KeyRows::static_key_usage}) {
    stores::sql::Statement clear{"DELETE FROM " + table_of(rows), {}};
    if (!pool->run_blocking({clear}).ok()) throw std::runtime_error("cannot clear " + table_of(rows));
  }
  return pool;
}

StoredKey key(std::string hash, std::int64_t created_at) {
  StoredKey k;
  k.hash = std::move(hash);
  k.prefix = "sk-" + k.hash.substr(0, 4);
  k.name = "key " + k.hash;
  k.user_id = "user-1";
  k.expires_at = 2000000000;
  k.total_quota = 1000;
  k.quota_reset_period = "monthly";
  k.allowed_ips = "10.0.0.0/8,2001:db8::/32";
  k.created_at = k.updated_at = created_at;
  return k;
}

template <class F>
void run(F body) {
  stores::sql::testing::run_to_end(std::move(body));
}

class KeyStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = std::make_unique<MemoryKeyStore>();
    } else {
      const std::string& p = GetParam();
      const bool usage = p.ends_with(kStaticUsage);
      db_ = open_database(p.substr(0, p.find('_')));
      store_ = std::make_unique<SqlKeyStore>(db_, usage ? KeyRows::static_key_usage : KeyRows::admin_keys);
    }
  }
  std::shared_ptr<stores::sql::SqlPool> db_;
  std::unique_ptr<KeyStore> store_;
};

TEST_P(KeyStoreTest, CreateFindUpdateRemove) {
  StoredKey a = key("aa11", 100);
  a.starts_at = std::nullopt;
  Status created, dup, updated, removed, removed_again, update_missing;
  Found found, after_update, after_remove;
  run([&]() -> asio::awaitable<void> {
    created = co_await store_->create(a);
    dup = co_await store_->create(a);
    found = co_await store_->find("aa11");
    StoredKey changed = a;
    changed.name = "renamed";
    changed.status = 1;
    changed.used_quota = 999;  // not an update's to change
    changed.created_at = 5;    // nor this
    changed.updated_at = 200;
    updated = co_await store_->update(changed);
    after_update = co_await store_->find("aa11");
    update_missing = co_await store_->update(key("zz99", 1));
    removed = co_await store_->remove("aa11");
    removed_again = co_await store_->remove("aa11");
    after_remove = co_await store_->find("aa11");
  });
  EXPECT_TRUE(created.ok()) << created.message;
  EXPECT_EQ(dup.outcome, Outcome::duplicate);
  ASSERT_TRUE(found.key) << found.status.message;
  EXPECT_EQ(*found.key, a);
  EXPECT_TRUE(updated.ok()) << updated.message;
  ASSERT_TRUE(after_update.key);
  EXPECT_EQ(after_update.key->name, "renamed");
  EXPECT_EQ(after_update.key->status, 1);
  EXPECT_EQ(after_update.key->used_quota, 0);
  EXPECT_EQ(after_update.key->created_at, 100);
  EXPECT_EQ(after_update.key->updated_at, 200);
  EXPECT_EQ(update_missing.outcome, Outcome::not_found);
  EXPECT_TRUE(removed.ok());
  EXPECT_EQ(removed_again.outcome, Outcome::not_found);
  EXPECT_EQ(after_remove.status.outcome, Outcome::not_found);
}

TEST_P(KeyStoreTest, ListPagesInCreationOrderWithTheTotal) {
  Page first, second, beyond;
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i) co_await store_->create(key("k" + std::to_string(4 - i), 10 + i));
    first = co_await store_->list(0, 2);
    second = co_await store_->list(2, 10);
    beyond = co_await store_->list(50, 10);
  });
  ASSERT_TRUE(first.status.ok()) << first.status.message;
  EXPECT_EQ(first.total, 5);
  ASSERT_EQ(first.keys.size(), 2u);
  EXPECT_EQ(first.keys[0].hash, "k4");  // created first
  EXPECT_EQ(first.keys[1].hash, "k3");
  ASSERT_EQ(second.keys.size(), 3u);
  EXPECT_EQ(second.keys[2].hash, "k0");
  EXPECT_TRUE(beyond.keys.empty());
  EXPECT_EQ(beyond.total, 5);
}

TEST_P(KeyStoreTest, TheLargestOffsetIsAnEmptyPage) {
  // The admin API passes any offset up to INT64_MAX; offset + limit
  // overflowed in the memory store (found by fuzz/admin_request).
  Page page;
  run([&]() -> asio::awaitable<void> {
    co_await store_->create(key("k0", 10));
    page = co_await store_->list(INT64_MAX, 1000);
  });
  ASSERT_TRUE(page.status.ok()) << page.status.message;
  EXPECT_TRUE(page.keys.empty());
  EXPECT_EQ(page.total, 1);
}

TEST_P(KeyStoreTest, SyncFullReplacesIncrementalUpserts) {
  Page after_incremental, after_full, after_refused, after_empty;
  Status inc, full, empty, too_many;
  run([&]() -> asio::awaitable<void> {
    co_await store_->create(key("a", 1));
    co_await store_->create(key("b", 2));
    co_await store_->add_usage("b", 40);
    StoredKey b2 = key("b", 99);  // a sync cannot move created_at...
    b2.name = "b changed";
    b2.used_quota = 0;            // ...nor reset what the key used
    std::vector<StoredKey> incremental{b2, key("c", 3)};
    inc = co_await store_->sync(incremental, SyncMode::incremental);
    after_incremental = co_await store_->list(0, 10);
    std::vector<StoredKey> everything{key("d", 4), b2};
    full = co_await store_->sync(everything, SyncMode::full);
    after_full = co_await store_->list(0, 10);
    std::vector<StoredKey> huge(kMaxSyncKeys + 1, key("x", 1));
    too_many = co_await store_->sync(huge, SyncMode::full);
    after_refused = co_await store_->list(0, 10);
    empty = co_await store_->sync({}, SyncMode::full);
    after_empty = co_await store_->list(0, 10);
  });
  EXPECT_TRUE(inc.ok()) << inc.message;
  ASSERT_EQ(after_incremental.keys.size(), 3u);
  EXPECT_EQ(after_incremental.keys[1].name, "b changed");
  EXPECT_EQ(after_incremental.keys[1].used_quota, 40);
  EXPECT_EQ(after_incremental.keys[1].created_at, 2);
  EXPECT_TRUE(full.ok()) << full.message;
  ASSERT_EQ(after_full.keys.size(), 2u);
  EXPECT_EQ(after_full.keys[0].hash, "b");
  EXPECT_EQ(after_full.keys[0].used_quota, 40);
  EXPECT_EQ(after_full.keys[1].hash, "d");
  EXPECT_EQ(too_many.outcome, Outcome::unavailable);
  EXPECT_EQ(after_refused.total, 2);  // the refused sync wrote nothing
  EXPECT_TRUE(empty.ok()) << empty.message;
  EXPECT_TRUE(after_empty.keys.empty());
}

TEST_P(KeyStoreTest, UsageAddsUpAcrossConcurrentCallers) {
  constexpr int kCalls = 30;
  Found after;
  Status missing;
  asio::io_context io;
  int done = 0;
  run([&]() -> asio::awaitable<void> { co_await store_->create(key("q", 1)); });
  for (int i = 0; i < kCalls; ++i)
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      const Status s = co_await store_->add_usage("q", 7);
      if (s.ok()) ++done;
    }, asio::detached);
  io.run();
  run([&]() -> asio::awaitable<void> {
    after = co_await store_->find("q");
    missing = co_await store_->add_usage("nope", 1);
  });
  EXPECT_EQ(done, kCalls);
  ASSERT_TRUE(after.key);
  EXPECT_EQ(after.key->used_quota, 7 * kCalls);
  EXPECT_EQ(missing.outcome, Outcome::not_found);
}

// A usage write in a later quota period restarts the count, once: the
// second write of the same period adds again; a write with no period (a
// `never` key) only adds.
TEST_P(KeyStoreTest, UsageRestartsInANewPeriod) {
  Found same, restarted, added, never, kept;
  Status first;
  run([&]() -> asio::awaitable<void> {
    co_await store_->create(key("p", 100));
    co_await store_->add_usage("p", 10, 50);  // period began before the key: same period
    same = co_await store_->find("p");
    first = co_await store_->add_usage("p", 3, 200);  // a new period from 200
    restarted = co_await store_->find("p");
    co_await store_->add_usage("p", 4, 200);
    added = co_await store_->find("p");
    co_await store_->add_usage("p", 5);
    never = co_await store_->find("p");
    // What the key accrued (the count and when it began) survives an
    // update and a sync.
    StoredKey changed = key("p", 100);
    changed.name = "renamed";
    co_await store_->update(changed);
    std::vector<StoredKey> again{changed};
    co_await store_->sync(again, SyncMode::full);
    kept = co_await store_->find("p");
  });
  ASSERT_TRUE(kept.key);
  EXPECT_EQ(kept.key->name, "renamed");
  EXPECT_EQ(kept.key->used_quota, 12);
  EXPECT_EQ(kept.key->quota_reset_at, std::optional<std::int64_t>(200));
  ASSERT_TRUE(same.key && restarted.key && added.key && never.key);
  EXPECT_EQ(same.key->used_quota, 10);
  EXPECT_FALSE(same.key->quota_reset_at);
  EXPECT_TRUE(first.ok()) << first.message;
  EXPECT_EQ(restarted.key->used_quota, 3);
  EXPECT_EQ(restarted.key->quota_reset_at, std::optional<std::int64_t>(200));
  EXPECT_EQ(added.key->used_quota, 7);
  EXPECT_EQ(never.key->used_quota, 12);
}

TEST_P(KeyStoreTest, HostileFieldsAreStoredAsWritten) {
  StoredKey k = key("h1", 1);
  k.name = "'; DROP TABLE llmproxy_api_keys; --";
  k.user_id = "\" OR 1=1 --";
  Found back;
  Page all;
  run([&]() -> asio::awaitable<void> {
    co_await store_->create(k);
    back = co_await store_->find("' OR '1'='1");
    all = co_await store_->list(0, 10);
  });
  EXPECT_EQ(back.status.outcome, Outcome::not_found);
  ASSERT_EQ(all.keys.size(), 1u);
  EXPECT_EQ(all.keys[0], k);
}

INSTANTIATE_TEST_SUITE_P(Stores, KeyStoreTest, ::testing::ValuesIn(stores()),
                         [](const auto& info) { return info.param; });

}  // namespace
