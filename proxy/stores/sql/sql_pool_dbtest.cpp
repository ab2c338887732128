// The SQL pool and its drivers against real databases: the same tests for
// every driver named in LLMPROXY_SQL_DRIVERS (comma-separated: sqlite,
// postgres, mysql). sqlite uses a temporary file; postgres and mysql use the
// servers scripts/services.sh starts (LLMPROXY_TEST_POSTGRES and
// LLMPROXY_TEST_MYSQL hold their dsn). A driver named without its server is
// a failure, not a skip.
#include <gtest/gtest.h>


#include "proxy/stores/sql/migrations.h"
#include "proxy/stores/sql/sql_pool.h"
#include "proxy/stores/sql/testing/test_databases.h"

namespace {

namespace asio = boost::asio;
using namespace llmproxy;
using namespace llmproxy::stores::sql;

namespace sqltest = llmproxy::stores::sql::testing;

config::DatabaseConfig database(const std::string& driver) { return sqltest::test_database(driver, "pool", 3); }

template <class F>
void run_async(F body) {
  sqltest::run_to_end(std::move(body));
}

class SqlPoolTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string error;
    pool_ = SqlPool::open(database(GetParam()), error);
    ASSERT_TRUE(pool_) << error;
    ASSERT_TRUE(pool_->run_blocking({Statement{"DROP TABLE IF EXISTS sql_pool_test", {}}}).ok());
    const Result r = pool_->run_blocking(
        {{"CREATE TABLE sql_pool_test (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, score DOUBLE PRECISION)",
          {}}});
    ASSERT_TRUE(r.ok()) << r.error;
  }
  std::unique_ptr<SqlPool> pool_;
};

// Results are checked after the coroutine: GCC 12 miscompiles some gtest
// macros inside coroutine bodies.
TEST_P(SqlPoolTest, ParametersRoundTripAsValuesNeverAsSql) {
  const std::string hostile = "x'); DROP TABLE sql_pool_test; --";
  std::vector<Result> out;
  run_async([&]() -> asio::awaitable<void> {
    Statement st1{"INSERT INTO sql_pool_test (id, name, score) VALUES (?, ?, ?)",
                                                {std::int64_t{1}, hostile, 2.5}};
    out.push_back(co_await pool_->run(std::move(st1)));
    Statement st2{"INSERT INTO sql_pool_test (id, name, score) VALUES (?, ?, ?)",
                                                {std::int64_t{2}, std::string("b"), Value{}}};
    out.push_back(co_await pool_->run(std::move(st2)));
    Statement st3{"SELECT id, name, score FROM sql_pool_test WHERE name = ? OR id = ? ORDER BY id",
                  {hostile, std::int64_t{2}}};
    out.push_back(co_await pool_->run(std::move(st3)));
  });
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_EQ(out[0].affected, 1);
  EXPECT_TRUE(out[1].ok()) << out[1].error;
  const Result& r = out[2];
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.columns, (std::vector<std::string>{"id", "name", "score"}));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(as_int(r.rows[0][0]), 1);
  EXPECT_EQ(as_text(r.rows[0][1]), hostile);
  EXPECT_DOUBLE_EQ(std::get<double>(r.rows[0][2]), 2.5);
  EXPECT_TRUE(is_null(r.rows[1][2]));
}

TEST_P(SqlPoolTest, ATransactionIsAllOrNothing) {
  std::vector<Result> out;
  run_async([&]() -> asio::awaitable<void> {
    std::vector<Statement> batch{
        Statement{"INSERT INTO sql_pool_test (id, name) VALUES (?, ?)", {std::int64_t{1}, std::string("a")}},
        Statement{"INSERT INTO sql_pool_test (id, name) VALUES (?, ?)", {std::int64_t{1}, std::string("dup")}}};
    out.push_back(co_await pool_->run(std::move(batch), true));
    Statement st4{"SELECT COUNT(*) FROM sql_pool_test", {}};
    out.push_back(co_await pool_->run(std::move(st4)));
  });
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].ok());  // the duplicate key fails the batch...
  ASSERT_TRUE(out[1].ok()) << out[1].error;
  EXPECT_EQ(as_int(out[1].rows.at(0).at(0)), 0);  // ...and the first insert is rolled back
}

TEST_P(SqlPoolTest, ErrorsAreResultsAndTheConnectionStaysUsable) {
  std::vector<Result> out;
  run_async([&]() -> asio::awaitable<void> {
    Statement st5{"SELEKT nonsense", {}};
    out.push_back(co_await pool_->run(std::move(st5)));
    Statement st6{"SELECT name FROM sql_pool_test WHERE id = ?", {}};  // a value missing
    out.push_back(co_await pool_->run(std::move(st6)));
    Statement st7{"SELECT COUNT(*) FROM sql_pool_test", {}};
    out.push_back(co_await pool_->run(std::move(st7)));
  });
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FALSE(out[0].ok());
  EXPECT_FALSE(out[0].error.empty());
  EXPECT_FALSE(out[1].ok());
  EXPECT_TRUE(out[2].ok()) << out[2].error;
}

