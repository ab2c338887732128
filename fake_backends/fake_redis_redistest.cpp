// FakeRedis against a real redis-server (LLMPROXY_TEST_REDIS, see
// proxy/stores/redis/redis_test_support.h): the same commands and scripts go
// to both, and every reply must be byte-for-byte the same value. The fake
// runs on loopback here (RealEnv), through the same code as in the
// simulator.
//
// The limiter scripts read the clock (TIME), which cannot be set on a real
// server, so both servers run them behind a shim that answers TIME from a
// hash the test writes: the scripts then see the same, chosen times on both
// sides, and every reply and every stored field can be compared.
#include "fake_backends/fake_redis.h"

#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "proxy/core/random.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/stores/redis/limiter_scripts.h"
#include "proxy/stores/redis/redis_client.h"
#include "proxy/stores/redis/redis_test_support.h"

namespace llmproxy::stores::redis {
void PrintTo(const Reply& r, std::ostream* os) { *os << r.describe(); }
}  // namespace llmproxy::stores::redis

namespace llmproxy::fake {
namespace {

using namespace std::chrono_literals;
using stores::redis::ClientConfig;
using stores::redis::RedisClient;
using stores::redis::Reply;
namespace testing_support = stores::redis::testing;
namespace rl = llmproxy::ratelimit;

std::string prefix() { return "llmproxy:fakediff:" + std::to_string(::getpid()) + ":"; }

// Both servers, each behind its own client.
struct Pair {
  RedisClient& real;
  RedisClient& fake;

