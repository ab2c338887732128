// Simulated TCP connections: a pair of env::Stream endpoints joined by two
// one-way pipes with latency, bounded receive buffers (back-pressure),
// partial reads, FIN and RST. Semantics in docs/simulator.md; every
// completion goes through the world's io_context, never inline.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "proxy/env/env.h"
#include "sim/network.h"
#include "sim/world.h"

namespace llmproxy::sim {

namespace detail {
class Connection;
}

// One end of a simulated connection. Destroying it closes it (like a socket).
// The World must outlive it.
class SimStream final : public env::Stream {
 public:
  SimStream(std::shared_ptr<detail::Connection> connection, int side);
  ~SimStream() override;
  SimStream(const SimStream&) = delete;
  SimStream& operator=(const SimStream&) = delete;

  env::Task<std::size_t> read_some(asio::mutable_buffer buf, TimePoint deadline,
                                   error_code& ec) override;
  env::Task<std::size_t> write(std::span<const asio::const_buffer> bufs, TimePoint deadline,
                               error_code& ec) override;
  using env::Stream::write;
  void watch_readable(env::ReadListener& listener) override;
  void unwatch_readable() override;
  env::Readiness peek() override;
  void shutdown_send() override;
  void close() override;
  void reset() override;
  void cancel() override;
  bool is_open() const override;
  std::string remote_address() const override;
  std::string remote_ip() const override;

  std::string local_address() const;
  // "c<N>": the connection's id in the event log.
  std::string connection_name() const;

 private:
  std::shared_ptr<detail::Connection> conn_;
  int side_;
};

// Where one endpoint lives.
struct EndpointSpec {
  Host* host;
  std::uint16_t port;
  // A black-holed endpoint: it swallows everything and never sends anything.
  bool sink = false;
};

// Creates a connected pair (a = the connecting side, b = the accepting side).
std::pair<std::unique_ptr<SimStream>, std::unique_ptr<SimStream>> make_connection(
    World& world, const EndpointSpec& a, const EndpointSpec& b, const StreamOptions& options);

}  // namespace llmproxy::sim