TEST_P(SqlPoolTest, ConcurrentBatchesAllComplete) {
  constexpr int kN = 40;
  asio::io_context io;
  int done = 0;
  for (int i = 0; i < kN; ++i)
    asio::co_spawn(io, [&, i]() -> asio::awaitable<void> {
      Statement st{"INSERT INTO sql_pool_test (id, name) VALUES (?, ?)", {std::int64_t{i}, "n" + std::to_string(i)}};
      Result r = co_await pool_->run(std::move(st));
      if (r.ok()) ++done;
    }, asio::detached);
  io.run();
  EXPECT_EQ(done, kN);
  EXPECT_LE(pool_->open_connections(), 3u);  // max_open_conns
  const Result r = pool_->run_blocking({Statement{"SELECT COUNT(*) FROM sql_pool_test", {}}});
  EXPECT_EQ(as_int(r.rows.at(0).at(0)), kN);
}

TEST_P(SqlPoolTest, MigrationsCreateTheSchemaOnceAndRefuseANewerOne) {
  ASSERT_TRUE(pool_->run_blocking({Statement{"DROP TABLE IF EXISTS llmproxy_api_keys", {}},
                                   Statement{"DROP TABLE IF EXISTS llmproxy_schema_migrations", {}}})
                  .ok());
  std::string error;
  const int newest = gateway_migrations().back().version;
  EXPECT_EQ(migrate(*pool_, gateway_migrations(), error), newest) << error;
  EXPECT_EQ(migrate(*pool_, gateway_migrations(), error), newest) << error;  // again: nothing to do
  Result r = pool_->run_blocking({Statement{"SELECT COUNT(*) FROM llmproxy_schema_migrations", {}}});
  EXPECT_EQ(as_int(r.rows.at(0).at(0)), static_cast<std::int64_t>(gateway_migrations().size()));
  r = pool_->run_blocking({Statement{"SELECT COUNT(*) FROM llmproxy_api_keys", {}}});
  EXPECT_TRUE(r.ok()) << r.error;
  // A database migrated by a newer build.
  ASSERT_TRUE(pool_->run_blocking({Statement{"INSERT INTO llmproxy_schema_migrations (version, what) VALUES (?, ?)",
                                    {std::int64_t{newest + 1}, std::string("future")}}})
                  .ok());
  EXPECT_EQ(migrate(*pool_, gateway_migrations(), error), -1);
  EXPECT_NE(error.find("newer than this build knows"), std::string::npos) << error;
  // Leave the schema as this build knows it: other tests share the servers.
  EXPECT_TRUE(pool_->run_blocking({Statement{"DELETE FROM llmproxy_schema_migrations WHERE version > ?",
                                             {std::int64_t{newest}}}})
                  .ok());
}

TEST_P(SqlPoolTest, AClosedPoolAnswersQueuedBatchesWithAnError) {
  auto pool = std::move(pool_);
  asio::io_context io;
  std::vector<Result> results;
  for (int i = 0; i < 20; ++i)
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      Statement st{"SELECT COUNT(*) FROM sql_pool_test", {}};
      results.push_back(co_await pool->run(std::move(st)));
    }, asio::detached);
  io.poll();   // all 20 queued (some may already run)
  pool.reset();  // joins: running batches finish, queued ones fail
  io.run();
  EXPECT_EQ(results.size(), 20u);
  for (const auto& r : results)
    if (!r.ok()) {
      EXPECT_NE(r.error.find("is closed"), std::string::npos) << r.error;
    }
}

TEST(SqlPoolOpen, AnUnreachableDatabaseIsAnErrorAtOpen) {
  config::DatabaseConfig db;
  db.name = "nowhere";
  db.driver = config::DbDriver::postgres;
  db.host = "127.0.0.1";
  db.port = 1;  // nothing listens there
  db.password.value = "do-not-print-me";
  std::string error;
  EXPECT_FALSE(SqlPool::open(db, error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(error.find("do-not-print-me"), std::string::npos) << error;
  db.driver = config::DbDriver::mysql;
  EXPECT_FALSE(SqlPool::open(db, error));
  EXPECT_EQ(error.find("do-not-print-me"), std::string::npos) << error;
  db.driver = config::DbDriver::sqlite;
  db.path = "/nonexistent-dir/x.db";
  EXPECT_FALSE(SqlPool::open(db, error));
  EXPECT_NE(error.find("/nonexistent-dir/x.db"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(Drivers, SqlPoolTest, ::testing::ValuesIn(sqltest::drivers_under_test()),
                         [](const auto& info) { return info.param; });

}  // namespace
