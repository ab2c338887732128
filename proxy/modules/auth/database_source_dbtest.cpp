// The database provider's source against a user table in every SQL driver
// named in LLMPROXY_SQL_DRIVERS (sqlite in the unit suite; postgres and
// mysql in `db`, with the servers scripts/services.sh starts): rows read
// into records the decision judges, NULLs, a duplicate and an unreadable
// row, usage written with its period restart, and keys that try to be SQL.
// The key column is named `key`, a reserved word in MySQL: the quoting is
// exercised on every driver.
#include "proxy/env/testing/manual_env.h"
#include "proxy/modules/auth/database_source.h"

#include <gtest/gtest.h>

#include "proxy/core/auth/key_hash.h"
#include "proxy/shell/exchange.h"
#include "proxy/stores/sql/sql_pool.h"
#include "proxy/stores/sql/testing/test_databases.h"

namespace {

namespace asio = boost::asio;
using namespace llmproxy;
using modules::auth::DatabaseSource;
using modules::auth::DatabaseStatements;
using modules::auth::SourceAnswer;
using openai::ErrorId;
using stores::sql::Value;

constexpr std::int64_t kNow = 1796860800;  // 2026-12-10T00:00:00Z

const std::vector<std::string> kAllFields{"name",      "user_id",     "status",          "expires_at",
                                          "total_quota", "used_quota", "quota_reset_period", "quota_reset_at",
                                          "allowed_ips", "denied_ips"};

config::DatabaseProvider provider(std::vector<std::string> fields = kAllFields) {
  config::DatabaseProvider p;
  p.table = "auth_user_keys";
  p.key_column = "key";
  p.fields = std::move(fields);
  return p;
}

class DatabaseSourceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    env_.wall_ = WallTime(std::chrono::seconds(kNow));  // the source reads it for a quota without reset_at
    std::string error;
    pool_ = stores::sql::SqlPool::open(stores::sql::testing::test_database(GetParam(), "authdb", 4), error);
    ASSERT_TRUE(pool_) << error;
    const char q = pool_->dialect() == stores::sql::Dialect::mysql ? '`' : '"';
    exec("DROP TABLE IF EXISTS auth_user_keys");
    // No unique index on the key: the table a careless schema has.
    exec(std::string("CREATE TABLE auth_user_keys (") + q + "key" + q +
         " VARCHAR(200) NOT NULL, name VARCHAR(100), user_id VARCHAR(100), status VARCHAR(20), "
         "expires_at VARCHAR(40), total_quota BIGINT, used_quota BIGINT, quota_reset_period VARCHAR(20), "
         "quota_reset_at BIGINT, allowed_ips VARCHAR(200), denied_ips VARCHAR(200), quota DOUBLE PRECISION, "
         "reset_text VARCHAR(40))");
    use(provider());
  }

  void exec(std::string sql, std::vector<Value> params = {}) {
    const auto r = pool_->run_blocking({stores::sql::Statement{std::move(sql), std::move(params)}});
    ASSERT_TRUE(r.ok()) << r.error;
  }
  stores::sql::Result query(std::string sql, std::vector<Value> params = {}) {
    return pool_->run_blocking({stores::sql::Statement{std::move(sql), std::move(params)}});
  }
  // A row with the given key and columns (others NULL).
  void insert(const std::string& key, std::vector<std::pair<std::string, Value>> cols = {}) {
    const char q = pool_->dialect() == stores::sql::Dialect::mysql ? '`' : '"';
    std::string names = std::string(1, q) + "key" + q, marks = "?";
    std::vector<Value> params{key};
    for (auto& [n, v] : cols) {
      names += ", " + n;
      marks += ", ?";
      params.push_back(std::move(v));
    }
    exec("INSERT INTO auth_user_keys (" + names + ") VALUES (" + marks + ")", std::move(params));
  }
  void use(const config::DatabaseProvider& p) {
    std::string error;
    std::shared_ptr<const DatabaseStatements> sql = DatabaseStatements::build(p, pool_->dialect(), error);
    ASSERT_TRUE(sql) << error;
    source_ = std::make_unique<DatabaseSource>(pool_, std::move(sql), env_);
  }

  SourceAnswer lookup(const std::string& key) {
    const auth::KeyHash hash = auth::hash_key(key);
    const std::optional<util::IpAddress> client;
    const shell::Exchange ex;
    const modules::auth::LookupRequest req{key, hash, 3, client, ex};
    SourceAnswer out;
    stores::sql::testing::run_to_end([&]() -> asio::awaitable<void> { out = co_await source_->lookup(req); });
    return out;
  }
  stores::keys::Status add_usage(const std::string& ref, std::int64_t tokens, std::optional<std::int64_t> period) {
    stores::keys::Status out;
    stores::sql::testing::run_to_end(
        [&]() -> asio::awaitable<void> { out = co_await source_->add_usage(ref, tokens, period); });
    return out;
  }
  // used_quota and quota_reset_at of the row with `key` (-1 for NULL).
  std::pair<std::int64_t, std::int64_t> usage_of(const std::string& key) {
    const char q = pool_->dialect() == stores::sql::Dialect::mysql ? '`' : '"';
    const auto r = query(std::string("SELECT used_quota, quota_reset_at FROM auth_user_keys WHERE ") + q + "key" + q +
                         " = ?", {key});
    if (!r.ok() || r.rows.size() != 1) return {-2, -2};
    const auto& row = r.rows[0];
    return {stores::sql::is_null(row[0]) ? -1 : stores::sql::as_int(row[0]),
            stores::sql::is_null(row[1]) ? -1 : stores::sql::as_int(row[1])};
  }
  std::optional<ErrorId> decide(const SourceAnswer& a, const char* client = "10.1.2.3") {
    const auto ip = util::parse_ip(client);
    return auth::decide(*a.record, std::optional<util::IpAddress>(*ip.value), WallTime(std::chrono::seconds(kNow)))
        .error;
  }

  std::shared_ptr<stores::sql::SqlPool> pool_;
  env::testing::ManualEnv env_;
  std::unique_ptr<DatabaseSource> source_;
};

