// RedisClient against a real redis-server (LLMPROXY_TEST_REDIS, see
// redis_test_support.h). Every test uses its own keys (a per-process prefix)
// and affects no other connection, because scripts/test runs suites in
// parallel against the same server: a timeout is provoked with BLPOP on this
// connection rather than CLIENT PAUSE, a drop by killing this client's own
// connection rather than CLIENT KILL TYPE normal.
#include "proxy/stores/redis/redis_client.h"

#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "proxy/stores/redis/redis_test_support.h"

namespace llmproxy::stores::redis {
namespace {

using namespace std::chrono_literals;
using testing::run;
using testing::test_redis;

std::string key(std::string_view name) {
  return "llmproxy:test:" + std::to_string(::getpid()) + ":" + std::string(name);
}

env::Task<void> wait_until_disconnected(env::Env& env, RedisClient& c) {
  for (int i = 0; i < 200 && c.connected(); ++i) {
    error_code ec;
    co_await env.sleep_for(10ms, ec);
  }
}

TEST(RedisClient, BasicCommandsAndReplyTypes) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisClient c(env, cfg);
    const std::string k = key("basic");
    error_code ec;
    Reply r = co_await c.call(ec, "DEL", k);
    EXPECT_FALSE(ec) << ec.message();
    r = co_await c.call(ec, "SET", k, "va\r\nlue");
    EXPECT_FALSE(ec);
    EXPECT_EQ(r.describe(), "+OK");
    r = co_await c.call(ec, "GET", k);
    EXPECT_EQ(r.str, "va\r\nlue");
    r = co_await c.call(ec, "GET", key("missing"));
    EXPECT_FALSE(ec);
    EXPECT_TRUE(r.is_nil());
    r = co_await c.call(ec, "INCR", k);  // not a number: an error reply
    EXPECT_EQ(ec, errc::server_error);
    EXPECT_TRUE(r.is_error());
    EXPECT_NE(r.str.find("not an integer"), std::string::npos) << r.str;
    r = co_await c.call(ec, "DEL", k);
    EXPECT_FALSE(ec);
    EXPECT_EQ(r.integer, 1);
    const std::string l = key("list");
    r = co_await c.call(ec, "RPUSH", l, "a", "b", "");
    EXPECT_EQ(r.integer, 3);
    r = co_await c.call(ec, "LRANGE", l, "0", "-1");
    EXPECT_EQ(r.describe(), "[\"a\", \"b\", \"\"]");
    co_await c.call(ec, "DEL", l);
    EXPECT_EQ(c.connects(), 1u);
  });
}

env::Task<void> incr_and_get(RedisClient& c, int i, int& ok, int& finished) {
  error_code ec;
  const std::string mine = key("pipe:" + std::to_string(i));
  const std::string value = "value-" + std::to_string(i);
  Reply r = co_await c.call(ec, "INCR", key("pipe:counter"));
  if (!ec && r.is_integer()) {
    r = co_await c.call(ec, "SET", mine, value, "PX", "60000");
    r = co_await c.call(ec, "GET", mine);
    if (!ec && r.str == value) ++ok;
  }
  ++finished;
}

TEST(RedisClient, HundredConcurrentCommandsShareOnePipelinedConnection) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisClient c(env, cfg);
    error_code ec;
    co_await c.call(ec, "DEL", key("pipe:counter"));
    int ok = 0, finished = 0;
    for (int i = 0; i < 100; ++i) {
      boost::asio::co_spawn(env.executor(), incr_and_get(c, i, ok, finished),
                            [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    }
    while (finished < 100) co_await env.sleep_for(1ms, ec);
    EXPECT_EQ(ok, 100);
    Reply r = co_await c.call(ec, "GET", key("pipe:counter"));
    EXPECT_EQ(r.str, "100");
    EXPECT_EQ(c.connects(), 1u);  // all on one connection
    EXPECT_EQ(c.connection_drops(), 0u);
    co_await c.call(ec, "DEL", key("pipe:counter"));
  });
}

TEST(RedisClient, SelectsTheConfiguredDatabase) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    ClientConfig db3 = cfg;
    db3.db = 3;
    RedisClient c3(env, db3);
    RedisClient c0(env, cfg);
    const std::string k = key("db");
    error_code ec;
    co_await c3.call(ec, "SET", k, "in-3", "PX", "60000");
    EXPECT_FALSE(ec) << ec.message();
    Reply r = co_await c0.call(ec, "GET", k);
    EXPECT_TRUE(r.is_nil()) << r.describe();
    r = co_await c3.call(ec, "GET", k);
    EXPECT_EQ(r.str, "in-3");
    co_await c3.call(ec, "DEL", k);
    ClientConfig bad = cfg;
    bad.db = 100000;  // beyond the server's `databases`
    RedisClient cb(env, bad);
    co_await cb.call(ec, "PING");
    EXPECT_EQ(ec, errc::select_failed);
    EXPECT_NE(cb.last_handshake_error().find("DB index"), std::string::npos)
        << cb.last_handshake_error();
  });
}

TEST(RedisClient, AuthFailureIsReportedWithTheServerMessage) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    // The test server has no password: AUTH is refused all the same, which is
    // the path a wrong password takes.
    ClientConfig wrong = cfg;
    wrong.password = "not-the-password";
    RedisClient c(env, wrong);
    error_code ec;
    co_await c.call(ec, "PING");
    EXPECT_EQ(ec, errc::auth_failed);
    EXPECT_FALSE(c.last_handshake_error().empty());
    EXPECT_NE(c.last_handshake_error().find("AUTH"), std::string::npos) << c.last_handshake_error();
    EXPECT_FALSE(c.connected());
    co_await c.call(ec, "PING");
    EXPECT_EQ(ec, errc::backoff);  // fail fast until the backoff has passed
  });
}

