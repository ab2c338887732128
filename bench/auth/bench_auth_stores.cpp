// µs per lookup of a key no worker has cached (a cache miss: what the first
// request with a key pays, and every request when cache_ttl is 0), per
// store: the builtin provider on its SQLite file, the database provider on
// SQLite (and PostgreSQL / MariaDB when LLMPROXY_TEST_POSTGRES /
// LLMPROXY_TEST_MYSQL name a server, as scripts/services.sh exports), and
// the redis provider (LLMPROXY_TEST_REDIS). Each lookup is one coroutine
// run to its end on a real event loop: the store's round trip (a SQL pool
// thread hand-off and back, or one Redis request on a pipelined
// connection) plus the record read. A store that is not configured is
// reported as skipped. And the whole filter on a cache hit with a store
// provider (the coroutine path every request after the first takes).
#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <memory>
#include <string>

#include "proxy/env/real/real_env.h"
#include "proxy/modules/auth/auth_filter.h"
#include "proxy/modules/auth/builtin_source.h"
#include "proxy/modules/auth/database_source.h"
#include "proxy/modules/auth/redis_source.h"
#include "proxy/shell/exchange.h"
#include "proxy/stores/keys/memory_key_store.h"
#include "proxy/stores/keys/sql_key_store.h"
#include "proxy/stores/sql/sql_pool.h"
#include "proxy/stores/sql/testing/test_databases.h"

namespace {

using namespace llmproxy;
namespace asio = boost::asio;
using modules::auth::KeySource;
using modules::auth::SourceAnswer;

constexpr std::string_view kKey = "sk-bench-0123456789abcdef0123456789abcdef";

struct Loop {
  asio::io_context io;
  env::RealEnv env{io, 1};
  shell::Exchange ex;
  std::optional<util::IpAddress> client = util::parse_ip("10.1.2.3").value;

