// The auth filter with the builtin provider, on a memory key store behind a
// counting, breakable wrapper and a hand-driven clock: answers come from
// the cache within auth.cache_ttl (a disabled key stops at the TTL, not
// before the cache says so), a failing store is a 503, usage is charged to
// the key at the request's end and counts against its quota before the
// store has it, and mode `all` combines a table with the store.
#include "proxy/modules/auth/auth_filter.h"
#include "proxy/modules/auth/builtin_source.h"

#include <gtest/gtest.h>

#include "proxy/core/config/load.h"
#include "proxy/modules/auth/testing/filter_driver.h"
#include "proxy/modules/auth/testing/probed_store.h"

namespace {

namespace asio = boost::asio;
using namespace llmproxy;
using namespace std::chrono_literals;
using openai::ErrorId;
using stores::keys::StoredKey;

using modules::auth::testing::ProbedStore;

StoredKey row(const std::string& key) {
  StoredKey k;
  k.hash = auth::to_hex(auth::hash_key(key));
  k.prefix = auth::key_prefix(key);
  k.name = "n-" + key;
  k.user_id = "u-" + key;
  k.created_at = k.updated_at = 1796860800 - 86400;
  return k;
}

StoredKey with_quota(const std::string& key, std::int64_t total) {
  StoredKey k = row(key);
  k.total_quota = total;
  return k;
}

class BuiltinAuthTest : public ::testing::Test, protected modules::auth::testing::FilterDriver {
 protected:
  void build(const std::string& auth_yaml) {
    const std::string yaml = "admin: {enabled: true, token: t, db_path: x.db}\n" + auth_yaml +
                             "backends: [{name: a, url: 'http://a:1'}]\n";
    auto loaded = config::load_config_string(yaml, "auth.yaml", "", [](std::string_view) { return std::nullopt; });
    ASSERT_TRUE(loaded.ok()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
    auto a = auth::Authenticator::from(*loaded.config);
    ASSERT_TRUE(a) << a.error;
    modules::auth::StoreProviders stores{&env_, loaded.config->auth.cache_ttl, {}, loaded.config->auth.quota_check};
    for (std::size_t i = 0; i < a.value->providers(); ++i)
      stores.sources.push_back(a.value->source(i) == auth::ProviderSource::store
                                   ? std::make_shared<modules::auth::BuiltinSource>(store_)
                                   : nullptr);
    filter_ = std::make_unique<modules::auth::AuthFilter>(
        std::make_shared<const auth::Authenticator>(std::move(*a.value)), std::move(stores));
  }

  void put(const StoredKey& k) {
    std::vector<StoredKey> one{k};
    run([&]() -> asio::awaitable<void> { co_await store_->inner.sync(one, stores::keys::SyncMode::incremental); });
  }
  // Tokens another gateway instance charged to the key.
  void spend_elsewhere(const std::string& key, std::int64_t tokens) {
    run([&]() -> asio::awaitable<void> {
      co_await store_->inner.add_usage(auth::to_hex(auth::hash_key(key)), tokens, std::nullopt);
    });
  }
  StoredKey stored(const std::string& key) {
    stores::keys::Found f;
    run([&]() -> asio::awaitable<void> { f = co_await store_->inner.find(auth::to_hex(auth::hash_key(key))); });
    return f.key.value_or(StoredKey{});
  }

  std::shared_ptr<ProbedStore> store_ = std::make_shared<ProbedStore>();
};

constexpr const char* kBuiltin =
    "auth: {enabled: true, cache_ttl: 5s, pipeline: [{name: keys, type: builtin}]}\n";
// Quotas judged on the worker's cached record and its own charges.
constexpr const char* kBuiltinCached =
    "auth: {enabled: true, cache_ttl: 5s, quota_check: cached, pipeline: [{name: keys, type: builtin}]}\n";

TEST_F(BuiltinAuthTest, AnswersComeFromTheCacheUntilTheTtl) {
  build(kBuiltin);
  put(row("sk-alpha"));
  EXPECT_EQ(request("sk-alpha").caller, "n-sk-alpha");
  EXPECT_EQ(request("sk-nobody").error, ErrorId::invalid_api_key);
  EXPECT_EQ(store_->finds, 2);
  EXPECT_FALSE(request("sk-alpha").error);
  EXPECT_EQ(request("sk-nobody").error, ErrorId::invalid_api_key);
  EXPECT_EQ(store_->finds, 2);  // both answers cached

  StoredKey disabled = row("sk-alpha");
  disabled.status = 1;
  put(disabled);
  env_.now_ += 4s;
  EXPECT_FALSE(request("sk-alpha").error);  // still within the TTL
  env_.now_ += 1s;
  EXPECT_EQ(request("sk-alpha").error, ErrorId::key_disabled);  // at the TTL: asked again
  EXPECT_EQ(store_->finds, 3);
}

TEST_F(BuiltinAuthTest, AFailingStoreIsA503AndNotAWrongKey) {
  build(kBuiltin);
  put(row("sk-alpha"));
  store_->broken = true;
  EXPECT_EQ(request("sk-alpha").error, ErrorId::auth_unavailable);
  EXPECT_EQ(request("sk-nobody").error, ErrorId::auth_unavailable);
  store_->broken = false;
  EXPECT_FALSE(request("sk-alpha").error);  // failures are not cached
}

TEST_F(BuiltinAuthTest, AnUnreadableRowIsRefusedNotLetIn) {
  build(kBuiltin);
  StoredKey bad = row("sk-alpha");
  bad.allowed_ips = "10.0.0.0/99";
  put(bad);
  EXPECT_EQ(request("sk-alpha").error, ErrorId::auth_unavailable);
}

TEST_F(BuiltinAuthTest, UsageIsChargedAndCountsBeforeTheStoreHasIt) {
  build(kBuiltinCached);
  StoredKey k = row("sk-alpha");
  k.total_quota = 100;
  k.used_quota = 60;
  put(k);
  store_->broken = false;
  EXPECT_FALSE(request("sk-alpha", 30).error);  // 60 → 90
  EXPECT_EQ(stored("sk-alpha").used_quota, 90);
  // The cached record still says 60; the ledger adds the 30 this worker charged.
  EXPECT_FALSE(request("sk-alpha", 15).error);  // 90 < 100: let in, ends at 105
  EXPECT_EQ(request("sk-alpha").error, ErrorId::quota_exceeded);
  EXPECT_EQ(stored("sk-alpha").used_quota, 105);
  env_.now_ += 5s;  // fetched again: the store's 105 alone refuses
  EXPECT_EQ(request("sk-alpha").error, ErrorId::quota_exceeded);
}

// quota_check exact (the default): a key with a quota is read from the
// store on every request, so usage another instance wrote counts at once;
// a key without a quota still comes from the cache.
TEST_F(BuiltinAuthTest, AnExactQuotaSeesUsageWrittenElsewhereAtOnce) {
  build(kBuiltin);
  put(with_quota("sk-quota", 100));
  put(row("sk-free"));
  EXPECT_FALSE(request("sk-quota", 10).error);
  EXPECT_FALSE(request("sk-free").error);
  EXPECT_EQ(store_->finds, 2);
  EXPECT_FALSE(request("sk-free").error);
  EXPECT_EQ(store_->finds, 2);  // cached
  spend_elsewhere("sk-quota", 90);  // another instance used the rest
  EXPECT_EQ(request("sk-quota").error, ErrorId::quota_exceeded);
  EXPECT_EQ(store_->finds, 3);  // read again, within the TTL
  // A store that fails a reread: the cached record (now the refusing one) decides.
  store_->broken = true;
  EXPECT_EQ(request("sk-quota").error, ErrorId::quota_exceeded);
  EXPECT_EQ(store_->finds, 4);
}

TEST_F(BuiltinAuthTest, ACachedQuotaWaitsForTheTtl) {
  build(kBuiltinCached);
  put(with_quota("sk-quota", 100));
  EXPECT_FALSE(request("sk-quota", 10).error);
  spend_elsewhere("sk-quota", 90);
  EXPECT_FALSE(request("sk-quota").error);  // this worker's cached record: 10 of 100
  EXPECT_EQ(store_->finds, 1);
  env_.now_ += 5s;
  EXPECT_EQ(request("sk-quota").error, ErrorId::quota_exceeded);
}

// A cached key whose store is down keeps working on its cached record,
// quota included, while an uncached one is a 503.
TEST_F(BuiltinAuthTest, AFailedRereadLeavesTheDecisionToTheCache) {
  build(kBuiltin);
  put(with_quota("sk-quota", 100));
  EXPECT_FALSE(request("sk-quota", 60).error);
  store_->broken = true;
  EXPECT_FALSE(request("sk-quota", 50).error);  // 60 charged by this worker: let in, ends at 110
  EXPECT_EQ(request("sk-quota").error, ErrorId::quota_exceeded);  // cached 0 + 110 pending
  EXPECT_EQ(request("sk-other").error, ErrorId::auth_unavailable);
}

TEST_F(BuiltinAuthTest, AFailedWriteKeepsTheTokensAndRetries) {
  build(kBuiltin);
  put(row("sk-alpha"));
  EXPECT_FALSE(request("sk-alpha").error);  // cached while the store works
  store_->broken = true;
  EXPECT_FALSE(request("sk-alpha", 40).error);
  EXPECT_EQ(filter_->ledger(0)->unwritten(), 40);
  store_->broken = false;
  EXPECT_FALSE(request("sk-alpha", 2).error);  // within the retry pause: kept
  EXPECT_EQ(filter_->ledger(0)->unwritten(), 42);
  env_.now_ += modules::auth::UsageLedger::kRetryAfter;
  EXPECT_FALSE(request("sk-alpha", 1).error);
  EXPECT_EQ(filter_->ledger(0)->unwritten(), 0);
  EXPECT_EQ(stored("sk-alpha").used_quota, 43);
}

TEST_F(BuiltinAuthTest, ANewPeriodStartsTheCountAgain) {
  build(kBuiltin);
  StoredKey k = row("sk-alpha");
  k.total_quota = 100;
  k.used_quota = 100;
  k.quota_reset_period = "daily";
  k.quota_reset_at = 1796860800 - 86400;  // counted yesterday
  put(k);
  EXPECT_FALSE(request("sk-alpha", 7).error);
  const StoredKey after = stored("sk-alpha");
  EXPECT_EQ(after.used_quota, 7);
  EXPECT_EQ(after.quota_reset_at, std::optional<std::int64_t>(1796860800));
}

TEST_F(BuiltinAuthTest, ModeAllNeedsTheTableAndTheStore) {
  build("auth:\n  enabled: true\n  mode: all\n  pipeline:\n"
        "    - {name: t, type: static, static: {keys: [{key: sk-both, name: from-table}, {key: sk-table-only}]}}\n"
        "    - {name: keys, type: builtin}\n");
  put(row("sk-both"));
  put(row("sk-store-only"));
  EXPECT_EQ(request("sk-both").caller, "from-table");  // the first provider's record
  EXPECT_EQ(request("sk-table-only").error, ErrorId::invalid_api_key);
  EXPECT_EQ(request("sk-store-only").error, ErrorId::invalid_api_key);
  StoredKey off = row("sk-both");
  off.status = 1;
  put(off);
  env_.now_ += 10s;  // the default cache_ttl
  EXPECT_EQ(request("sk-both").error, ErrorId::key_disabled);
}

// Requests come from 10.1.2.3 (request()): a trusted proxy here, so the
// key's IP rules judge the address X-Forwarded-For names.
TEST_F(BuiltinAuthTest, BehindTrustedProxiesTheForwardedClientIsJudged) {
  build("auth:\n  enabled: true\n  trusted_proxies: [10.0.0.0/8]\n  pipeline:\n"
        "    - {name: t, type: static, static: {keys: [{key: sk-office, allowed_ips: [198.51.100.0/24]}]}}\n");
  forwarded_for_ = {"198.51.100.20"};
  EXPECT_FALSE(request("sk-office").error);
  forwarded_for_ = {"198.51.100.20, 203.0.113.9"};  // the nearest untrusted hop decides
  EXPECT_EQ(request("sk-office").error, ErrorId::ip_not_allowed);
  forwarded_for_ = {};
  EXPECT_EQ(request("sk-office").error, ErrorId::ip_not_allowed);  // unknown client
  build("auth:\n  enabled: true\n  pipeline:\n"
        "    - {name: t, type: static, static: {keys: [{key: sk-office, allowed_ips: [198.51.100.0/24]}]}}\n");
  forwarded_for_ = {"198.51.100.20"};
  EXPECT_EQ(request("sk-office").error, ErrorId::ip_not_allowed);  // no trusted proxies: the peer
}

}  // namespace
