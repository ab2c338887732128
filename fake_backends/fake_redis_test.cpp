// FakeRedis in the simulator: the bytes on the wire, commands, expiry on
// virtual time, scripts (SCRIPT LOAD, EVALSHA, NOSCRIPT), Redis's Lua
// conversion rules, limits, faults and restarts. Replies are parsed with the
// gateway client's ReplyReader (hiredis), never with the fake's own code.
#include "fake_backends/fake_redis.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/core/ratelimit/limits.h"
#include "proxy/stores/redis/redis_client.h"
#include "proxy/stores/redis/redis_limiter_store.h"
#include "proxy/stores/redis/reply.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::stores::redis {
// gtest prints replies readably.
void PrintTo(const Reply& r, std::ostream* os) { *os << r.describe(); }
}  // namespace llmproxy::stores::redis

namespace llmproxy::fake {
namespace {

using namespace std::chrono_literals;
using stores::redis::Reply;
namespace asio = boost::asio;

// One command as a client sends it (written here, not by the fake's code).
// (Variadic, not an initializer_list: GCC 12 cannot keep a list's array
// across a co_await, "array used as initializer".)
template <class... A>
std::string req(const A&... args) {
  std::string out = "*" + std::to_string(sizeof...(A)) + "\r\n";
  for (std::string_view a : {std::string_view(args)...})
    out += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  return out;
}

// A world with a fake Redis on host "redis":6379 and a client host.
struct Rig {
  sim::World world{7};
  sim::SimEnv server{world, "redis"};
  sim::SimEnv client{world, "client"};
  std::unique_ptr<FakeRedis> fake;
  bool running = false;

  explicit Rig(FakeRedisConfig cfg = {}) {
    fake = std::make_unique<FakeRedis>(server, std::move(cfg));
    running = true;
    world.spawn(run_fake());
  }
  ~Rig() {
    fake->stop();
    world.run_for(1s);
    EXPECT_FALSE(running) << "run() did not return after stop()";
  }
  env::Task<void> run_fake() {
    env::error_code ec;
    co_await fake->run(ec);
    EXPECT_FALSE(ec) << ec.message();
    running = false;
  }
  // Runs a test body to completion (bounded in virtual time).
  void run(std::function<env::Task<void>()> body, Duration bound = 10min) {
    bool done = false;
    world.spawn([](std::function<env::Task<void>()> b, bool& d) -> env::Task<void> {
      co_await b();
      d = true;
    }(std::move(body), done));
    const TimePoint end = world.now() + bound;
    while (!done && world.now() < end) world.run_for(10ms);
    EXPECT_TRUE(done) << "test body did not finish";
  }
};

// A raw connection: sends bytes, reads replies with hiredis's parser.
struct Conn {
  env::Env& env;
  std::unique_ptr<env::Stream> s;
  stores::redis::ReplyReader reader;
  std::string raw;  // every byte received
  bool eof = false;

  explicit Conn(env::Env& e) : env(e) {}

