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

#include "proxy/core/routing/balancer.h"
#include "proxy/core/routing/circuit_breaker.h"
#include "proxy/core/routing/fallback_chains.h"
#include "proxy/core/routing/route_plan.h"
#include "proxy/env/env.h"
#include "proxy/shell/admission.h"
#include "proxy/shell/health_board.h"
#include "proxy/shell/pipeline.h"
#include "proxy/shell/request_record.h"
#include "proxy/shell/shell_config.h"
#include "proxy/shell/upstream_pool.h"

namespace llmproxy {

namespace stores {
class LimiterStore;
}

namespace shell {

class Session;
class HealthProber;

// What a worker shares with the others of its process, or owns alone.
struct WorkerOptions {
  // Health state shared by all workers; null = the worker makes its own.
  std::shared_ptr<HealthBoard> health;
  // This worker runs the active health probes (one per process).
  bool probe_health = true;
  // Rate limiting (null = none configured): this worker's store client.
  std::shared_ptr<stores::LimiterStore> limiter;
  // Connection and body-buffer limits shared by all workers; null = the
  // worker makes its own from the config.
  std::shared_ptr<AdmissionBudget> admission;
  // An exception escaping a session is a bug. In production it is logged
  // and counted (Counters::sessions_failed) and the other sessions go on;
  // the simulator sets this so it fails the run instead (DESIGN.md).
  bool rethrow_session_failures = false;
  // Modules from the composition root: filters, observers and endpoints
  // added to the worker's pipeline (a rate-limit filter comes from
  // `limiter` above).
  std::vector<std::unique_ptr<Filter>> filters;
  std::vector<std::shared_ptr<RequestObserver>> observers;
  std::vector<std::pair<std::string, std::shared_ptr<EndpointHandler>>> endpoints;
  // What those modules share with the other workers of the process (e.g.
  // the metrics hub): kept alive as long as the worker.
  std::shared_ptr<const void> shared_state;
};

class Worker final : public routing::BackendSet {
 public:
  Worker(env::Env& env, std::shared_ptr<const ShellConfig> config, WorkerOptions options = {});
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

  // Starts the background work: active health probes when configured and
  // this worker probes. stop_background() ends it (drain, end of a run).
  void start_background();
  void stop_background();
  HealthProber* health_prober() { return prober_.get(); }

  // Routing state of this worker (docs/routing.md).
  routing::Balancer& balancer() { return balancer_; }
  routing::CircuitBreaker& circuit() { return circuit_; }
  const HealthBoard& health() const { return *health_; }
  stores::LimiterStore* limiter() { return limiter_.get(); }
  AdmissionBudget& admission() { return *admission_; }
  // May backend i get a request now (healthy and its circuit allows)?
  bool routable(std::size_t i, TimePoint now) const override {
    return health_->healthy(i) && circuit_.allows(i, now);
  }
  // /ready: some backend is healthy (and none configured means not ready).
  bool any_backend_routable() const { return health_->any_healthy(); }

  // The request pipeline: built-in endpoints, filters, observers
  // (pipeline.h). Built before serve() and not changed while serving.
  Pipeline& pipeline() { return pipeline_; }
  const Pipeline& pipeline() const { return pipeline_; }

  // routing::BackendSet: what a request's routing plan consults.
  std::size_t size() const override { return config_->backends.size(); }
  bool serves(std::size_t i, std::string_view model) const override;

  // Session bookkeeping (sessions register for drain and shutdown).
  std::list<Session*>::iterator session_opened(Session* s);
  void session_closed(std::list<Session*>::iterator it);
  void request_started() {
    ++counters_.requests;
    ++in_flight_;
  }
  void request_ended() { --in_flight_; }

  // Orders attempt starts and ends on this worker (AttemptLog::seq_*).
  std::uint64_t next_attempt_seq() { return ++attempt_seq_; }

  // Totals since start (this worker).
  struct Counters {
    std::uint64_t connections_accepted = 0;
    // Connections answered 503 and closed because max_connections were open.
    std::uint64_t connections_refused = 0;
    // Sessions ended by an exception (a bug; logged).
    std::uint64_t sessions_failed = 0;
    std::uint64_t requests = 0;
    std::uint64_t upstream_connects = 0;
    std::uint64_t upstream_reuses = 0;
    // Requests sent again on a new connection because a reused one turned
    // out closed by the backend before any response byte.
    std::uint64_t stale_reuses = 0;
  };
  Counters& counters() { return counters_; }

 private:
  // Completion of a session's (or a refusal's) coroutine.
  void session_ended(std::exception_ptr e);

  env::Env& env_;
  std::shared_ptr<const void> shared_state_;  // outlives the pipeline below
  std::shared_ptr<const ShellConfig> config_;
  UpstreamPool pool_;
  std::shared_ptr<HealthBoard> health_;
  bool probe_health_;
  std::shared_ptr<stores::LimiterStore> limiter_;
  std::shared_ptr<AdmissionBudget> admission_;
  bool rethrow_session_failures_;
  std::unique_ptr<HealthProber> prober_;
  routing::Balancer balancer_;
  routing::CircuitBreaker circuit_;
  std::uint64_t attempt_seq_ = 0;
  bool draining_ = false;
  bool closed_ = false;
  std::size_t in_flight_ = 0;
  std::list<Session*> sessions_;
  Counters counters_;
  Pipeline pipeline_;
};

}  // namespace shell
}  // namespace llmproxy