  // One lookup of kKey, run to its end (not to the loop's: a Redis
  // connection's reader keeps it busy).
  SourceAnswer lookup(KeySource& source) {
    SourceAnswer out;
    bool done = false;
    const auth::KeyHash hash = auth::hash_key(kKey);
    asio::co_spawn(
        io,
        [&]() -> env::Task<void> {
          const modules::auth::LookupRequest req{kKey, hash, 0, client, ex};
          out = co_await source.lookup(req);
          done = true;
        },
        asio::detached);
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    return out;
  }
};

void measure(benchmark::State& state, Loop& loop, KeySource& source) {
  for (auto _ : state) {
    const auto a = loop.lookup(source);
    if (a.kind != SourceAnswer::Kind::known) {
      state.SkipWithError(("lookup failed: " + a.error).c_str());
      break;
    }
  }
}

void BM_MissBuiltinSqlite(benchmark::State& state) {
  Loop loop;
  std::string error;
  const auto path = (stores::sql::testing::temp_dir() / "bench-builtin.db").string();
  auto store = stores::keys::open_key_store(stores::keys::sqlite_key_database(path), stores::keys::KeyRows::admin_keys, error);
  if (!store) {
    state.SkipWithError(error.c_str());
    return;
  }
  stores::keys::StoredKey row;
  row.hash = auth::to_hex(auth::hash_key(kKey));
  row.prefix = "sk-b";
  row.name = "bench";
  row.allowed_ips = "10.0.0.0/8";
  asio::co_spawn(loop.io, [&]() -> env::Task<void> { co_await store->create(row); }, asio::detached);
  loop.io.run();
  modules::auth::BuiltinSource source(store);
  measure(state, loop, source);
}
BENCHMARK(BM_MissBuiltinSqlite)->Unit(benchmark::kMicrosecond);

// The database provider on `driver` (sqlite, postgres, mysql).
void BM_MissDatabase(benchmark::State& state, const std::string& driver) {
  Loop loop;
  config::DatabaseConfig db;
  try {
    db = stores::sql::testing::test_database(driver, "bench-provider", 2);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  std::string error;
  std::shared_ptr<stores::sql::SqlPool> pool = stores::sql::SqlPool::open(db, error);
  if (!pool) {
    state.SkipWithError(error.c_str());
    return;
  }
  const std::string text = driver == "mysql" ? "VARCHAR(200)" : "TEXT";
  pool->run_blocking({{"DROP TABLE IF EXISTS bench_keys", {}}});
  pool->run_blocking({{"CREATE TABLE bench_keys (api_key " + text + " PRIMARY KEY, name " + text +
                           ", status " + text + ", total_quota BIGINT, used_quota BIGINT)",
                       {}}});
  pool->run_blocking({{"INSERT INTO bench_keys VALUES (?, 'bench', 'enabled', 1000000, 10)",
                       {std::string(kKey)}}});
  config::DatabaseProvider p;
  p.table = "bench_keys";
  p.key_column = "api_key";
  p.fields = {"name", "status", "total_quota", "used_quota"};
  std::shared_ptr<const modules::auth::DatabaseStatements> sql =
      modules::auth::DatabaseStatements::build(p, pool->dialect(), error);
  modules::auth::DatabaseSource source(pool, sql, loop.env);
  measure(state, loop, source);
}
BENCHMARK_CAPTURE(BM_MissDatabase, sqlite, std::string("sqlite"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_MissDatabase, postgres, std::string("postgres"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_MissDatabase, mysql, std::string("mysql"))->Unit(benchmark::kMicrosecond);

void BM_MissRedis(benchmark::State& state) {
  const char* addr = std::getenv("LLMPROXY_TEST_REDIS");
  if (!addr || !*addr) {
    state.SkipWithError("LLMPROXY_TEST_REDIS is not set (scripts/services.sh exports it)");
    return;
  }
  Loop loop;
  config::CacheConfig cache;
  cache.addr = addr;
  env::error_code ec;
  const auto cfg = stores::redis::ClientConfig::from(cache, ec);
  stores::redis::RedisClient admin(loop.env, cfg);
  const std::string name = "llmproxy-bench:key:" + std::string(kKey);
  asio::co_spawn(
      loop.io,
      [&]() -> env::Task<void> {
        env::error_code e;
        co_await admin.call(e, "HSET", name, "name", "bench", "status", "enabled", "total_quota", "1000000");
        admin.close();
      },
      asio::detached);
  loop.io.run();
  modules::auth::RedisSource source(loop.env, std::make_shared<stores::redis::RedisClient>(loop.env, cfg), "llmproxy-bench:key:{api_key}");
  measure(state, loop, source);
  source.close();
  loop.io.restart();
  loop.io.run();
}
BENCHMARK(BM_MissRedis)->Unit(benchmark::kMicrosecond);

// The whole filter (on_request, as the pipeline calls it) for a key a store
// provider has cached: the coroutine, SHA-256, the cache probe, the
// decision. Each iteration also pays one co_spawn and an event-loop run,
// which the pipeline does not (the filter runs inside the session's
// coroutine); BM_EventLoopOnly measures that part alone.
// exact:0 is auth.quota_check cached; exact:1 the default, where a key with
// a quota (this one) is read again from the store on every request: here
// the memory store, so this is the filter's own cost of a reread (record
// built from the row, cache refreshed) without any store round trip.
void BM_StoreFilterCacheHit(benchmark::State& state) {
  Loop loop;
  auto store = std::make_shared<stores::keys::MemoryKeyStore>();
  stores::keys::StoredKey row;
  row.hash = auth::to_hex(auth::hash_key(kKey));
  row.name = "bench";
  row.total_quota = 1'000'000;
  std::vector<stores::keys::StoredKey> rows{row};
  asio::co_spawn(loop.io, [&]() -> env::Task<void> { co_await store->sync(rows, stores::keys::SyncMode::full); },
                 asio::detached);
  loop.io.run();
  config::Config c;
  c.admin.enabled = true;
  c.auth.enabled = true;
  config::AuthProvider p;
  p.name = "keys";
  p.type = config::ProviderType::builtin;
  c.auth.pipeline.push_back(p);
  auto a = std::make_shared<const auth::Authenticator>(*auth::Authenticator::from(c).value);
  modules::auth::StoreProviders stores{&loop.env, std::chrono::hours(1), {},
                                       state.range(0) ? config::QuotaCheck::exact : config::QuotaCheck::cached};
  stores.sources.push_back(std::make_shared<modules::auth::BuiltinSource>(store));
  modules::auth::AuthFilter filter(a, std::move(stores));
  shell::ClientRequest req;
  req.method(boost::beast::http::verb::post);
  req.target("/v1/chat/completions");
  req.set(boost::beast::http::field::host, "gateway.example");
  req.set(boost::beast::http::field::content_type, "application/json");
  req.set(boost::beast::http::field::authorization, "Bearer " + std::string(kKey));
  Rng rng(1);
  loop.ex.begin(req, TimePoint{}, WallTime{std::chrono::seconds(1'767'225'600)}, rng);
  loop.ex.client_ip = "10.1.2.3";
  bool allowed = false;
  for (auto _ : state) {
    loop.ex.caller = {};
    asio::co_spawn(
        loop.io,
        [&]() -> env::Task<void> {
          const auto v = co_await filter.on_request(loop.ex);
          allowed = v.proceeds();
        },
        asio::detached);
    loop.io.restart();
    loop.io.run();
    if (!allowed) {
      state.SkipWithError("refused");
      break;
    }
  }
}
BENCHMARK(BM_StoreFilterCacheHit)->ArgName("exact")->Arg(0)->Arg(1);

void BM_EventLoopOnly(benchmark::State& state) {
  asio::io_context io;
  for (auto _ : state) {
    asio::co_spawn(io, []() -> env::Task<void> { co_return; }, asio::detached);
    io.restart();
    io.run();
  }
}
BENCHMARK(BM_EventLoopOnly);

}  // namespace
