// Static keys with quotas (static_source.h) through the auth filter, the
// usage store a memory store behind a counting, breakable wrapper, two
// "instances" (two filters, each its own source and cache) sharing it:
// a key without a quota never touches the store; a quota'd key's count
// starts at the config's used_quota, is made in the store at the first
// write and seen by the other instance at once; a new period restarts it;
// a store that fails refuses the quota'd key (503) but not the others.
#include "proxy/modules/auth/static_source.h"

#include <gtest/gtest.h>

#include "proxy/core/config/load.h"
#include "proxy/modules/auth/auth_filter.h"
#include "proxy/modules/auth/testing/filter_driver.h"
#include "proxy/modules/auth/testing/probed_store.h"

namespace {

namespace asio = boost::asio;
using namespace llmproxy;
using openai::ErrorId;
using stores::keys::StoredKey;

constexpr std::int64_t kToday = 1796860800;  // ManualEnv's wall clock: 2026-12-10T00:00:00Z

class StaticQuotaTest : public ::testing::Test, protected modules::auth::testing::FilterDriver {
 protected:
  // Filter `which` (0 or 1: two instances on one usage store).
  void build(const std::string& yaml_keys) {
    const std::string yaml = yaml_keys + "backends: [{name: a, url: 'http://a:1'}]\n";
    auto loaded = config::load_config_string(yaml, "auth.yaml", "", [](std::string_view) { return std::nullopt; });
    ASSERT_TRUE(loaded.ok()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
    auto a = auth::Authenticator::from(*loaded.config);
    ASSERT_TRUE(a) << a.error;
    auth_ = std::make_shared<const auth::Authenticator>(std::move(*a.value));
    ASSERT_TRUE(auth_->counts_static_usage());
    for (auto& f : filters_) {
      modules::auth::StoreProviders stores{&env_, loaded.config->auth.cache_ttl, {}, loaded.config->auth.quota_check};
      for (std::size_t i = 0; i < auth_->providers(); ++i)
        stores.sources.push_back(auth_->counted(i)
                                     ? std::make_shared<modules::auth::StaticSource>(auth_, i, store_, env_)
                                     : nullptr);
      f = std::make_unique<modules::auth::AuthFilter>(auth_, std::move(stores));
    }
    use(0);
  }
  void use(int which) { filter_ = std::move(filters_[which]); current_ = which; }
  // Switches the driver to the other instance's filter.
  void other() {
    filters_[current_] = std::move(filter_);
    use(1 - current_);
  }

  StoredKey stored(const std::string& key) {
    stores::keys::Found f;
    run([&]() -> asio::awaitable<void> { f = co_await store_->inner.find(auth::to_hex(auth::hash_key(key))); });
    return f.key.value_or(StoredKey{});
  }
  void put(const StoredKey& k) {
    std::vector<StoredKey> one{k};
    run([&]() -> asio::awaitable<void> { co_await store_->inner.sync(one, stores::keys::SyncMode::incremental); });
  }

  std::shared_ptr<modules::auth::testing::ProbedStore> store_ =
      std::make_shared<modules::auth::testing::ProbedStore>();
  std::shared_ptr<const auth::Authenticator> auth_;
  std::unique_ptr<modules::auth::AuthFilter> filters_[2];
  int current_ = 0;
};

constexpr const char* kKeys =
    "api_keys:\n"
    "  - {key: sk-open, name: open}\n"
    "  - {key: sk-capped, name: capped, total_quota: 100, used_quota: 80}\n";

TEST_F(StaticQuotaTest, AKeyWithoutAQuotaNeverTouchesTheStore) {
  build(kKeys);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(request("sk-open", 50).caller, "open");
  EXPECT_EQ(store_->finds, 0);
  EXPECT_EQ(stored("sk-open").hash, "");  // no row: nothing counted
  EXPECT_EQ(request("sk-nope").error, ErrorId::invalid_api_key);
}

TEST_F(StaticQuotaTest, TheCountStartsAtTheConfigsUsedQuotaAndIsSharedAtOnce) {
  build(kKeys);
  EXPECT_EQ(request("sk-capped", 15).caller, "capped");  // 80 used: let in
  const StoredKey row = stored("sk-capped");
  EXPECT_EQ(row.used_quota, 95);  // the config's 80, then this request's 15
  EXPECT_EQ(row.prefix, auth::key_prefix("sk-capped"));
  other();  // the other instance reads the row: 95 of 100
  EXPECT_EQ(request("sk-capped", 10).caller, "capped");
  EXPECT_EQ(stored("sk-capped").used_quota, 105);
  other();
  EXPECT_EQ(request("sk-capped").error, ErrorId::quota_exceeded);
  other();
  EXPECT_EQ(request("sk-capped").error, ErrorId::quota_exceeded);
  EXPECT_EQ(request("sk-open").caller, "open");
}

TEST_F(StaticQuotaTest, ANewPeriodStartsTheCountAgain) {
  build("auth:\n  enabled: true\n  pipeline:\n"
        "    - {name: fixed, type: static, static: {keys: [{key: sk-daily, total_quota: 100, "
        "quota_reset_period: daily}]}}\n");
  StoredKey yesterday;
  yesterday.hash = auth::to_hex(auth::hash_key("sk-daily"));
  yesterday.prefix = "sk-d";
  yesterday.used_quota = 100;
  yesterday.quota_reset_period = "daily";
  yesterday.quota_reset_at = yesterday.created_at = kToday - 86400;
  put(yesterday);
  EXPECT_FALSE(request("sk-daily", 7).error);  // yesterday's 100 do not count today
  const StoredKey row = stored("sk-daily");
  EXPECT_EQ(row.used_quota, 7);
  EXPECT_EQ(row.quota_reset_at, std::optional<std::int64_t>(kToday));
}

TEST_F(StaticQuotaTest, TheFirstRowOfAPeriodicKeyBelongsToThisPeriod) {
  build("api_keys: [{key: sk-m, total_quota: 1000, used_quota: 10, quota_reset_period: monthly}]\n");
  EXPECT_FALSE(request("sk-m", 5).error);
  const StoredKey row = stored("sk-m");
  EXPECT_EQ(row.used_quota, 15);
  EXPECT_EQ(row.quota_reset_at, std::optional<std::int64_t>(kToday - 9 * 86400));  // 2026-12-01
}

TEST_F(StaticQuotaTest, AFailingStoreRefusesOnlyTheKeysItCounts) {
  build(kKeys);
  store_->broken = true;
  EXPECT_EQ(request("sk-capped").error, ErrorId::auth_unavailable);
  EXPECT_EQ(request("sk-open").caller, "open");
  store_->broken = false;
  EXPECT_EQ(request("sk-capped", 1).caller, "capped");
}

TEST_F(StaticQuotaTest, AnUnreadableRowIsRefusedNotLetIn) {
  build(kKeys);
  StoredKey bad;
  bad.hash = auth::to_hex(auth::hash_key("sk-capped"));
  bad.used_quota = -5;
  put(bad);
  EXPECT_EQ(request("sk-capped").error, ErrorId::auth_unavailable);
}

TEST_F(StaticQuotaTest, TheConfigDecidesStatusAndAddressesWhateverTheRow) {
  build("api_keys: [{key: sk-off, status: disabled, total_quota: 100}]\n");
  EXPECT_EQ(request("sk-off").error, ErrorId::key_disabled);
}

}  // namespace
