// Shared by the *_redistest.cpp files: where the test redis-server is, and a
// runner for coroutine test bodies on a real event loop.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/env/real/real_env.h"
#include "proxy/stores/redis/redis_client.h"

namespace llmproxy::stores::redis::testing {

// LLMPROXY_TEST_REDIS=host:port, exported by scripts/test (scripts/services.sh).
// Missing → the calling test fails (never skips): a suite that silently tests
// nothing would look green.
inline bool test_redis(ClientConfig& cfg) {
  const char* addr = std::getenv("LLMPROXY_TEST_REDIS");
  if (addr == nullptr || *addr == '\0') {
    ADD_FAILURE() << "LLMPROXY_TEST_REDIS is not set. Run scripts/test (it starts redis-server), "
                     "or start one yourself: redis-server --port 6390 --bind 127.0.0.1 --save '' "
                     "--daemonize yes; export LLMPROXY_TEST_REDIS=127.0.0.1:6390";
    return false;
  }
  config::CacheConfig cache;
  cache.addr = addr;
  cache.dial_timeout = std::chrono::seconds(2);
  cache.read_timeout = std::chrono::seconds(2);
  cache.write_timeout = std::chrono::seconds(2);
  error_code ec;
  cfg = ClientConfig::from(cache, ec);
  if (ec) {
    ADD_FAILURE() << "LLMPROXY_TEST_REDIS=" << addr << ": " << ec.message();
    return false;
  }
  return true;
}

// Runs one coroutine to completion on a fresh loop; rethrows its exception.
inline void run(std::function<env::Task<void>(env::RealEnv&)> body,
                std::chrono::seconds bound = std::chrono::seconds(30)) {
  boost::asio::io_context ioc;
  env::RealEnv env(ioc, 7);
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(ioc, body(env), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  while (!done && ioc.run_one_for(bound) > 0) {
  }
  ASSERT_TRUE(done) << "test coroutine did not finish";
  if (failure) std::rethrow_exception(failure);
}

// A port on loopback where nothing listens.
inline std::uint16_t closed_port(env::Env& env) {
  error_code ec;
  auto acceptor = env.listen("127.0.0.1", 0, false, ec);
  const std::uint16_t port = acceptor->port();
  acceptor->close();
  return port;
}

// A TCP forwarder on a loopback port to the test server, so a test can make
// "Redis" unreachable (stop) and bring it back on the same port (start)
// without touching the shared server.
class Forwarder {
 public:
  Forwarder(env::Env& env, ClientConfig target) : env_(env), target_(std::move(target)) {}

  // Listens on `port` (0 = any free port the first time) and forwards.
  std::uint16_t start(std::uint16_t port = 0) {
    error_code ec;
    acceptor_ = env_.listen("127.0.0.1", port, false, ec);
    EXPECT_FALSE(ec) << "forwarder listen: " << ec.message();
    if (ec) return 0;
    boost::asio::co_spawn(env_.executor(), accept_loop(acceptor_.get(), generation_),
                          [](std::exception_ptr) {});
    return acceptor_->port();
  }

  // Stops listening and resets every forwarded connection.
  void stop() {
    ++generation_;
    if (acceptor_) acceptor_->close();
    for (auto& s : streams_) s->reset();
    streams_.clear();
  }

 private:
  env::Task<void> accept_loop(env::Acceptor* acceptor, int generation) {
    for (;;) {
      error_code ec;
      auto client = co_await acceptor->accept(ec);
      if (ec || generation != generation_) co_return;
      auto server = co_await env_.connect(target_.host, target_.port, kNoDeadline, ec);
      if (ec) continue;
      std::shared_ptr<env::Stream> c(std::move(client)), s(std::move(server));
      streams_.push_back(c);
      streams_.push_back(s);
      boost::asio::co_spawn(env_.executor(), pump(c, s), [](std::exception_ptr) {});
      boost::asio::co_spawn(env_.executor(), pump(s, c), [](std::exception_ptr) {});
    }
  }

  static env::Task<void> pump(std::shared_ptr<env::Stream> from, std::shared_ptr<env::Stream> to) {
    char buf[4096];
    for (;;) {
      error_code ec;
      const std::size_t n = co_await from->read_some(boost::asio::buffer(buf), kNoDeadline, ec);
      if (ec) break;
      co_await to->write(boost::asio::buffer(buf, n), kNoDeadline, ec);
      if (ec) break;
    }
    to->close();
    from->close();
  }

  env::Env& env_;
  ClientConfig target_;
  std::unique_ptr<env::Acceptor> acceptor_;
  std::vector<std::shared_ptr<env::Stream>> streams_;
  int generation_ = 0;
};

}  // namespace llmproxy::stores::redis::testing