TEST_P(DatabaseSourceTest, AKnownRowBecomesTheRecord) {
  insert("sk-alpha-0001", {{"name", "alpha"},
                           {"user_id", "team-a"},
                           {"status", "enabled"},
                           {"expires_at", "2027-01-01T00:00:00Z"},
                           {"total_quota", std::int64_t{1000}},
                           {"used_quota", std::int64_t{10}},
                           {"quota_reset_period", "monthly"},
                           {"quota_reset_at", std::int64_t{kNow - 3600}},
                           {"allowed_ips", "10.0.0.0/8,2001:db8::/32"},
                           {"denied_ips", "10.9.9.9"}});
  const SourceAnswer a = lookup("sk-alpha-0001");
  ASSERT_EQ(a.kind, SourceAnswer::Kind::known) << a.error;
  EXPECT_EQ(a.record->name, "alpha");
  EXPECT_EQ(a.record->user_id, "team-a");
  EXPECT_EQ(a.record->provider, 3u);
  EXPECT_EQ(a.record->store_ref, "sk-alpha-0001");
  EXPECT_EQ(a.record->id, auth::to_hex(auth::hash_key("sk-alpha-0001")));
  EXPECT_EQ(a.record->expires_at, WallTime(std::chrono::seconds(1798761600)));
  EXPECT_EQ(a.record->quota.total, 1000);
  EXPECT_EQ(a.record->quota.used, 10);
  EXPECT_EQ(a.record->quota.period, config::QuotaPeriod::monthly);
  EXPECT_EQ(a.record->quota.counted_since, WallTime(std::chrono::seconds(kNow - 3600)));
  EXPECT_EQ(decide(a), std::nullopt);
  EXPECT_EQ(decide(a, "10.9.9.9"), ErrorId::ip_not_allowed);      // denied wins
  EXPECT_EQ(decide(a, "192.0.2.1"), ErrorId::ip_not_allowed);     // not in the allow list
  EXPECT_EQ(decide(a, "2001:db8::5"), std::nullopt);
  EXPECT_TRUE(source_->keeps_usage());
}

