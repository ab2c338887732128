// env::Env on the simulator: one SimEnv per simulated host ("gateway",
// "backend-1", "client-3"...). Clocks are the world's virtual clocks, timers
// are events on the world's heap, connect/listen go through the simulated
// network (names are plain strings; a scenario maps a backend URL's
// host:port to a simulated host by naming the host after it).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "proxy/env/env.h"
#include "sim/network.h"
#include "sim/sim_stream.h"
#include "sim/world.h"

namespace llmproxy::sim {

// A timer on the world's event heap. As with asio's steady_timer, starting a
// sleep aborts the one still pending (operation_aborted); cancel() and
// destruction abort it too.
class SimTimer final : public env::Timer, private World::OpOwner {
 public:
  SimTimer(World& world, std::string host);
  ~SimTimer() override;

  env::Task<void> sleep_until(TimePoint when, error_code& ec) override;
  void cancel() override;

 private:
  void abort_op(World::OpId id) override;
  void start(World::OpId id, TimePoint when);

  World& world_;
  std::string host_;
  std::map<World::OpId, EventId> sleeps_;
};

// A listener registered in the network under host:port.
class SimAcceptor final : public env::Acceptor, private World::OpOwner {
 public:
  SimAcceptor(World& world, Host& host);
  ~SimAcceptor() override;

  env::Task<std::unique_ptr<env::Stream>> accept(error_code& ec) override;
  void close() override;
  std::uint16_t port() const override { return port_; }

  // Registers in the network (called by SimEnv::listen).
  error_code bind(std::uint16_t port, bool reuse_port);
  // A new connection's server side arrives (called by the connecting env).
  void enqueue(std::unique_ptr<SimStream> stream);
  std::size_t backlog() const { return backlog_.size(); }

 private:
  struct Waiter {
    World::OpId id;
    std::unique_ptr<env::Stream>* out;
  };
  void abort_op(World::OpId id) override;
  void start(World::OpId id, std::unique_ptr<env::Stream>* out);

  World& world_;
  Host& host_;
  std::uint16_t port_ = 0;
  bool bound_ = false;
  bool closed_ = false;
  std::deque<std::unique_ptr<SimStream>> backlog_;
  std::deque<Waiter> waiters_;
};

class SimEnv final : public env::Env, private World::OpOwner {
 public:
  SimEnv(World& world, std::string host_name);
  // Another environment on the same host (its address, ports and faults),
  // with its own generator rng_for("host:<name>/<stream>"): several
  // gateway workers on one machine, each with its own env as in serve,
  // must not draw the same random numbers.
  SimEnv(World& world, std::string host_name, const std::string& stream);
  ~SimEnv() override;
  SimEnv(const SimEnv&) = delete;
  SimEnv& operator=(const SimEnv&) = delete;

  asio::any_io_executor executor() override { return world_.executor(); }
  TimePoint now() const override { return world_.now(); }
  WallTime wall_now() const override { return world_.wall_now(); }
  std::unique_ptr<env::Timer> make_timer() override;
  env::Task<std::unique_ptr<env::Stream>> connect(std::string host, std::uint16_t port,
                                                  TimePoint deadline, error_code& ec) override;
  std::unique_ptr<env::Acceptor> listen(const std::string& host, std::uint16_t port,
                                        bool reuse_port, error_code& ec) override;
  Rng& rng() override { return rng_; }

  World& world() { return world_; }
  Host& host() { return host_; }
  const std::string& name() const { return host_.name; }
  const std::string& ip() const { return host_.ip; }
  // Options of connections this host opens (defaults: the network's).
  StreamOptions& stream_options() { return stream_options_; }

 private:
  struct Connecting {
    std::unique_ptr<env::Stream>* out;
    std::string target;
    EventId deadline;
    EventId step;
    std::unique_ptr<SimStream> client;
  };
  void abort_op(World::OpId id) override;
  void start_connect(World::OpId id, const std::string& host, std::uint16_t port,
                     TimePoint deadline, std::unique_ptr<env::Stream>* out);
  void send_syn(World::OpId id, Host* target, std::uint16_t port);
  void syn_arrived(World::OpId id, Host* target, std::uint16_t port);
  void finish_connect(World::OpId id, error_code ec);
  Duration rtt(const Host& target);

  World& world_;
  Host& host_;
  Rng rng_;
  StreamOptions stream_options_;
  std::map<World::OpId, Connecting> connecting_;
  // Heal callbacks held by the network outlive us; they check this token.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace llmproxy::sim