  // Connects; the connect must succeed (or, with expect_ok false, fail).
  env::Task<void> open(bool expect_ok = true) {
    env::error_code ec;
    s = co_await env.connect("redis", 6379, env.now() + 1s, ec);
    EXPECT_EQ(!ec, expect_ok) << ec.message();
  }
  env::Task<void> send(std::string bytes) {
    env::error_code ec;
    co_await s->write(asio::buffer(bytes), kNoDeadline, ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  // Up to n replies, waiting at most `wait` for each read.
  env::Task<std::vector<Reply>> replies(std::size_t n, Duration wait = 5s) {
    std::vector<Reply> out;
    char buf[4096];
    while (out.size() < n) {
      Reply r;
      const auto st = reader.next(r);
      if (st == stores::redis::ReplyReader::Status::reply) {
        out.push_back(std::move(r));
        continue;
      }
      EXPECT_NE(st, stores::redis::ReplyReader::Status::error) << reader.error_message();
      if (st == stores::redis::ReplyReader::Status::error) break;
      env::error_code ec;
      const std::size_t got = co_await s->read_some(asio::buffer(buf), env.now() + wait, ec);
      if (ec) {
        eof = ec == asio::error::eof;
        break;
      }
      raw.append(buf, got);
      reader.feed(buf, got);
    }
    co_return out;
  }
  template <class... A>
  env::Task<Reply> cmd(const A&... args) {
    co_await send(req(args...));
    auto r = co_await replies(1);
    co_return r.empty() ? Reply{} : r.front();
  }
  // Sends a command; its reply must be `want`.
  template <class... A>
  env::Task<void> expect(Reply want, const A&... args) {
    const Reply got = co_await cmd(args...);
    std::string what;
    for (std::string_view a : {std::string_view(args)...}) what += std::string(a.substr(0, 60)) + " ";
    EXPECT_EQ(got, want) << what;
  }
  // The server closes (EOF or reset) within `wait`.
  env::Task<void> expect_closed(Duration wait = 1s) {
    char buf[256];
    env::error_code ec;
    co_await s->read_some(asio::buffer(buf), env.now() + wait, ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  }
};

Reply integer(std::int64_t v) { return Reply{Reply::Type::integer, v, {}, {}}; }
Reply bulk(std::string s) { return Reply{Reply::Type::string, 0, std::move(s), {}}; }
Reply status(std::string s) { return Reply{Reply::Type::status, 0, std::move(s), {}}; }
Reply error(std::string s) { return Reply{Reply::Type::error, 0, std::move(s), {}}; }
Reply nil() { return Reply{}; }
template <class... R>
Reply array(R... items) {
  Reply r{Reply::Type::array, 0, {}, {}};
  (r.elements.push_back(std::move(items)), ...);
  return r;
}

// ---------------------------------------------------------------- the wire

TEST(FakeRedis, RepliesAreExactRespBytes) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.send(req("PING") + req("ECHO", "a\r\nb") + req("PING", "x") + req("NOPE", "1") +
                    req("HMGET", "h", "f") + req("EXISTS", "h"));
    const auto r = co_await c.replies(6);
    EXPECT_EQ(r.size(), 6u);
    EXPECT_EQ(c.raw,
              "+PONG\r\n$4\r\na\r\nb\r\n$1\r\nx\r\n"
              "-ERR unknown command 'NOPE', with args beginning with: '1' \r\n"
              "*1\r\n$-1\r\n:0\r\n");
  });
}

TEST(FakeRedis, PipelinedCommandsSplitIntoSingleBytesAreAnsweredInOrder) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    std::string all;
    for (int i = 0; i < 20; ++i) all += req("ECHO", std::to_string(i));
    for (char ch : all) co_await c.send(std::string(1, ch));
    const auto r = co_await c.replies(20);
    EXPECT_EQ(r.size(), 20u);
    for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i], bulk(std::to_string(i)));
  });
}

TEST(FakeRedis, MalformedRequestsGetAProtocolErrorAndAClose) {
  const std::pair<std::string, std::string> cases[] = {
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*99999999\r\n", "Protocol error: invalid multibulk length"},
      {"PING\r\n", "Protocol error: expected '*', got 'P'"},
      {"*1\r\n:4\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$999999999999\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$2\r\nabcd\r\n", "Protocol error: expected CRLF after bulk data"},
      {"*1\r\n" + std::string(70 * 1024, '$'), "Protocol error: too big header line"},
  };
  for (const auto& [bytes, message] : cases) {
    Rig rig;
    rig.run([&]() -> env::Task<void> {
      Conn c(rig.client);
      co_await c.open();
      // A good command first: it is answered before the error.
      co_await c.send(req("PING") + bytes);
      const auto r = co_await c.replies(2);
      EXPECT_EQ(r.size(), 2u) << bytes.substr(0, 40);
      if (r.size() == 2) {
        EXPECT_EQ(r[0], status("PONG"));
        EXPECT_EQ(r[1], error("ERR " + message)) << bytes.substr(0, 40);
      }
      co_await c.expect_closed();
    });
    EXPECT_EQ(rig.fake->stats().protocol_errors, 1u);
  }
}

TEST(FakeRedis, EmptyMultibulksAreIgnored) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.send("*0\r\n*-1\r\n" + req("PING"));
    const auto r = co_await c.replies(1);
    EXPECT_EQ(r.size(), 1u);
    EXPECT_EQ(c.raw, "+PONG\r\n");
  });
}

// ---------------------------------------------------------------- commands