TEST_P(DatabaseSourceTest, UnknownDisabledExpiredAndUsedUp) {
  insert("sk-off", {{"status", "disabled"}});
  insert("sk-numeric-off", {{"status", "1"}});
  insert("sk-old", {{"expires_at", std::to_string(kNow - 1)}});
  insert("sk-spent", {{"total_quota", std::int64_t{100}}, {"used_quota", std::int64_t{100}}});
  EXPECT_EQ(lookup("sk-nobody").kind, SourceAnswer::Kind::unknown);
  EXPECT_EQ(decide(lookup("sk-off")), ErrorId::key_disabled);
  EXPECT_EQ(decide(lookup("sk-numeric-off")), ErrorId::key_disabled);
  EXPECT_EQ(decide(lookup("sk-old")), ErrorId::key_expired);
  EXPECT_EQ(decide(lookup("sk-spent")), ErrorId::quota_exceeded);
}

TEST_P(DatabaseSourceTest, NullColumnsAreAbsentFields) {
  insert("sk-bare");
  const SourceAnswer a = lookup("sk-bare");
  ASSERT_EQ(a.kind, SourceAnswer::Kind::known) << a.error;
  EXPECT_EQ(a.record->name, "");
  EXPECT_EQ(a.record->status, auth::KeyStatus::active);
  EXPECT_FALSE(a.record->expires_at);
  EXPECT_EQ(a.record->quota.total, 0);
  EXPECT_EQ(decide(a, "203.0.113.7"), std::nullopt);
}

TEST_P(DatabaseSourceTest, TheKeyMustMatchByteForByte) {
  insert("sk-Mixed-Case");
  EXPECT_EQ(lookup("sk-Mixed-Case").kind, SourceAnswer::Kind::known);
  // MySQL's default collation compares without case and trailing spaces.
  EXPECT_EQ(lookup("SK-MIXED-CASE").kind, SourceAnswer::Kind::unknown);
  EXPECT_EQ(lookup("sk-Mixed-Case ").kind, SourceAnswer::Kind::unknown);
}

TEST_P(DatabaseSourceTest, ATwiceListedKeyFailsWithoutNamingIt) {
  insert("sk-twice-secret", {{"name", "one"}});
  insert("sk-twice-secret", {{"name", "two"}});
  const SourceAnswer a = lookup("sk-twice-secret");
  EXPECT_EQ(a.kind, SourceAnswer::Kind::failed);
  EXPECT_NE(a.error.find("not unique"), std::string::npos) << a.error;
  EXPECT_EQ(a.error.find("sk-twice-secret"), std::string::npos) << a.error;
}

TEST_P(DatabaseSourceTest, AnUnreadableRowFailsNamingTheColumn) {
  insert("sk-bad-status-1", {{"status", "maybe"}});
  insert("sk-bad-quota-12", {{"total_quota", std::int64_t{-5}}});
  insert("sk-bad-ips-0123", {{"allowed_ips", "10.0.0.0/99"}});
  for (const char* key : {"sk-bad-status-1", "sk-bad-quota-12", "sk-bad-ips-0123"}) {
    const SourceAnswer a = lookup(key);
    EXPECT_EQ(a.kind, SourceAnswer::Kind::failed) << key;
    EXPECT_EQ(a.error.find(key), std::string::npos) << a.error;
  }
  EXPECT_NE(lookup("sk-bad-status-1").error.find("column status"), std::string::npos);
  EXPECT_NE(lookup("sk-bad-quota-12").error.find("column total_quota"), std::string::npos);
  EXPECT_NE(lookup("sk-bad-ips-0123").error.find("allowed_ips"), std::string::npos);
}

TEST_P(DatabaseSourceTest, ADriverErrorFailsWithItsMessage) {
  exec("DROP TABLE auth_user_keys");
  const SourceAnswer a = lookup("sk-table-gone-1");
  EXPECT_EQ(a.kind, SourceAnswer::Kind::failed);
  EXPECT_NE(a.error.find("auth_user_keys"), std::string::npos) << a.error;
  EXPECT_EQ(a.error.find("sk-table-gone-1"), std::string::npos) << a.error;
  EXPECT_EQ(add_usage("sk-table-gone-1", 5, std::nullopt).outcome, stores::keys::Outcome::unavailable);
}

