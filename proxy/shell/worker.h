// One event loop's share of the gateway: its environment, its upstream pool,
// the balancer state and the sessions it serves. Production runs one Worker per
// thread (server.workers); the simulator runs one on its "gateway" host. A
// Worker is used only from its own executor, so it needs no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>

#include "proxy/env/env.h"
#include "proxy/shell/request_record.h"
#include "proxy/shell/shell_config.h"
#include "proxy/shell/upstream_pool.h"

namespace llmproxy::shell {

class Session;

class Worker {
 public:
  Worker(env::Env& env, std::shared_ptr<const ShellConfig> config);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  env::Env& env() { return env_; }
  const ShellConfig& config() const { return *config_; }
  UpstreamPool& pool() { return pool_; }

  // Accepts connections until the acceptor is closed.
  env::Task<void> serve(env::Acceptor& acceptor);

  // Stops taking new requests: idle keep-alive connections are closed, busy
  // ones close after their current response, /ready answers 503.
  void start_draining();
  // Ends every connection now (after the drain deadline).
  void close_all_sessions();
  bool draining() const { return draining_; }
  // After close_all_sessions(): nothing is kept for reuse any more.
  bool closed() const { return closed_; }
  std::size_t sessions() const { return sessions_.size(); }
  std::size_t in_flight() const { return in_flight_; }

  // Plain round robin over the static backends (the routing issue replaces
  // this with the configured strategy). Returns backends().size() if none.
  std::size_t pick_backend();
  bool any_backend_routable() const { return !config_->backends.empty(); }

  // Called once per request when it ends.
  std::function<void(const RequestRecord&)> on_request_end;

  // Totals since start (this worker).
  struct Counters {
    std::uint64_t connections_accepted = 0;
    std::uint64_t requests = 0;
    std::uint64_t upstream_connects = 0;
    std::uint64_t upstream_reuses = 0;
  };
  Counters& counters() { return counters_; }

 private:
  friend class Session;
  env::Env& env_;
  std::shared_ptr<const ShellConfig> config_;
  UpstreamPool pool_;
  std::size_t next_backend_ = 0;
  bool draining_ = false;
  bool closed_ = false;
  std::size_t in_flight_ = 0;
  std::list<Session*> sessions_;
  Counters counters_;
};

}  // namespace llmproxy::shell