TEST(FakeRedis, HashCommands) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.expect(integer(2), "HSET", "h", "a", "1", "b", "2");
    co_await c.expect(integer(1), "HSET", "h", "a", "3", "c", "4");
    co_await c.expect(bulk("3"), "HGET", "h", "a");
    co_await c.expect(nil(), "HGET", "h", "zz");
    co_await c.expect(nil(), "HGET", "nokey", "a");
    co_await c.expect(array(bulk("4"), nil(), bulk("2")), "HMGET", "h", "c", "zz", "b");
    co_await c.expect(error("ERR wrong number of arguments for 'hset' command"), "HSET", "h", "a");
    co_await c.expect(error("ERR wrong number of arguments for 'hget' command"), "HGET", "h");
    co_await c.expect(error("WRONGTYPE Operation against a key holding the wrong kind of value"), "ZADD", "h", "1", "m");
    co_await c.expect(integer(2), "EXISTS", "h", "h", "nokey");
    co_await c.expect(integer(1), "DEL", "h", "nokey");
    co_await c.expect(integer(0), "EXISTS", "h");
  });
}

TEST(FakeRedis, SortedSetCommands) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.expect(integer(4), "ZADD", "z", "1767225600000000", "a", "1.5", "b", "1.5", "a2", "-inf", "c");
    co_await c.expect(integer(0), "ZADD", "z", "2", "b");  // a new score, no new member
    co_await c.expect(integer(4), "ZCARD", "z");
    co_await c.expect(array(bulk("c"), bulk("-inf"), bulk("a2"), bulk("1.5"), bulk("b"), bulk("2"), bulk("a"),
                     bulk("1767225600000000")), "ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES");
    co_await c.expect(array(bulk("b"), bulk("a")), "ZRANGEBYSCORE", "z", "(1.5", "inf");
    co_await c.expect(array(bulk("a2"), bulk("b")), "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2");
    co_await c.expect(error("ERR min or max is not a float"), "ZRANGEBYSCORE", "z", "x", "1");
    co_await c.expect(error("ERR value is not a valid float"), "ZADD", "z", "nan", "q");
    co_await c.expect(error("ERR fake redis: ZADD option NX is not implemented"), "ZADD", "z", "NX", "1", "q");
    co_await c.expect(integer(2), "ZREMRANGEBYSCORE", "z", "-inf", "1.5");
    co_await c.expect(integer(1), "ZREM", "z", "b", "nope");
    co_await c.expect(integer(1), "ZREM", "z", "a");
    co_await c.expect(integer(0), "EXISTS", "z");  // empty sets do not exist
    co_await c.expect(array(), "ZRANGEBYSCORE", "z", "0", "1");
  });
}

// Sleeps the client until its next command reaches the server (one way,
// 100 µs) exactly at virtual time `server_time`.
env::Task<void> arrive_at(Rig& rig, Duration server_time) {
  auto timer = rig.client.make_timer();
  env::error_code ec;
  co_await timer->sleep_until(TimePoint(server_time) - 100us, ec);
}

TEST(FakeRedis, ExpiryFollowsTheVirtualClock) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.expect(integer(-2), "PTTL", "h");
    co_await c.expect(integer(0), "PEXPIRE", "h", "100");  // no such key
    co_await c.cmd("HSET", "h", "f", "v");
    co_await c.expect(integer(-1), "PTTL", "h");
    // The wall clock's epoch is a whole second, so milliseconds line up
    // with virtual time: the key dies after 1510 ms.
    co_await arrive_at(rig, 10ms + 700us);
    co_await c.expect(integer(1), "PEXPIRE", "h", "1500");
    co_await arrive_at(rig, 10ms + 999us);
    co_await c.expect(integer(1500), "PTTL", "h");
    co_await arrive_at(rig, 1010ms + 500us);
    co_await c.expect(integer(500), "PTTL", "h");
    co_await arrive_at(rig, 1510ms + 200us);
    co_await c.expect(integer(0), "PTTL", "h");
    co_await arrive_at(rig, 1510ms + 500us);
    co_await c.expect(bulk("v"), "HGET", "h", "f");  // its last millisecond: alive
    co_await arrive_at(rig, 1511ms);
    co_await c.expect(nil(), "HGET", "h", "f");
    co_await c.expect(integer(-2), "PTTL", "h");
    co_await c.cmd("HSET", "h", "f", "v");
    co_await c.expect(integer(1), "PEXPIRE", "h", "0");  // a past deadline deletes
    co_await c.expect(integer(0), "EXISTS", "h");
    co_await c.expect(error("ERR value is not an integer or out of range"), "PEXPIRE", "h", "x");
  });
}