TEST_P(DatabaseSourceTest, UsageIsAddedAndRestartsInANewPeriod) {
  insert("sk-count", {{"used_quota", std::int64_t{10}}, {"quota_reset_at", std::int64_t{kNow - 86400}}});
  insert("sk-null-count");
  EXPECT_TRUE(add_usage("sk-count", 5, std::nullopt).ok());
  EXPECT_EQ(usage_of("sk-count"), std::make_pair(std::int64_t{15}, kNow - 86400));
  EXPECT_TRUE(add_usage("sk-count", 5, kNow - 86400).ok());  // the same period: added
  EXPECT_EQ(usage_of("sk-count"), std::make_pair(std::int64_t{20}, kNow - 86400));
  EXPECT_TRUE(add_usage("sk-count", 7, kNow).ok());  // a new period: restarted
  EXPECT_EQ(usage_of("sk-count"), std::make_pair(std::int64_t{7}, kNow));
  // NULLs: no count yet, and the current period, which the charge dates.
  EXPECT_TRUE(add_usage("sk-null-count", 3, kNow).ok());
  EXPECT_EQ(usage_of("sk-null-count"), std::make_pair(std::int64_t{3}, kNow));
  EXPECT_TRUE(add_usage("sk-null-count", 4, std::nullopt).ok());
  EXPECT_EQ(usage_of("sk-null-count"), std::make_pair(std::int64_t{7}, kNow));
  EXPECT_EQ(add_usage("sk-gone", 4, kNow).outcome, stores::keys::Outcome::not_found);
}

TEST_P(DatabaseSourceTest, UsageWithoutAPeriodColumnOnlyAdds) {
  use(provider({"total_quota", "used_quota"}));
  insert("sk-plain", {{"total_quota", std::int64_t{50}}});
  EXPECT_TRUE(source_->keeps_usage());
  EXPECT_TRUE(add_usage("sk-plain", 9, kNow).ok());
  EXPECT_EQ(usage_of("sk-plain"), std::make_pair(std::int64_t{9}, std::int64_t{-1}));
}

TEST_P(DatabaseSourceTest, EmptyFieldsMeanTheKeyExistsAndNothingElse) {
  use(provider({}));
  insert("sk-exists", {{"status", "disabled"}, {"total_quota", std::int64_t{1}}, {"used_quota", std::int64_t{5}}});
  const SourceAnswer a = lookup("sk-exists");
  ASSERT_EQ(a.kind, SourceAnswer::Kind::known) << a.error;
  EXPECT_EQ(decide(a), std::nullopt);  // the columns are not read
  EXPECT_FALSE(source_->keeps_usage());
  EXPECT_EQ(lookup("sk-not-there").kind, SourceAnswer::Kind::unknown);
}

TEST_P(DatabaseSourceTest, AWholeNumberInAFloatingColumnIsTokens) {
  use(provider({"quota", "used_quota"}));
  insert("sk-float", {{"quota", 100.0}, {"used_quota", std::int64_t{1}}});
  insert("sk-frac", {{"quota", 2.5}});
  const SourceAnswer a = lookup("sk-float");
  ASSERT_EQ(a.kind, SourceAnswer::Kind::known) << a.error;
  EXPECT_EQ(a.record->quota.total, 100);
  EXPECT_EQ(lookup("sk-frac").kind, SourceAnswer::Kind::failed);
}

TEST_P(DatabaseSourceTest, APeriodStartWrittenAsTextIsRefusedWhenCounting) {
  config::DatabaseProvider p = provider({"used_quota", "reset_text"});
  use(p);
  // reset_text is not a field key_fields knows: read, left alone.
  insert("sk-text", {{"reset_text", "2026-12-01T00:00:00Z"}});
  EXPECT_EQ(lookup("sk-text").kind, SourceAnswer::Kind::known);
  // A quota_reset_at column holding text, with usage counted by period.
  exec("DROP TABLE auth_user_keys");
  exec("CREATE TABLE auth_user_keys (k VARCHAR(50), used_quota BIGINT, quota_reset_at VARCHAR(40))");
  exec("INSERT INTO auth_user_keys (k, quota_reset_at) VALUES (?, ?)", {"sk-text", "2026-12-01T00:00:00Z"});
  p.key_column = "k";
  p.fields = {"used_quota", "quota_reset_at"};
  use(p);
  const SourceAnswer a = lookup("sk-text");
  EXPECT_EQ(a.kind, SourceAnswer::Kind::failed);
  EXPECT_NE(a.error.find("unix seconds"), std::string::npos) << a.error;
}

