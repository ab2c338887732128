// The auth filter with a database provider on a real SQLite file and a
// hand-driven clock: answers come from the worker's cache within
// auth.cache_ttl (the table is not asked again: a dropped table goes
// unnoticed until then), a disabled row stops the key at the TTL, a table
// that cannot answer is a 503 for keys not cached, and usage lands in the
// user's table and counts against the quota before the next read.
#include <gtest/gtest.h>

#include "proxy/core/config/load.h"
#include "proxy/modules/auth/auth_filter.h"
#include "proxy/modules/auth/database_source.h"
#include "proxy/modules/auth/testing/filter_driver.h"
#include "proxy/stores/sql/sql_pool.h"
#include "proxy/stores/sql/testing/test_databases.h"

namespace {

using namespace llmproxy;
using namespace std::chrono_literals;
using openai::ErrorId;
using stores::sql::Value;

constexpr const char* kConfig =
    "storage: {databases: [{name: users, driver: sqlite, path: unused.db}]}\n"
    "auth:\n"
    "  enabled: true\n"
    "  cache_ttl: 5s\n"
    "  quota_check: cached\n"  // the usage test counts on the cached record plus this worker's charges
    "  pipeline:\n"
    "    - name: db\n"
    "      type: database\n"
    "      database: {storage: users, table: customer_keys, key_column: api_key,\n"
    "                 fields: [name, status, total_quota, used_quota]}\n"
    "backends: [{name: a, url: 'http://a:1'}]\n";

class DatabaseAuthTest : public ::testing::Test, protected modules::auth::testing::FilterDriver {
 protected:
  void SetUp() override {
    std::string error;
    pool_ = stores::sql::SqlPool::open(stores::sql::testing::test_database("sqlite", "dbauth-filter", 2), error);
    ASSERT_TRUE(pool_) << error;
    exec("DROP TABLE IF EXISTS customer_keys");
    exec("CREATE TABLE customer_keys (api_key TEXT PRIMARY KEY, name TEXT, status TEXT, total_quota INTEGER, "
         "used_quota INTEGER)");
    auto loaded = config::load_config_string(kConfig, "auth.yaml", "", [](std::string_view) { return std::nullopt; });
    ASSERT_TRUE(loaded.ok()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
    auto a = auth::Authenticator::from(*loaded.config);
    ASSERT_TRUE(a) << a.error;
    std::shared_ptr<const modules::auth::DatabaseStatements> sql = modules::auth::DatabaseStatements::build(
        loaded.config->auth.pipeline[0].database, pool_->dialect(), error);
    ASSERT_TRUE(sql) << error;
    modules::auth::StoreProviders stores{&env_, loaded.config->auth.cache_ttl, {}, loaded.config->auth.quota_check};
    stores.sources.push_back(std::make_shared<modules::auth::DatabaseSource>(pool_, sql, env_));
    filter_ = std::make_unique<modules::auth::AuthFilter>(
        std::make_shared<const auth::Authenticator>(std::move(*a.value)), std::move(stores));
  }

  void exec(std::string sql, std::vector<Value> params = {}) {
    const auto r = pool_->run_blocking({stores::sql::Statement{std::move(sql), std::move(params)}});
    ASSERT_TRUE(r.ok()) << r.error;
  }
  std::int64_t used(const std::string& key) {
    const auto r = pool_->run_blocking({stores::sql::Statement{
        "SELECT used_quota FROM customer_keys WHERE api_key = ?", {key}}});
    return r.ok() && r.rows.size() == 1 ? stores::sql::as_int(r.rows[0][0], -1) : -2;
  }

  std::shared_ptr<stores::sql::SqlPool> pool_;
};

TEST_F(DatabaseAuthTest, ADisabledRowStopsTheKeyAtTheTtl) {
  exec("INSERT INTO customer_keys (api_key, name, status) VALUES (?, ?, ?)", {"sk-user-one", "one", "enabled"});
  EXPECT_EQ(request("sk-user-one").caller, "one");
  EXPECT_EQ(request("sk-nobody").error, ErrorId::invalid_api_key);
  exec("UPDATE customer_keys SET status = 'disabled' WHERE api_key = 'sk-user-one'");
  exec("INSERT INTO customer_keys (api_key, name) VALUES ('sk-nobody', 'late')");
  env_.now_ += 4s;
  EXPECT_FALSE(request("sk-user-one").error);  // cached: the table is not asked
  EXPECT_EQ(request("sk-nobody").error, ErrorId::invalid_api_key);  // "unknown" is cached too
  env_.now_ += 1s;
  EXPECT_EQ(request("sk-user-one").error, ErrorId::key_disabled);
  EXPECT_EQ(request("sk-nobody").caller, "late");
}

TEST_F(DatabaseAuthTest, ATableThatCannotAnswerIsA503ForKeysNotCached) {
  exec("INSERT INTO customer_keys (api_key, name) VALUES ('sk-user-one', 'one')");
  EXPECT_FALSE(request("sk-user-one").error);
  exec("ALTER TABLE customer_keys RENAME TO customer_keys_moved");
  // A second request within the TTL asks nothing: the table's absence
  // shows only to keys not cached.
  env_.now_ += 4s;
  EXPECT_FALSE(request("sk-user-one").error);
  EXPECT_EQ(request("sk-user-two").error, ErrorId::auth_unavailable);
  env_.now_ += 1s;
  EXPECT_EQ(request("sk-user-one").error, ErrorId::auth_unavailable);  // neither let in nor told it is wrong
  exec("ALTER TABLE customer_keys_moved RENAME TO customer_keys");
  EXPECT_FALSE(request("sk-user-one").error);  // failures are not cached: back at once
}

TEST_F(DatabaseAuthTest, UsageLandsInTheTableAndCountsAgainstTheQuota) {
  exec("INSERT INTO customer_keys (api_key, name, total_quota, used_quota) VALUES ('sk-user-one', 'one', 100, 60)");
  EXPECT_FALSE(request("sk-user-one", 30).error);  // 60 → 90
  EXPECT_EQ(used("sk-user-one"), 90);
  EXPECT_FALSE(request("sk-user-one", 15).error);  // the cached 60 + the 30 charged: 90 < 100
  EXPECT_EQ(request("sk-user-one").error, ErrorId::quota_exceeded);
  EXPECT_EQ(used("sk-user-one"), 105);
  env_.now_ += 5s;  // read again: the table's 105 alone refuses
  EXPECT_EQ(request("sk-user-one").error, ErrorId::quota_exceeded);
}

}  // namespace