TEST(FakeRedis, TimeIsTheEnvironmentsWallClock) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    env::error_code ec;
    co_await rig.client.sleep_for(2500ms, ec);
    const Reply t = co_await c.cmd("TIME");
    // Epoch 2026-01-01T00:00:00Z; the command arrives one way (100 µs) later.
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            rig.world.wall_now().time_since_epoch()).count() - 100;
    EXPECT_EQ(t, array(bulk(std::to_string(now_us / 1000000)), bulk(std::to_string(now_us % 1000000))));
  });
}

TEST(FakeRedis, AuthAndSelect) {
  FakeRedisConfig cfg;
  cfg.password = "pw";
  Rig rig(cfg);
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.expect(error("NOAUTH Authentication required."), "PING");
    co_await c.expect(error("WRONGPASS invalid username-password pair or user is disabled."), "AUTH", "nope");
    co_await c.expect(status("OK"), "AUTH", "default", "pw");
    co_await c.cmd("HSET", "h", "f", "db0");
    co_await c.expect(error("ERR DB index is out of range"), "SELECT", "16");
    co_await c.expect(status("OK"), "SELECT", "3");
    co_await c.expect(nil(), "HGET", "h", "f");
    co_await c.cmd("HSET", "h", "f", "db3");
    co_await c.expect(status("OK"), "SELECT", "0");
    co_await c.expect(bulk("db0"), "HGET", "h", "f");
    co_await c.expect(status("OK"), "QUIT");
    co_await c.expect_closed();
  });
}

TEST(FakeRedis, AuthWithoutAPasswordConfigured) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.expect(error("ERR AUTH <password> called without any password configured for the default user. "
                    "Are you sure your configuration is correct?"), "AUTH", "x");
  });
}

// ---------------------------------------------------------------- scripts

TEST(FakeRedis, ScriptLoadEvalshaAndNoscript) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    const std::string src = "return {KEYS[1], ARGV[1], #KEYS, #ARGV}";
    const std::string sha = stores::redis::Script(src).sha1();
    co_await c.send(req("EVALSHA", sha, "1", "k", "a"));
    co_await c.replies(1);
    EXPECT_EQ(c.raw, "-NOSCRIPT No matching script. Please use EVAL.\r\n");
    co_await c.expect(array(integer(0), integer(0)), "SCRIPT", "EXISTS", sha, "abc");
    co_await c.expect(bulk(sha), "SCRIPT", "LOAD", src);
    co_await c.expect(array(integer(1)), "SCRIPT", "EXISTS", sha);
    std::string upper = sha;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    co_await c.expect(array(bulk("k"), bulk("a"), integer(1), integer(2)), "EVALSHA", upper, "1", "k", "a", "b");
    co_await c.expect(status("OK"), "SCRIPT", "FLUSH");
    co_await c.expect(error("NOSCRIPT No matching script. Please use EVAL."), "EVALSHA", sha, "0");
    // EVAL keeps the script, as Redis does.
    co_await c.expect(array(), "EVAL", src, "0");  // KEYS[1] is nil: the array ends there
    co_await c.expect(array(bulk("k"), bulk("a"), integer(1), integer(1)), "EVAL", src, "1", "k", "a");
    co_await c.expect(array(integer(1)), "SCRIPT", "EXISTS", sha);
    co_await c.expect(error("ERR Number of keys can't be greater than number of args"), "EVAL", "return 1", "3", "a");
    co_await c.expect(error("ERR Number of keys can't be negative"), "EVAL", "return 1", "-1");
    co_await c.expect(error("ERR value is not an integer or out of range"), "EVAL", "return 1", "x");
    co_await c.expect(error("ERR Error compiling script (new function): user_script:1: unexpected symbol near "
                    "'<eof>'"), "SCRIPT", "LOAD", "return 'a' ..");
    co_await c.expect(error("ERR unknown subcommand 'NOPE'. Try SCRIPT HELP."), "SCRIPT", "NOPE");
  });
  EXPECT_EQ(rig.fake->stats().noscript_replies, 2u);
}

// Each case: a script and the reply Redis 7 gives for it (checked against a
// real redis-server in fake_redis_redistest.cpp).
struct LuaCase {
  std::string script;
  Reply reply;
};