// The start-up probe's statement: a name the table lacks is an error on
// every driver (SQLite reads an unknown double-quoted name as a string).
TEST_P(DatabaseSourceTest, AMisspeltColumnIsAnErrorNotAString) {
  for (const auto& [column, fields] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"key", {"name", "stauts"}}, {"kee", {"name"}}}) {
    config::DatabaseProvider p = provider(fields);
    p.key_column = column;
    std::string error;
    const auto sql = DatabaseStatements::build(p, pool_->dialect(), error);
    ASSERT_TRUE(sql) << error;
    EXPECT_FALSE(query(sql->probe).ok()) << sql->probe;
    EXPECT_FALSE(query(sql->lookup, {"kee"}).ok()) << sql->lookup;
  }
}

TEST_P(DatabaseSourceTest, KeysThatTryToBeSqlFindNothingAndChangeNothing) {
  insert("sk-real", {{"used_quota", std::int64_t{1}}});
  const std::vector<std::string> attacks{"' OR '1'='1",
                                         "' OR 1=1 --",
                                         "\"; DROP TABLE auth_user_keys; --",
                                         "'; DROP TABLE auth_user_keys; --",
                                         "` OR 1=1 #",
                                         "sk-real' --"};
  for (const auto& k : attacks) {
    EXPECT_EQ(lookup(k).kind, SourceAnswer::Kind::unknown) << k;
    EXPECT_EQ(add_usage(k, 100, std::nullopt).outcome, stores::keys::Outcome::not_found) << k;
    EXPECT_EQ(add_usage(k, 100, kNow).outcome, stores::keys::Outcome::not_found) << k;
  }
  const auto count = query("SELECT COUNT(*) FROM auth_user_keys");
  ASSERT_TRUE(count.ok()) << count.error;
  EXPECT_EQ(stores::sql::as_int(count.rows.at(0).at(0)), 1);
  EXPECT_EQ(usage_of("sk-real").first, 1);
}

INSTANTIATE_TEST_SUITE_P(Drivers, DatabaseSourceTest,
                         ::testing::ValuesIn(stores::sql::testing::drivers_under_test()),
                         [](const auto& info) { return info.param; });

// The statements alone: names are checked and quoted per dialect.
TEST(DatabaseStatements, NamesAreCheckedAndQuoted) {
  std::string error;
  config::DatabaseProvider p = provider({"name", "used_quota", "quota_reset_at"});
  p.table = "billing.user_keys";
  const auto my = DatabaseStatements::build(p, stores::sql::Dialect::mysql, error);
  ASSERT_TRUE(my) << error;
  EXPECT_EQ(my->lookup,
            "SELECT `key`, `name`, `used_quota`, `quota_reset_at` FROM `billing`.`user_keys` WHERE `key` = ? LIMIT 2");
  const auto pg = DatabaseStatements::build(p, stores::sql::Dialect::postgres, error);
  ASSERT_TRUE(pg) << error;
  EXPECT_EQ(DatabaseStatements::build(p, stores::sql::Dialect::sqlite, error)->probe,
            "SELECT `key`, `name`, `used_quota`, `quota_reset_at` FROM `billing`.`user_keys` WHERE 1 = 0");
  EXPECT_EQ(pg->add, "UPDATE \"billing\".\"user_keys\" SET \"used_quota\" = COALESCE(\"used_quota\", 0) + ? "
                     "WHERE \"key\" = ?");
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"table", "keys; DROP TABLE x"}, {"table", "a.b.c"}, {"key_column", "k\"ey"}, {"fields", "1st"}}) {
    config::DatabaseProvider bad = provider();
    if (field == "table") bad.table = value;
    if (field == "key_column") bad.key_column = value;
    if (field == "fields") bad.fields = {"name", value};
    EXPECT_FALSE(DatabaseStatements::build(bad, stores::sql::Dialect::sqlite, error)) << value;
    EXPECT_EQ(error.rfind(field + ":", 0), 0u) << error;
  }
}

}  // namespace
