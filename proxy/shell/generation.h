// One configuration as one worker runs it (BEHAVIOR §13, docs/reload.md):
// the config snapshot, the pipeline built from it, and the backend set with
// its routing state (balancer, circuit breaker, idle upstream connections,
// the process's health board, the limiter client, the health prober).
//
// A worker serves from its current generation. A request pins the generation
// current when its head was read and keeps it to its end, so a request or a
// stream that is open across a reload finishes with the config it started
// with. A reload (Worker::reload) builds a new generation beside the old
// one; the old one is retired once no request pins it and its prober has
// stopped.
//
// What survives a reload is carried by backend identity (same name and url,
// backend_identity_map): circuit breaker state and idle connections here,
// health in the process's board (server::Gateway). A backend that is new
// starts as at start-up; one that is gone takes its state with it.
//
// Used only on its worker's thread: the pin count is a plain integer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "proxy/core/routing/balancer.h"
#include "proxy/core/routing/circuit_breaker.h"
#include "proxy/core/routing/route_plan.h"
#include "proxy/env/env.h"
#include "proxy/shell/health_board.h"
#include "proxy/shell/pipeline.h"
#include "proxy/shell/shell_config.h"
#include "proxy/shell/upstream_pool.h"

namespace llmproxy {

namespace stores {
class LimiterStore;
}

namespace shell {

class HealthProber;

// For each backend of `next`, the index of the same backend in `prev` (same
// name and url), or kNoBackend when it is new.
std::vector<std::size_t> backend_identity_map(const ShellConfig& prev, const ShellConfig& next);

// What a generation is built from (Worker::reload, the worker's first).
struct GenerationParts {
  std::shared_ptr<const ShellConfig> config;
  std::shared_ptr<HealthBoard> health;              // the process's, for this config
  std::shared_ptr<stores::LimiterStore> limiter;    // null: no rate limits
  Pipeline pipeline;                                // modules; built-ins are added
  std::shared_ptr<const void> shared_state;         // kept alive with the generation
  bool probe_health = false;                        // this worker runs the prober
};

class Generation final : public routing::BackendSet {
 public:
  Generation(env::Env& env, std::uint64_t id, GenerationParts parts);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // Distinct for every generation of a worker (addresses may be reused).
  std::uint64_t id() const { return id_; }
  const ShellConfig& config() const { return *config_; }
  const std::shared_ptr<const ShellConfig>& config_ptr() const { return config_; }
  Pipeline& pipeline() { return pipeline_; }
  const Pipeline& pipeline() const { return pipeline_; }
  UpstreamPool& pool() { return pool_; }
  routing::Balancer& balancer() { return balancer_; }
  routing::CircuitBreaker& circuit() { return circuit_; }
  const HealthBoard& health() const { return *health_; }
  stores::LimiterStore* limiter() { return limiter_.get(); }
  HealthProber* health_prober() { return prober_.get(); }

  // routing::BackendSet
  std::size_t size() const override { return config_->backends.size(); }
  bool routable(std::size_t i, TimePoint now) const override {
    return health_->healthy(i) && circuit_.allows(i, now);
  }
  bool serves(std::size_t i, std::string_view model) const override;
  bool any_backend_routable() const { return health_->any_healthy(); }

  // Takes over from the worker's previous generation what must survive a
  // reload (circuit state, idle connections of unchanged backends).
  void carry_over_from(Generation& prev);

  // Requests running on this generation.
  void pin() { ++pins_; }
  void unpin() { --pins_; }
  std::size_t pins() const { return pins_; }

  // Health probes (when this worker probes and health checks are on);
  // `stopped` runs once the prober's run() has returned.
  void start_prober(std::function<void()> stopped);
  void stop_background();
  bool prober_running() const { return prober_running_; }
  // Closes idle connections and the limiter client (retired or shut down).
  void close();

 private:
  env::Env& env_;
  const std::uint64_t id_;
  std::shared_ptr<const void> shared_state_;  // outlives the pipeline below
  std::shared_ptr<const ShellConfig> config_;
  std::shared_ptr<HealthBoard> health_;
  std::shared_ptr<stores::LimiterStore> limiter_;
  bool probe_health_;
  UpstreamPool pool_;
  routing::Balancer balancer_;
  routing::CircuitBreaker circuit_;
  std::unique_ptr<HealthProber> prober_;
  bool prober_running_ = false;
  std::size_t pins_ = 0;
  Pipeline pipeline_;
};

}  // namespace shell
}  // namespace llmproxy