std::string sha_of(const std::string& s) { return stores::redis::Script(s).sha1(); }

TEST(FakeRedis, LuaToRespConversionRules) {
  const std::vector<LuaCase> cases = {
      {"return {1, 2.7, -2.7, 'x', false, true, nil, 5}",
       array(integer(1), integer(2), integer(-2), bulk("x"), nil(), integer(1))},
      {"return 3.99e20", integer(INT64_MIN)},
      {"return -0.5", integer(0)},
      {"return nil", nil()},
      {"return {}", array()},
      {"return {1, {2, {3}}, {}}", array(integer(1), array(integer(2), array(integer(3))), array())},
      {"return {err='My Error'}", error("My Error")},
      {"return {ok='x', err='y'}", error("y")},
      {"return redis.status_reply('FINE')", status("FINE")},
      {"return redis.error_reply('E2')", error("ERR E2")},
      {"return redis.error_reply('-E2 x')", error("E2 x")},
      {"return redis.error_reply('WRONGTYPE x')", error("WRONGTYPE x")},
      {"return KEYS[1] .. ARGV[1]", bulk("ka")},
  };
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    for (const auto& lc : cases)
      co_await c.expect(lc.reply, "EVAL", lc.script, "1", "k", "a");
  });
}

// A table that contains itself: 128 nested arrays, then an error element
// (hiredis cannot parse that deep, so this asks the scripting layer).
TEST(FakeRedis, SelfReferentialTablesEndInAnErrorElement) {
  RedisLua lua(1);
  RedisDatabase db;
  CommandContext ctx{db, WallTime{}};
  const RespValue sha = lua.load("local t = {}; t[1] = t; return t");
  RespValue r = lua.run(sha.text, {}, {}, ctx);
  int depth = 0;
  while (r.type == RespValue::Type::array && r.elements.size() == 1) {
    RespValue inner = std::move(r.elements[0]);
    r = std::move(inner);
    ++depth;
  }
  EXPECT_EQ(depth, 128);
  EXPECT_EQ(r, RespValue::error("ERR reached lua stack limit"));
}

TEST(FakeRedis, RespToLuaConversionRulesAndTheNumbersOfLua51) {
  const std::vector<LuaCase> cases = {
      {"return type(redis.call('HGET', 'nokey', 'f'))", bulk("boolean")},
      {"return redis.call('PING').ok", bulk("PONG")},
      {"return redis.pcall('ZADD', 'h', '1', 'm').err",
       bulk("WRONGTYPE Operation against a key holding the wrong kind of value")},
      {"return redis.pcall('NOPE').err", bulk("ERR Unknown Redis command called from script")},
      {"return redis.call('HMGET', 'h', 'f', 'g')", array(bulk("v"), nil())},
      {"local t = redis.call('TIME'); return {type(t[1]), type(t[2])}", array(bulk("string"), bulk("string"))},
      // Integers arrive as Lua 5.1 numbers (doubles) and print like 5.1's.
      {"return tostring(redis.call('EXISTS', 'h'))", bulk("1")},
      {"return tostring(tonumber('5'))", bulk("5")},
      {"return tostring(0.1)", bulk("0.1")},
      {"return math.type(tonumber('7'))", bulk("float")},
      // No wrap-around where 5.4's integers would overflow.
      {"return tostring(tonumber('9007199254740993') * 1024 > 0)", bulk("true")},
      // Numbers passed to redis.call are formatted like Redis does (%.17g).
      {"redis.call('HSET', 'n', 'f', 1500.0, 'g', 0.1); return redis.call('HMGET', 'n', 'f', 'g')",
       array(bulk("1500"), bulk("0.10000000000000001"))},
      {"return redis.call('EXISTS', 1.5, 2)", integer(0)},
      {"return unpack({1, 2})", integer(1)},
      {"return redis.sha1hex('')", bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")},
      {"if redis.replicate_commands then return redis.replicate_commands() end", integer(1)},
  };
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.cmd("HSET", "h", "f", "v");
    for (const auto& lc : cases) co_await c.expect(lc.reply, "EVAL", lc.script, "0");
  });
}

