// One event loop's share of the gateway: its environment, the sessions it
// serves, and the generation(s) of config they run on (generation.h: the
// pipeline, the upstream pool, the balancer and circuit state). Production
// runs one Worker per thread (server.workers); the simulator runs them on
// its gateway hosts. A Worker is used only from its own executor, so it
// needs no locks.
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
#include "proxy/shell/generation.h"
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
// Everything but `admission` and `rethrow_session_failures` belongs to one
// generation: Worker::reload takes a new set of them.
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
  // Endpoints of the admin listener (admin.listen), served there only.
  std::vector<std::pair<std::string, std::shared_ptr<EndpointHandler>>> admin_endpoints;
  // What those modules share with the other workers of the process (e.g.
  // the metrics hub): kept alive as long as the worker.
  std::shared_ptr<const void> shared_state;
};

class Worker {
 public:
  Worker(env::Env& env, std::shared_ptr<const ShellConfig> config, WorkerOptions options = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  env::Env& env() { return env_; }

  // The generation new requests run on (generation.h), and its parts.
  Generation& current() { return *current_; }
  const Generation& current() const { return *current_; }
  const ShellConfig& config() const { return current_->config(); }
  UpstreamPool& pool() { return current_->pool(); }
  routing::Balancer& balancer() { return current_->balancer(); }
  routing::CircuitBreaker& circuit() { return current_->circuit(); }
  const HealthBoard& health() const { return current_->health(); }
  stores::LimiterStore* limiter() { return current_->limiter(); }
  HealthProber* health_prober() { return current_->health_prober(); }
  bool routable(std::size_t i, TimePoint now) const { return current_->routable(i, now); }
  // /ready: some backend is healthy (and none configured means not ready).
  bool any_backend_routable() const { return current_->any_backend_routable(); }
  // The current generation's pipeline (built-in endpoints, filters,
  // observers; pipeline.h). Not changed while serving: add observers that
  // must outlive a reload with observe().
  Pipeline& pipeline() { return current_->pipeline(); }

  // Observes every finished request of every generation, this one and the
  // ones later reloads make (the simulator's checkers, tests).
  void observe(std::function<void(const RequestRecord&)> fn);

  // Config reload (BEHAVIOR §13): new requests run on a generation built
  // from `config` and `options` (admission and rethrow_session_failures
  // are the worker's and stay as they are); requests already running finish
  // on theirs. What survives carries over by backend identity.
  void reload(std::shared_ptr<const ShellConfig> config, WorkerOptions options);
  // Generations still pinned by running requests (the current one excluded).
  std::size_t retiring() const { return retiring_.size(); }
  std::uint64_t reloads() const { return current_->id() - 1; }

  // Pins the current generation for one request (RAII; Session).
  class Pin {
   public:
    explicit Pin(Worker& w);
    ~Pin();
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    Generation& get() const { return g_; }

   private:
    Worker& w_;
    Generation& g_;
  };

  // Accepts connections until the acceptor is closed. Their requests are
  // answered as `listener` says (pipeline.h): a worker may serve the main
  // listener and the admin one at once, each from its own serve().
  env::Task<void> serve(env::Acceptor& acceptor, Listener listener = Listener::main);

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

  AdmissionBudget& admission() { return *admission_; }

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
  std::unique_ptr<Generation> make_generation(std::shared_ptr<const ShellConfig> config,
                                              WorkerOptions& options);
  // Frees retired generations no request pins any more (posted, so never
  // from inside the request that let go of one).
  void retire_unused();
  void start_prober();
  // Completion of a session's (or a refusal's) coroutine.
  void session_ended(std::exception_ptr e);

  env::Env& env_;
  std::shared_ptr<AdmissionBudget> admission_;
  bool rethrow_session_failures_;
  std::vector<std::shared_ptr<RequestObserver>> taps_;  // observe(): every generation
  std::uint64_t next_generation_id_ = 1;
  std::unique_ptr<Generation> current_;
  std::vector<std::unique_ptr<Generation>> retiring_;
  bool background_ = false;
  bool retire_posted_ = false;
  std::uint64_t attempt_seq_ = 0;
  bool draining_ = false;
  bool closed_ = false;
  std::size_t in_flight_ = 0;
  std::list<Session*> sessions_;
  Counters counters_;
  // Posted work (retire_unused) checks it: the worker may be gone by then.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace shell
}  // namespace llmproxy
