#include "bench/request_path/relay.h"

#include <boost/asio/co_spawn.hpp>

#include <array>
#include <exception>
#include <memory>

namespace llmproxy::bench {
namespace {

namespace asio = boost::asio;

struct Pipe {
  std::unique_ptr<env::Stream> client;
  std::unique_ptr<env::Stream> upstream;
};

// In the simulator an exception escaping a handler fails the run, which is
// what we want rather than a silent `detached`.
void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// Copies `from` to `to` until either side fails, then closes both so the
// opposite pump ends too. The pipe is shared so it outlives both pumps.
env::Task<void> pump(std::shared_ptr<Pipe> pipe, env::Stream& from, env::Stream& to) {
  std::array<char, 16 * 1024> buf;
  for (;;) {
    env::error_code ec;
    const std::size_t n = co_await from.read_some(asio::buffer(buf), kNoDeadline, ec);
    if (n > 0) {
      env::error_code wec;
      co_await to.write(asio::const_buffer(buf.data(), n), kNoDeadline, wec);
      if (wec) break;
    }
    if (ec) break;
  }
  if (pipe->client->is_open()) pipe->client->close();
  if (pipe->upstream->is_open()) pipe->upstream->close();
}

env::Task<void> relay_connection(env::Env& env, std::unique_ptr<env::Stream> client,
                                 std::string host, std::uint16_t port) {
  env::error_code ec;
  auto upstream = co_await env.connect(host, port, kNoDeadline, ec);
  if (ec || !upstream) {
    client->close();
    co_return;
  }
  auto pipe = std::make_shared<Pipe>(Pipe{std::move(client), std::move(upstream)});
  asio::co_spawn(env.executor(), pump(pipe, *pipe->upstream, *pipe->client), rethrow);
  co_await pump(pipe, *pipe->client, *pipe->upstream);
}

}  // namespace

env::Task<void> run_relay(env::Env& env, env::Acceptor& acceptor, std::string upstream_host,
                          std::uint16_t upstream_port) {
  for (;;) {
    env::error_code ec;
    auto stream = co_await acceptor.accept(ec);
    if (ec || !stream) break;
    asio::co_spawn(env.executor(),
                   relay_connection(env, std::move(stream), upstream_host, upstream_port),
                   rethrow);
  }
}

}  // namespace llmproxy::bench