TEST(FakeRedis, ScriptErrorsAreRedisErrorReplies) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"return x + 1", "ERR user_script:1: Script attempted to access nonexistent global variable 'x'"},
      {"x = 5", "ERR user_script:1: Attempt to modify a readonly table"},
      {"error('plain')", "ERR user_script:1: plain"},
      {"error({err='ZZZ x'})", "ZZZ x"},
      {"return redis.call('HGET')", "ERR Wrong number of args calling Redis command from script"},
      {"\nreturn redis.call('ZADD', 'h', '1', 'm')",
       "WRONGTYPE Operation against a key holding the wrong kind of value"},
      {"return redis.call('NOPE')", "ERR Unknown Redis command called from script"},
      {"return redis.call('EVAL', 'return 1', 0)", "ERR This Redis command is not allowed from script"},
      {"return redis.call({})", "ERR Lua redis lib command arguments must be strings or integers"},
      {"return redis.call()", "ERR Please specify at least one argument for this redis lib call"},
      {"return print", "ERR user_script:1: Script attempted to access nonexistent global variable 'print'"},
  };
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.cmd("HSET", "h", "f", "v");
    for (const auto& [script, message] : cases) {
      const int line = script.front() == '\n' ? 2 : 1;
      co_await c.expect(error(message + " script: " + sha_of(script) + ", on @user_script:" + std::to_string(line) + "."), "EVAL", script, "0");
    }
  });
}

TEST(FakeRedis, ScriptsAreStoppedByInstructionAndMemoryBudgets) {
  FakeRedisConfig cfg;
  cfg.lua.instruction_budget = 100'000;
  cfg.lua.memory_limit = 4 * 1024 * 1024;
  Rig rig(cfg);
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    const Reply spin = co_await c.cmd("EVAL", "while true do end", "0");
    EXPECT_TRUE(spin.is_error());
    EXPECT_NE(spin.str.find("instruction budget"), std::string::npos) << spin.str;
    const Reply hog = co_await c.cmd("EVAL", "return #string.rep('x', 8 * 1024 * 1024)", "0");
    EXPECT_TRUE(hog.is_error());
    EXPECT_NE(hog.str.find("not enough memory"), std::string::npos) << hog.str;
    // The server is still fine.
    co_await c.expect(integer(2), "EVAL", "return 1 + 1", "0");
  });
}

TEST(FakeRedis, MathRandomIsSeededFromTheEnvironment) {
  auto draw = [] {
    Rig rig;
    Reply r;
    rig.run([&]() -> env::Task<void> {
      Conn c(rig.client);
      co_await c.open();
      r = co_await c.cmd("EVAL", "return {math.random(1000000), math.random(1000000)}", "0");
    });
    return r;
  };
  const Reply a = draw();
  EXPECT_EQ(a.elements.size(), 2u);
  EXPECT_EQ(a, draw());
}

// ---------------------------------------------------------------- the real client

TEST(FakeRedis, TheLimiterScriptsRunThroughTheGatewaysClient) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    config::RateLimitConfig rc;
    rc.enabled = true;
    rc.global.requests_per_second = 10;
    rc.global.burst_size = 5;
    rc.per_key.max_concurrent = 1;
    stores::redis::ClientConfig cc;
    cc.host = "redis";
    stores::redis::RedisLimiterStore store(rig.client, cc, ratelimit::limits_from(rc));
    stores::AdmitRequest a;
    std::string key;
    for (int i = 0; i < 5; ++i) {
      key = "k" + std::to_string(i);
      a.key = key;
      const auto v = co_await store.admit(a);
      EXPECT_TRUE(v.admitted) << i;
      EXPECT_FALSE(v.store_error);
      EXPECT_EQ(v.remaining_requests, 4 - i);
    }
    a.key = "k5";  // a fresh key: only the global rule can say no
    auto v = co_await store.admit(a);
    EXPECT_FALSE(v.admitted);
    EXPECT_EQ(v.limit, "global requests_per_second");
    a.key = "k0";
    stores::FinishRequest f;
    f.key = "k0";
    co_await store.finish(f);
    env::error_code ec;
    co_await rig.client.sleep_for(v.retry_after, ec);
    v = co_await store.admit(a);
    EXPECT_TRUE(v.admitted) << v.limit;
    EXPECT_EQ(store.store_errors(), 0u);
    EXPECT_EQ(store.client().script_loads(), 2u);  // NOSCRIPT once per script, then EVALSHA
    store.close();
  });
  EXPECT_EQ(rig.fake->stats().noscript_replies, 2u);
}

