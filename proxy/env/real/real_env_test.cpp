// The real environment must report the same error codes the simulated one
// does (see env.h): these tests pin them on loopback sockets.
#include "proxy/env/real/real_env.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>

namespace llmproxy::env {
namespace {

using namespace std::chrono_literals;

// Runs one coroutine to completion on a fresh loop; rethrows its exception.
void run(std::function<Task<void>(RealEnv&)> body) {
  asio::io_context ioc;
  RealEnv env(ioc, 42);
  std::exception_ptr failure;
  bool done = false;
  asio::co_spawn(ioc, body(env), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  ioc.run_for(10s);  // a bound, not a wait: tests finish in milliseconds
  ASSERT_TRUE(done) << "test coroutine did not finish";
  if (failure) std::rethrow_exception(failure);
}

struct Pair {
  std::unique_ptr<Acceptor> acceptor;
  std::unique_ptr<Stream> client;
  std::unique_ptr<Stream> server;
};

Task<Pair> connected_pair(RealEnv& env) {
  Pair p;
  error_code ec;
  p.acceptor = env.listen("127.0.0.1", 0, false, ec);
  EXPECT_FALSE(ec) << ec.message();
  p.client = co_await env.connect("127.0.0.1", p.acceptor->port(), kNoDeadline, ec);
  EXPECT_FALSE(ec) << ec.message();
  p.server = co_await p.acceptor->accept(ec);
  EXPECT_FALSE(ec) << ec.message();
  co_return p;
}

TEST(RealEnv, WriteThenReadRoundTrip) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    error_code ec;
    co_await p.client->write(asio::buffer(std::string_view("hello")), kNoDeadline, ec);
    EXPECT_FALSE(ec);
    char buf[16];
    std::size_t got = 0;
    while (got < 5 && !ec) got += co_await p.server->read_some(asio::buffer(buf + got, sizeof buf - got), kNoDeadline, ec);
    EXPECT_EQ(std::string_view(buf, got), "hello");
    EXPECT_EQ(p.server->remote_ip(), "127.0.0.1");
  });
}

TEST(RealEnv, ReadPastDeadlineIsTimedOut) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    error_code ec;
    char buf[16];
    co_await p.server->read_some(asio::buffer(buf), env.now() + 20ms, ec);
    EXPECT_EQ(ec, asio::error::timed_out);
    // The stream stays usable after a timeout.
    co_await p.client->write(asio::buffer(std::string_view("x")), kNoDeadline, ec);
    auto n = co_await p.server->read_some(asio::buffer(buf), env.now() + 5s, ec);
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 1u);
  });
}

TEST(RealEnv, DeadlineAlreadyPassedFailsAtOnce) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    error_code ec;
    char buf[4];
    co_await p.server->read_some(asio::buffer(buf), env.now() - 1ms, ec);
    EXPECT_EQ(ec, asio::error::timed_out);
  });
}

TEST(RealEnv, OrderlyCloseReadsAsEof) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    p.client->shutdown_send();
    error_code ec;
    char buf[4];
    auto n = co_await p.server->read_some(asio::buffer(buf), kNoDeadline, ec);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(ec, asio::error::eof);
  });
}

TEST(RealEnv, ResetReadsAsConnectionReset) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    p.client->reset();
    error_code ec;
    char buf[4];
    co_await p.server->read_some(asio::buffer(buf), kNoDeadline, ec);
    EXPECT_EQ(ec, asio::error::connection_reset);
  });
}

TEST(RealEnv, CancelAbortsPendingRead) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    auto timer = env.make_timer();
    Stream* server = p.server.get();
    asio::co_spawn(env.executor(), [&]() -> Task<void> {
      error_code tec;
      co_await timer->sleep_until(env.now() + 10ms, tec);
      server->cancel();
    }, asio::detached);
    error_code ec;
    char buf[4];
    co_await p.server->read_some(asio::buffer(buf), kNoDeadline, ec);
    EXPECT_EQ(ec, asio::error::operation_aborted);
  });
}

