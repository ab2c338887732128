#include "proxy/shell/generation.h"

#include <boost/asio/co_spawn.hpp>

#include "proxy/shell/health_prober.h"
#include "proxy/stores/limiter_store.h"

namespace llmproxy::shell {

namespace {

std::vector<int> weights_of(const ShellConfig& cfg) {
  std::vector<int> w;
  w.reserve(cfg.backends.size());
  for (const auto& b : cfg.backends) w.push_back(b.weight);
  return w;
}

}  // namespace

std::vector<std::size_t> backend_identity_map(const ShellConfig& prev, const ShellConfig& next) {
  std::vector<std::size_t> map(next.backends.size(), routing::kNoBackend);
  for (std::size_t i = 0; i < next.backends.size(); ++i) {
    const auto& b = next.backends[i];
    for (std::size_t j = 0; j < prev.backends.size(); ++j) {
      if (prev.backends[j].name == b.name && prev.backends[j].url == b.url) {
        map[i] = j;
        break;
      }
    }
  }
  return map;
}

Generation::Generation(env::Env& env, std::uint64_t id, GenerationParts parts)
    : env_(env),
      id_(id),
      shared_state_(std::move(parts.shared_state)),
      config_(std::move(parts.config)),
      health_(parts.health ? std::move(parts.health)
                           : std::make_shared<HealthBoard>(config_->backends.size())),
      limiter_(std::move(parts.limiter)),
      probe_health_(parts.probe_health),
      pool_(config_->backends.size(), config_->upstream_idle_max),
      balancer_(config_->routing.strategy, weights_of(*config_), config_->routing.latency),
      circuit_(config_->backends.size(), config_->routing.circuit_breaker),
      pipeline_(std::move(parts.pipeline)) {}

Generation::~Generation() { close(); }

bool Generation::serves(std::size_t i, std::string_view model) const {
  return routing::model_matches(config_->backends[i].models, model);
}

void Generation::carry_over_from(Generation& prev) {
  const auto map = backend_identity_map(*prev.config_, *config_);
  for (std::size_t i = 0; i < map.size(); ++i) {
    if (map[i] == routing::kNoBackend) continue;
    circuit_.carry_over(i, prev.circuit_, map[i]);
    pool_.adopt(i, prev.pool_, map[i]);
  }
}

void Generation::start_prober(std::function<void()> stopped) {
  if (!config_->health.enabled || !probe_health_ || prober_ || config_->backends.empty()) return;
  prober_ = std::make_unique<HealthProber>(env_, config_, health_);
  prober_running_ = true;
  // The prober's coroutines use it until run() returns: the generation is
  // not retired before (Worker::retire_unused).
  boost::asio::co_spawn(env_.executor(), prober_->run(),
                        [this, stopped = std::move(stopped)](std::exception_ptr e) {
                          prober_running_ = false;
                          if (e) std::rethrow_exception(e);
                          if (stopped) stopped();
                        });
}

void Generation::stop_background() {
  if (prober_) prober_->stop();
}

void Generation::close() {
  stop_background();
  if (limiter_) limiter_->close();
  pipeline_.close();
  pool_.close_all();
}

}  // namespace llmproxy::shell