// ---------------------------------------------------------------- faults

TEST(FakeRedis, LatencyDelaysEachReplyInOrder) {
  Rig rig;
  rig.fake->faults().latency = 50ms;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    const TimePoint t0 = rig.world.now();
    co_await c.send(req("ECHO", "1") + req("ECHO", "2"));
    const auto r = co_await c.replies(2);
    EXPECT_EQ(r.size(), 2u);
    if (r.size() == 2) {
      EXPECT_EQ(r[0], bulk("1"));
      EXPECT_EQ(r[1], bulk("2"));
    }
    EXPECT_EQ(rig.world.now() - t0, 50ms + 200us);  // one way there, 50 ms, one way back
  });
}

TEST(FakeRedis, LatencyWindowsCountFromRun) {
  FakeRedisConfig cfg;
  cfg.faults.push_back({RedisFault::latency, 1s, 2s, 300ms});
  Rig rig(cfg);
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    TimePoint t0 = rig.world.now();
    co_await c.cmd("PING");
    EXPECT_EQ(rig.world.now() - t0, 200us);
    env::error_code ec;
    co_await rig.client.sleep_for(1s, ec);
    t0 = rig.world.now();
    co_await c.cmd("PING");
    EXPECT_EQ(rig.world.now() - t0, 300ms + 200us);
  });
}

TEST(FakeRedis, HangReadsButNeverAnswers) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.expect(status("PONG"), "PING");
    rig.fake->faults().hang = true;
    co_await c.send(req("HSET", "h", "f", "v"));
    const auto none1 = co_await c.replies(1, 10s);
    EXPECT_TRUE(none1.empty());
    EXPECT_FALSE(c.eof);
    rig.fake->faults().hang = false;
    co_await c.send(req("PING"));  // the stuck connection stays stuck
    const auto none2 = co_await c.replies(1, 1s);
    EXPECT_TRUE(none2.empty());
    Conn d(rig.client);  // a new one works, and the hung command never ran
    co_await d.open();
    co_await d.expect(integer(0), "EXISTS", "h");
  });
  EXPECT_EQ(rig.fake->stats().hung_connections, 1u);
}

TEST(FakeRedis, ResetFaultResetsTheConnectionInsteadOfRunningTheCommand) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    rig.fake->faults().reset = true;
    co_await c.send(req("HSET", "h", "f", "v"));
    const auto none3 = co_await c.replies(1);
    EXPECT_TRUE(none3.empty());
    rig.fake->faults().reset = false;
    Conn d(rig.client);
    co_await d.open();
    co_await d.expect(integer(0), "EXISTS", "h");
  });
  EXPECT_EQ(rig.fake->stats().reset_connections, 1u);
}

TEST(FakeRedis, RestartLosesDataAndScriptsAndRefusesConnectsWhileDown) {
  FakeRedisConfig cfg;
  cfg.faults.push_back({RedisFault::restart, 1s, 3s, {}});
  Rig rig(cfg);
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    const std::string sha = sha_of("return 1");
    co_await c.cmd("HSET", "h", "f", "v");
    co_await c.cmd("SCRIPT", "LOAD", "return 1");
    env::error_code ec;
    co_await rig.client.sleep_for(1s, ec);
    co_await c.expect_closed();  // reset by the restart
    Conn down(rig.client);
    co_await down.open(false);  // refused while down
    co_await rig.client.sleep_for(2s, ec);
    Conn up(rig.client);
    co_await up.open();
    co_await up.expect(integer(0), "EXISTS", "h");
    co_await up.expect(error("NOSCRIPT No matching script. Please use EVAL."), "EVALSHA", sha, "0");
  });
  EXPECT_EQ(rig.fake->stats().restarts, 1u);
}

TEST(FakeRedis, ResetConnectionsKeepsTheData) {
  Rig rig;
  rig.run([&]() -> env::Task<void> {
    Conn c(rig.client);
    co_await c.open();
    co_await c.cmd("HSET", "h", "f", "v");
    rig.fake->reset_connections();
    co_await c.expect_closed();
    Conn d(rig.client);
    co_await d.open();
    co_await d.expect(bulk("v"), "HGET", "h", "f");
  });
}

}  // namespace
}  // namespace llmproxy::fake
