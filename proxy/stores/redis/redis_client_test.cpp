// RedisClient against scripted fake servers on loopback (no redis-server
// needed): replies cut into single bytes, garbage, unsolicited replies, a
// server that hangs up mid-reply or never answers.
#include "proxy/stores/redis/redis_client.h"

#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "proxy/stores/redis/redis_test_support.h"
#include "proxy/stores/redis/shared_clients.h"

namespace llmproxy::stores::redis {
namespace {

using namespace std::chrono_literals;
using testing::run;

// Serves connections with `script`: it gets the accepted stream and the
// number of the connection (0, 1, …).
using ServerScript = std::function<env::Task<void>(env::Stream&, int)>;

struct FakeServer {
  std::unique_ptr<env::Acceptor> acceptor;
  std::uint16_t port = 0;
};

env::Task<void> serve_one(std::shared_ptr<env::Stream> s, ServerScript script, int n) {
  co_await script(*s, n);
}

env::Task<void> accept_loop(env::Env& env, env::Acceptor* acceptor, ServerScript script) {
  for (int n = 0;; ++n) {
    error_code ec;
    std::shared_ptr<env::Stream> s = co_await acceptor->accept(ec);
    if (ec) co_return;
    boost::asio::co_spawn(env.executor(), serve_one(s, script, n), [](std::exception_ptr) {});
  }
}

FakeServer start_server(env::Env& env, ServerScript script) {
  FakeServer f;
  error_code ec;
  f.acceptor = env.listen("127.0.0.1", 0, false, ec);
  f.port = f.acceptor->port();
  boost::asio::co_spawn(env.executor(), accept_loop(env, f.acceptor.get(), std::move(script)),
                        [](std::exception_ptr) {});
  return f;
}

ClientConfig local(std::uint16_t port) {
  ClientConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.read_timeout = 1s;
  c.write_timeout = 1s;
  c.dial_timeout = 1s;
  return c;
}

// Reads until `n` complete commands (arrays) arrived; returns them.
env::Task<std::vector<Reply>> read_commands(env::Stream& s, std::size_t n, ReplyReader& reader) {
  std::vector<Reply> cmds;
  char buf[4096];
  while (cmds.size() < n) {
    Reply r;
    const auto st = reader.next(r);
    if (st == ReplyReader::Status::reply) {
      cmds.push_back(std::move(r));
      continue;
    }
    error_code ec;
    const std::size_t got = co_await s.read_some(boost::asio::buffer(buf), kNoDeadline, ec);
    if (ec) break;
    reader.feed(buf, got);
  }
  co_return cmds;
}

env::Task<void> write_bytewise(env::Stream& s, std::string bytes) {
  for (char c : bytes) {
    error_code ec;
    co_await s.write(boost::asio::buffer(&c, 1), kNoDeadline, ec);
    if (ec) co_return;
  }
}

env::Task<void> echo_ints_bytewise(env::Stream& s, int) {
  // Answers each command with its position, one byte per write.
  ReplyReader reader;
  for (int i = 0;; ++i) {
    const auto cmds = co_await read_commands(s, 1, reader);
    if (cmds.empty()) co_return;
    co_await write_bytewise(s, ":" + std::to_string(i) + "\r\n");
  }
}

env::Task<void> ask(RedisClient& c, int i, std::vector<std::int64_t>& got, int& finished) {
  error_code ec;
  const std::string arg = std::to_string(i);
  const Reply r = co_await c.call(ec, "ECHO", arg);
  got[static_cast<std::size_t>(i)] = ec ? -1 : r.integer;
  ++finished;
}

TEST(RedisClientFake, RepliesSplitIntoBytesStillMatchTheirCommandsInOrder) {
  run([](env::RealEnv& env) -> env::Task<void> {
    auto server = start_server(env, echo_ints_bytewise);
    RedisClient c(env, local(server.port));
    std::vector<std::int64_t> got(50, -2);
    int finished = 0;
    for (int i = 0; i < 50; ++i) {
      boost::asio::co_spawn(env.executor(), ask(c, i, got, finished), [](std::exception_ptr) {});
    }
    error_code ec;
    while (finished < 50) co_await env.sleep_for(1ms, ec);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(c.connects(), 1u);
  });
}

config::CacheConfig cache_at(std::uint16_t port, int min_idle) {
  config::CacheConfig c;
  c.name = "keys";
  c.driver = config::CacheDriver::redis;
  c.addr = "127.0.0.1:" + std::to_string(port);
  c.min_idle_conns = min_idle;
  return c;
}

// storage.caches: the modules of a worker that name one cache share one
// client, which closes at its last user's close(); min_idle_conns opens
// the connections of the first workers before any command, and a command
// sent while that connect runs is written when it is done.
TEST(RedisClientFake, ModulesShareOneClientPerCacheAndMinIdleConnectsAtStart) {
  run([](env::RealEnv& env) -> env::Task<void> {
    auto server = start_server(env, echo_ints_bytewise);
    error_code ec;
    // Worker 1 is not among the first min_idle_conns: it connects at its
    // first command (a wrong connect would have finished by the end, with
    // worker 0's three round trips).
    SharedClients worker1(env, 1);
    auto lazy = worker1.get(cache_at(server.port, 1), ec);
    SharedClients worker0(env, 0);
    auto limiter = worker0.get(cache_at(server.port, 1), ec);
    EXPECT_FALSE(ec);
    if (ec) co_return;
    auto auth = worker0.get(cache_at(server.port, 1), ec);
    EXPECT_EQ(limiter, auth);
    std::vector<std::int64_t> got(1, -2);
    int finished = 0;
    co_await ask(*auth, 0, got, finished);  // queued while the start's connect runs
    EXPECT_EQ(got[0], 0);
    EXPECT_EQ(auth->connects(), 1u);

    limiter->close();  // one user left: still open
    co_await ask(*auth, 0, got, finished);
    EXPECT_EQ(got[0], 1);
    auth->close();
    co_await ask(*auth, 0, got, finished);
    EXPECT_EQ(got[0], -1);  // closed for good

    EXPECT_EQ(lazy->connects(), 0u);
    EXPECT_FALSE(lazy->connected());
    lazy->close();
  });
}

env::Task<void> garbage_first(env::Stream& s, int n) {
  ReplyReader reader;
  for (;;) {
    const auto cmds = co_await read_commands(s, 1, reader);
    if (cmds.empty()) co_return;
    error_code ec;
    const std::string answer = n == 0 ? "?garbage\r\n" : "+PONG\r\n";
    co_await s.write(boost::asio::buffer(answer), kNoDeadline, ec);
  }
}

TEST(RedisClientFake, GarbageIsAProtocolErrorAndTheNextCommandReconnects) {
  run([](env::RealEnv& env) -> env::Task<void> {
    auto server = start_server(env, garbage_first);
    RedisClient c(env, local(server.port));
    error_code ec;
    co_await c.call(ec, "PING");
    EXPECT_EQ(ec, errc::protocol_error);
    EXPECT_FALSE(c.connected());
    // The server never answered properly: a failed attempt, so back off first.
    co_await c.call(ec, "PING");
    EXPECT_EQ(ec, errc::backoff);
    co_await env.sleep_for(60ms, ec);
    const Reply r = co_await c.call(ec, "PING");
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.describe(), "+PONG");
    EXPECT_EQ(c.connects(), 2u);
  });
}

env::Task<void> one_reply_too_many(env::Stream& s, int) {
  ReplyReader reader;
  co_await read_commands(s, 1, reader);
  error_code ec;
  co_await s.write(boost::asio::buffer(std::string_view("+PONG\r\n+EXTRA\r\n")), kNoDeadline, ec);
  co_await read_commands(s, 100, reader);
}

TEST(RedisClientFake, AReplyNobodyAskedForDropsTheConnection) {
  run([](env::RealEnv& env) -> env::Task<void> {
    auto server = start_server(env, one_reply_too_many);
    RedisClient c(env, local(server.port));
    error_code ec;
    const Reply r = co_await c.call(ec, "PING");
    EXPECT_FALSE(ec);
    EXPECT_EQ(r.describe(), "+PONG");
    for (int i = 0; i < 100 && c.connected(); ++i) co_await env.sleep_for(5ms, ec);
    EXPECT_FALSE(c.connected());
    EXPECT_EQ(c.connection_drops(), 1u);
  });
}

env::Task<void> hang_up_mid_reply(env::Stream& s, int) {
  ReplyReader reader;
  co_await read_commands(s, 1, reader);
  error_code ec;
  co_await s.write(boost::asio::buffer(std::string_view("$10\r\nabc")), kNoDeadline, ec);
  s.close();
}

TEST(RedisClientFake, HangUpMidReplyFailsThePendingCommand) {
  run([](env::RealEnv& env) -> env::Task<void> {
    auto server = start_server(env, hang_up_mid_reply);
    RedisClient c(env, local(server.port));
    error_code ec;
    co_await c.call(ec, "GET", "k");
    EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
        << ec.message();
    EXPECT_EQ(c.connection_drops(), 1u);
    // It never answered: the next attempt waits for the backoff.
    co_await c.call(ec, "GET", "k");
    EXPECT_EQ(ec, errc::backoff);
  });
}

env::Task<void> silent(env::Stream& s, int) {
  ReplyReader reader;
  co_await read_commands(s, 1000, reader);
}

env::Task<void> ping_into(RedisClient& c, error_code& out, bool& finished) {
  co_await c.call(out, "PING");
  finished = true;
}

// A client destroyed while commands wait for replies (a module closing
// under load): they fail with operation_aborted and their callers resume
// without touching the freed client (ASan would report it).
TEST(RedisClientFake, DestroyingTheClientFailsPendingCommandsSafely) {
  run([](env::RealEnv& env) -> env::Task<void> {
    auto server = start_server(env, silent);
    auto c = std::make_unique<RedisClient>(env, local(server.port));
    std::array<error_code, 3> ecs;
    std::array<bool, 3> finished{};
    for (std::size_t i = 0; i < ecs.size(); ++i)
      boost::asio::co_spawn(env.executor(), ping_into(*c, ecs[i], finished[i]), [](std::exception_ptr) {});
    error_code ec;
    for (int i = 0; i < 200 && !c->connected(); ++i) co_await env.sleep_for(1ms, ec);
    EXPECT_TRUE(c->connected());
    c.reset();
    for (int i = 0; i < 200 && !(finished[0] && finished[1] && finished[2]); ++i) co_await env.sleep_for(1ms, ec);
    for (std::size_t i = 0; i < ecs.size(); ++i) {
      EXPECT_TRUE(finished[i]) << i;
      EXPECT_EQ(ecs[i], boost::asio::error::operation_aborted) << i;
    }
  });
}

TEST(RedisClientFake, SilentServerTimesOutEveryPendingCommandAtItsDeadline) {
  run([](env::RealEnv& env) -> env::Task<void> {
    auto server = start_server(env, silent);
    ClientConfig cfg = local(server.port);
    cfg.read_timeout = 100ms;
    cfg.write_timeout = 50ms;
    RedisClient c(env, cfg);
    error_code ec;
    const TimePoint start = env.now();
    co_await c.call(ec, "PING");
    EXPECT_EQ(ec, boost::asio::error::timed_out);
    EXPECT_GE(env.now() - start, 150ms);
    EXPECT_LT(env.now() - start, 1s);
  });
}

TEST(RedisClientFake, ScriptShaIsTheSha1OfTheSource) {
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

}  // namespace
}  // namespace llmproxy::stores::redis