TEST(RedisClient, DeadlinePassedDropsTheConnectionAndTheNextCommandReconnects) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisClient c(env, cfg);
    error_code ec;
    co_await c.call(ec, "PING");
    EXPECT_FALSE(ec);
    // BLPOP on an empty list blocks this connection (only) for 2 s.
    const std::string never = key("never");
    const std::string_view blpop[] = {"BLPOP", never, "2"};
    const TimePoint start = env.now();
    co_await c.command(blpop, env.now() + 100ms, ec);
    const Duration took = env.now() - start;
    EXPECT_EQ(ec, boost::asio::error::timed_out) << ec.message();
    EXPECT_GE(took, 100ms);
    EXPECT_LT(took, 1s);
    EXPECT_FALSE(c.connected());
    EXPECT_EQ(c.connection_drops(), 1u);
    Reply r = co_await c.call(ec, "PING");
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.describe(), "+PONG");
    EXPECT_EQ(c.connects(), 2u);
  });
}

env::Task<void> blpop_then_record(RedisClient& c, std::string list, error_code& out, bool& done) {
  const std::string_view args[] = {"BLPOP", list, "5"};
  co_await c.command(args, out);
  done = true;
}

TEST(RedisClient, KilledConnectionFailsPendingCommandsAndReconnects) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisClient victim(env, cfg);
    RedisClient admin(env, cfg);
    error_code ec;
    Reply id = co_await victim.call(ec, "CLIENT", "ID");
    EXPECT_TRUE(id.is_integer());
    if (!id.is_integer()) co_return;
    error_code pending_ec;
    bool pending_done = false;
    boost::asio::co_spawn(env.executor(),
                          blpop_then_record(victim, key("kill"), pending_ec, pending_done),
                          [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    co_await env.sleep_for(50ms, ec);
    EXPECT_FALSE(pending_done);
    const std::string idtext = std::to_string(id.integer);
    Reply killed = co_await admin.call(ec, "CLIENT", "KILL", "ID", idtext);
    EXPECT_EQ(killed.integer, 1) << killed.describe();
    for (int i = 0; i < 100 && !pending_done; ++i) co_await env.sleep_for(10ms, ec);
    EXPECT_TRUE(pending_done);
    EXPECT_TRUE(pending_ec == boost::asio::error::eof ||
                pending_ec == boost::asio::error::connection_reset)
        << pending_ec.message();
    co_await wait_until_disconnected(env, victim);
    Reply r = co_await victim.call(ec, "PING");
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.describe(), "+PONG");
    EXPECT_EQ(victim.connects(), 2u);
  });
}

TEST(RedisClient, EvalLoadsTheScriptAgainAfterScriptFlush) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    RedisClient c(env, cfg);
    const Script script("return {KEYS[1], ARGV[1], tonumber(ARGV[2]) * 2}");
    EXPECT_EQ(script.sha1().size(), 40u);
    const std::string_view keys[] = {"k"};
    const std::string_view args[] = {"a", "21"};
    error_code ec;
    Reply r = co_await c.eval(script, keys, args, ec);
    EXPECT_FALSE(ec) << ec.message() << " " << r.describe();
    EXPECT_EQ(r.describe(), "[\"k\", \"a\", 42]");
    const std::uint64_t loads = c.script_loads();
    co_await c.call(ec, "SCRIPT", "FLUSH");
    r = co_await c.eval(script, keys, args, ec);
    EXPECT_FALSE(ec) << ec.message() << " " << r.describe();
    EXPECT_EQ(r.describe(), "[\"k\", \"a\", 42]");
    EXPECT_EQ(c.script_loads(), loads + 1);
    // Loaded now: no further load.
    r = co_await c.eval(script, keys, args, ec);
    EXPECT_EQ(c.script_loads(), loads + 1);
    // A script error is a server error, not a dropped connection.
    const Script broken("return redis.call('NOSUCHCOMMAND')");
    r = co_await c.eval(broken, std::span<const std::string_view>(), std::span<const std::string_view>(), ec);
    EXPECT_EQ(ec, errc::server_error);
    EXPECT_TRUE(c.connected());
  });
}

TEST(RedisClient, UnreachableServerBacksOff) {
  ClientConfig cfg;
  if (!test_redis(cfg)) return;
  run([cfg](env::RealEnv& env) -> env::Task<void> {
    ClientConfig down = cfg;
    down.port = testing::closed_port(env);
    RedisClient c(env, down);
    error_code ec;
    co_await c.call(ec, "PING");
    EXPECT_EQ(ec, boost::asio::error::connection_refused) << ec.message();
    co_await c.call(ec, "PING");
    EXPECT_EQ(ec, errc::backoff);
    co_await env.sleep_for(60ms, ec);  // first backoff: 50 ms
    co_await c.call(ec, "PING");
    EXPECT_EQ(ec, boost::asio::error::connection_refused);
    co_await c.call(ec, "PING");  // backing off again (100 ms now)
    EXPECT_EQ(ec, errc::backoff);
  });
}

TEST(RedisClient, ConfigFromCacheConfig) {
  config::CacheConfig cache;
  cache.addr = "[::1]:6380";
  cache.password.value = "pw";
  cache.db = 2;
  error_code ec;
  ClientConfig c = ClientConfig::from(cache, ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(c.password, "pw");
  EXPECT_EQ(c.db, 2);
  cache.addr = "nonsense";
  ClientConfig::from(cache, ec);
  EXPECT_EQ(ec, errc::bad_address);
}

}  // namespace
}  // namespace llmproxy::stores::redis