TEST(RealEnv, WriteDeadlineDoesNotTouchAPendingRead) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    error_code read_ec;
    std::size_t got = 0;
    bool read_done = false;
    char buf[8];
    Stream* server = p.server.get();
    asio::co_spawn(env.executor(), [&]() -> Task<void> {
      got = co_await server->read_some(asio::buffer(buf), kNoDeadline, read_ec);
      read_done = true;
    }, asio::detached);
    error_code ec;
    // A short write deadline on the same stream, which then passes.
    co_await p.server->write(asio::buffer(std::string_view("ping")), env.now() + 5ms, ec);
    EXPECT_FALSE(ec);
    co_await env.sleep_for(20ms, ec);
    EXPECT_FALSE(read_done) << "the write's deadline cancelled the read";
    co_await p.client->write(asio::buffer(std::string_view("pong")), kNoDeadline, ec);
    while (!read_done) co_await env.sleep_for(1ms, ec);
    EXPECT_FALSE(read_ec) << read_ec.message();
    EXPECT_EQ(got, 4u);
  });
}

TEST(RealEnv, ConnectToClosedPortIsRefused) {
  run([](RealEnv& env) -> Task<void> {
    error_code ec;
    auto a = env.listen("127.0.0.1", 0, false, ec);
    const auto port = a->port();
    a->close();
    auto s = co_await env.connect("127.0.0.1", port, env.now() + 5s, ec);
    EXPECT_EQ(s, nullptr);
    EXPECT_EQ(ec, asio::error::connection_refused);
  });
}

TEST(RealEnv, TimerSleepsAndCancels) {
  run([](RealEnv& env) -> Task<void> {
    error_code ec;
    auto t0 = env.now();
    co_await env.sleep_for(5ms, ec);
    EXPECT_FALSE(ec);
    EXPECT_GE(env.now() - t0, 5ms);
  });
}

struct Listener final : ReadListener {
  explicit Listener(Stream& s) : stream(s) {}
  void on_readable() override {
    ++told;
    seen = stream.peek();
  }
  Stream& stream;
  int told = 0;
  Readiness seen = Readiness::nothing;
};

// Yields to the loop until `cond` holds (bounded by run()'s 10 s).
Task<void> until(RealEnv& env, const std::function<bool()>& cond) {
  error_code ec;
  while (!cond()) co_await env.sleep_for(1ms, ec);
}

TEST(RealEnv, WatchTellsDataThenEofAndConsumesNothing) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    Listener l(*p.server);
    p.server->watch_readable(l);
    error_code ec;
    co_await env.sleep_for(5ms, ec);
    EXPECT_EQ(l.told, 0);
    EXPECT_EQ(p.server->peek(), Readiness::nothing);
    co_await p.client->write(asio::buffer(std::string_view("GET")), kNoDeadline, ec);
    co_await until(env, [&] { return l.told > 0; });
    EXPECT_EQ(l.seen, Readiness::data);
    char buf[8];
    const std::size_t n = co_await p.server->read_some(asio::buffer(buf), kNoDeadline, ec);
    EXPECT_EQ(std::string_view(buf, n), "GET");  // the watch read nothing

    p.server->watch_readable(l);
    p.client->close();
    co_await until(env, [&] { return l.told > 1; });
    EXPECT_EQ(l.seen, Readiness::eof);
  });
}

TEST(RealEnv, UnwatchedListenerIsNeverTold) {
  run([](RealEnv& env) -> Task<void> {
    auto p = co_await connected_pair(env);
    Listener l(*p.server);
    p.server->watch_readable(l);
    p.server->unwatch_readable();
    error_code ec;
    co_await p.client->write(asio::buffer(std::string_view("x")), kNoDeadline, ec);
    co_await env.sleep_for(20ms, ec);
    EXPECT_EQ(l.told, 0);
    // A new watch sees readiness that is already there.
    p.server->watch_readable(l);
    co_await until(env, [&] { return l.told > 0; });
    EXPECT_EQ(l.seen, Readiness::data);
  });
}

}  // namespace
}  // namespace llmproxy::env