  // Sends the command to both; the replies must be equal. Returns the real
  // one. (Variadic: GCC 12 cannot keep an initializer_list across co_await.)
  template <class... A>
  env::Task<Reply> both(const A&... args) {
    std::vector<std::string> argv;
    (argv.emplace_back(args), ...);
    co_return co_await both(std::move(argv));
  }
  env::Task<Reply> both(std::vector<std::string> argv) {
    std::vector<std::string_view> v(argv.begin(), argv.end());
    env::error_code ec1, ec2;
    Reply a = co_await real.command(v, ec1);
    Reply b = co_await fake.command(v, ec2);
    std::string what;
    for (const auto& s : argv) what += s.substr(0, 60) + " ";
    EXPECT_EQ(b, a) << what;
    EXPECT_EQ(ec2, ec1) << what;
    co_return a;
  }
};

// Runs `body` with a FakeRedis on loopback and clients to it and to the
// real server.
template <class Body>
void with_pair(Body body) {
  ClientConfig real_cfg;
  if (!testing_support::test_redis(real_cfg)) return;
  testing_support::run([&](env::RealEnv& env) -> env::Task<void> {
    FakeRedisConfig fc;
    fc.host = "127.0.0.1";
    fc.port = 0;
    FakeRedis server(env, fc);
    bool running = true;
    boost::asio::co_spawn(env.executor(), [&]() -> env::Task<void> {
      env::error_code ec;
      co_await server.run(ec);
      EXPECT_FALSE(ec) << ec.message();
      running = false;
    }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    env::error_code ec;
    while (server.port() == 0 && running) co_await env.sleep_for(1ms, ec);
    ClientConfig fake_cfg = real_cfg;
    fake_cfg.host = "127.0.0.1";
    fake_cfg.port = server.port();
    RedisClient real(env, real_cfg), fake(env, fake_cfg);
    Pair p{real, fake};
    co_await body(p);
    real.close();
    fake.close();
    server.stop();
    while (running) co_await env.sleep_for(1ms, ec);
  });
}

TEST(FakeRedisDiff, ScriptsAndTheirConversionsAnswerAsRedisDoes) {
  const std::vector<std::string> scripts = {
      "return {1, 2.7, -2.7, 'x', false, true, nil, 5}",
      "return 3.99e20",
      "return -0.5",
      "return nil",
      "return {}",
      "return {1, {2, {3}}, {}}",
      "return {err='My Error'}",
      "return {ok='x', err='y'}",
      "return redis.status_reply('FINE')",
      "return redis.error_reply('E2')",
      "return redis.error_reply('-E2 x')",
      "return redis.error_reply('WRONGTYPE x')",
      // (Not "local t = {}; t[1] = t; return t": Redis answers ~2,000
      // nested arrays, which hiredis refuses past 7 levels.)
      "return KEYS[1] .. ARGV[1]",
      "return type(redis.call('HGET', KEYS[1], 'nope'))",
      "return redis.call('PING')",
      "return redis.pcall('NOPE')",
      "return redis.pcall('ZADD', KEYS[2], '1', 'm')",
      "return tostring(tonumber('5'))",
      "return tostring(0.1)",
      "return tostring(redis.call('EXISTS', KEYS[1]))",
      "redis.call('HSET', KEYS[3], 'f', 1500.0, 'g', 0.1, 'h', 1e20) "
      "return redis.call('HMGET', KEYS[3], 'f', 'g', 'h')",
      "return unpack({1, 2})",
      "return redis.sha1hex('abc')",
      "return x + 1",
      "x = 5",
      "error('plain')",
      "error({err='ZZZ x'})",
      "return redis.call('HGET')",
      "\nreturn redis.call('ZADD', KEYS[2], '1', 'm')",
      "return redis.call('NOPE')",
      "return redis.call('EVAL', 'return 1', 0)",
      "return redis.call({})",
      "return redis.call()",
      "return print",
      "return 'a' ..",
  };
  with_pair([&](Pair& p) -> env::Task<void> {
    const std::string k1 = prefix() + "conv:missing", k2 = prefix() + "conv:hash",
                      k3 = prefix() + "conv:numbers";
    co_await p.both("DEL", k1, k2, k3);
    co_await p.both("HSET", k2, "f", "v");
    for (const std::string& s : scripts) co_await p.both("EVAL", s, "3", k1, k2, k3, "a");
    co_await p.both("DEL", k2, k3);
  });
}

TEST(FakeRedisDiff, CommandsAnswerAsRedisDoes) {
  with_pair([&](Pair& p) -> env::Task<void> {
    const std::string h = prefix() + "cmd:h", z = prefix() + "cmd:z", none = prefix() + "cmd:none";
    co_await p.both("DEL", h, z, none);
    co_await p.both("PING");
    co_await p.both("PING", "x");
    co_await p.both("ECHO", "a\r\nb");
    co_await p.both("HSET", h, "a", "1", "b", "2");
    co_await p.both("HSET", h, "a", "3", "c", "4");
    co_await p.both("HSET", h, "a");
    co_await p.both("HGET", h, "a");
    co_await p.both("HGET", h, "zz");
    co_await p.both("HGET", none, "a");
    co_await p.both("HMGET", h, "c", "zz", "b");
    co_await p.both("HMGET", none, "c");
    co_await p.both("ZADD", h, "1", "m");
    co_await p.both("ZADD", z, "1767225600000000", "a", "1.5", "b", "1.5", "a2", "-inf", "c", "0.1", "d");
    co_await p.both("ZADD", z, "2", "b");
    co_await p.both("ZADD", z, "nan", "q");
    co_await p.both("ZADD", z, "1");
    co_await p.both("ZCARD", z);
    co_await p.both("ZCARD", none);
    co_await p.both("ZRANGEBYSCORE", z, "-inf", "+inf", "WITHSCORES");
    co_await p.both("ZRANGEBYSCORE", z, "(1.5", "inf");
    co_await p.both("ZRANGEBYSCORE", z, "-inf", "+inf", "LIMIT", "1", "2");
    co_await p.both("ZRANGEBYSCORE", z, "-inf", "+inf", "LIMIT", "-1", "2");
    co_await p.both("ZRANGEBYSCORE", z, "x", "1");
    co_await p.both("ZRANGEBYSCORE", z, "0", "1", "BOGUS");
    co_await p.both("ZRANGEBYSCORE", h, "0", "1");
    co_await p.both("ZREMRANGEBYSCORE", z, "-inf", "(1.5");
    co_await p.both("ZREM", z, "b", "nope");
    co_await p.both("ZRANGEBYSCORE", z, "-inf", "+inf", "WITHSCORES");
    co_await p.both("EXISTS", h, h, none);
    co_await p.both("PTTL", h);
    co_await p.both("PTTL", none);
    co_await p.both("PEXPIRE", none, "100");
    co_await p.both("PEXPIRE", h, "x");
    co_await p.both("PEXPIRE", h, "100000");
    co_await p.both("PEXPIRE", z, "0");
    co_await p.both("EXISTS", z);
    co_await p.both("NOPE", "1", "2");
    co_await p.both("EVALSHA", "0123456789012345678901234567890123456789", "0");
    co_await p.both("EVAL", "return 1", "3", "a");
    co_await p.both("EVAL", "return 1", "-1");
    co_await p.both("SCRIPT", "LOAD", "return 1");
    co_await p.both("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "abc");
    co_await p.both("SCRIPT", "NOPE");
    co_await p.both("SCRIPT", "LOAD");
    co_await p.both("SELECT", "99");
    co_await p.both("AUTH", "x", "y", "z");
    co_await p.both("DEL", h, z, none);
  });
}

// Lets a script read TIME from <prefix>clock (fields s, us) instead of the
// server's clock, by shadowing `redis` with a table whose call() answers
// TIME itself.
std::string with_clock(std::string_view script) {
  return "local __redis = redis\n"
         "local redis = setmetatable({call = function(cmd, ...)\n"
         "  if cmd == 'TIME' then return __redis.call('HMGET', '" + prefix() + "clock', 's', 'us') end\n"
         "  return __redis.call(cmd, ...)\n"
         "end}, {__index = __redis})\n" + std::string(script);
}

// The arguments RedisLimiterStore builds (limiter_scripts.cpp documents them).
struct Limits {
  rl::LimitSet set;
  std::vector<std::string> fixed;
  std::string slot_ttl_ms = "600000";

  explicit Limits(const config::RateLimitConfig& cfg) : set(rl::limits_from(cfg)) {
    fixed.push_back(std::to_string(set.rules.size()));
    for (std::size_t i = 0; i < set.rules.size(); ++i) {
      const auto& r = set.rules[i];
      const std::int64_t e = std::max<std::int64_t>(1, (r.emission_ns() + 999) / 1000);
      fixed.push_back(std::string(r.name));
      fixed.push_back(r.scope == rl::Scope::global ? "g" : "k");
      fixed.push_back(std::to_string(e));
      fixed.push_back(std::to_string((r.burst - 1) * e));
    }
    fixed.push_back(std::to_string(set.tokens_per_minute));
  }
};

// Random admissions and finishes of a few keys at chosen times: every
// reply and the stored state after it are the same on both servers.
env::Task<void> limiter_sequence(Pair& p, const config::RateLimitConfig& cfg, std::uint64_t seed) {
  const Limits lim(cfg);
  const std::string admit = with_clock(stores::redis::kAdmitScript);
  const std::string finish = with_clock(stores::redis::kFinishScript);
  const std::string pre = prefix() + "lim" + std::to_string(seed) + ":";
  const std::string g = pre + "g";
  Rng rng(seed);
  std::int64_t now_us = 1767225600LL * 1000000 + static_cast<std::int64_t>(rng() % 1000000);
  struct Held {
    int key;
    std::string member;
    std::int64_t reservation;
  };
  std::vector<Held> held;
  for (int k = 0; k < 3; ++k)
    co_await p.both("DEL", g, pre + "k:" + std::to_string(k), pre + "k:" + std::to_string(k) + ":s");
  for (int step = 0; step < 150; ++step) {
    now_us += static_cast<std::int64_t>(rng() % 700000);
    co_await p.both("HSET", prefix() + "clock", "s", std::to_string(now_us / 1000000), "us",
                     std::to_string(now_us % 1000000));
    const bool do_finish = !held.empty() && rng() % 3 == 0;
    int key = static_cast<int>(rng() % 3);
    std::vector<std::string> argv;
    if (do_finish) {
      const std::size_t i = rng() % held.size();
      const Held h = held[i];
      held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
      key = h.key;
      const std::string kh = pre + "k:" + std::to_string(key);
      const std::int64_t actual = static_cast<std::int64_t>(rng() % 400) - 1;
      argv = {"EVAL", finish, "2", kh, kh + ":s", std::to_string(lim.set.tokens_per_minute),
              std::to_string(h.reservation), std::to_string(actual), h.member, lim.slot_ttl_ms};
    } else {
      const std::string kh = pre + "k:" + std::to_string(key);
      const std::int64_t reservation = static_cast<std::int64_t>(rng() % 300);
      const bool slots = lim.set.tokens_per_minute > 0 || lim.set.max_concurrent > 0;
      const std::string member = slots ? "gw-" + std::to_string(step) + ":" + std::to_string(reservation) : "";
      argv = {"EVAL", admit, "3", g, kh, kh + ":s"};
      argv.insert(argv.end(), lim.fixed.begin(), lim.fixed.end());
      argv.push_back(std::to_string(reservation));
      argv.push_back(std::to_string(lim.set.max_concurrent));
      argv.push_back(lim.slot_ttl_ms);
      argv.push_back(member);
      const Reply r = co_await p.both(argv);
      if (slots && r.is_array() && !r.elements.empty() && r.elements[0].integer == 1)
        held.push_back({key, member, reservation});
      argv.clear();
    }
    if (!argv.empty()) co_await p.both(argv);
    // The stored state: every field both scripts write, and the slots.
    const std::string kh = pre + "k:" + std::to_string(key);
    std::vector<std::string> fields = {"HMGET", kh, "full_at", "reserved"};
    for (const auto& r : lim.set.rules) fields.push_back(std::string(r.name));
    co_await p.both(fields);
    fields[1] = g;
    co_await p.both(fields);
    co_await p.both("ZRANGEBYSCORE", kh + ":s", "-inf", "+inf", "WITHSCORES");
  }
  for (int k = 0; k < 3; ++k)
    co_await p.both("DEL", g, pre + "k:" + std::to_string(k), pre + "k:" + std::to_string(k) + ":s");
}

TEST(FakeRedisDiff, LimiterScriptsAnswerAsRedisDoes) {
  with_pair([&](Pair& p) -> env::Task<void> {
    config::RateLimitConfig a;
    a.enabled = true;
    a.global.requests_per_second = 3;  // an emission that is not whole µs
    a.global.burst_size = 4;
    a.per_key.requests_per_minute = 7;
    a.per_key.tokens_per_minute = 999;
    a.per_key.max_concurrent = 2;
    co_await limiter_sequence(p, a, 1);
    config::RateLimitConfig b;
    b.enabled = true;
    b.per_key.requests_per_second = 2;
    b.per_key.burst_size = 3;
    b.per_key.tokens_per_minute = 100;
    co_await limiter_sequence(p, b, 2);
    config::RateLimitConfig c;
    c.enabled = true;
    c.global.requests_per_minute = 30;
    c.per_key.max_concurrent = 1;
    co_await limiter_sequence(p, c, 3);
    co_await p.both("DEL", prefix() + "clock");
  });
}

}  // namespace
}  // namespace llmproxy::fake
