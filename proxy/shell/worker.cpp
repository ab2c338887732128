#include "proxy/shell/worker.h"

#include <boost/asio/co_spawn.hpp>

#include "proxy/core/log/log.h"
#include "proxy/shell/health_prober.h"
#include "proxy/shell/session.h"
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

Worker::Worker(env::Env& env, std::shared_ptr<const ShellConfig> config, WorkerOptions options)
    : env_(env),
      config_(std::move(config)),
      pool_(config_->backends.size(), config_->upstream_idle_max),
      health_(options.health ? std::move(options.health)
                             : std::make_shared<HealthBoard>(config_->backends.size())),
      probe_health_(options.probe_health),
      limiter_(std::move(options.limiter)),
      balancer_(config_->routing.strategy, weights_of(*config_), config_->routing.latency),
      circuit_(config_->backends.size(), config_->routing.circuit_breaker) {}

Worker::~Worker() { pool_.close_all(); }

void Worker::start_background() {
  if (!config_->health.enabled || !probe_health_ || prober_ || config_->backends.empty()) return;
  prober_ = std::make_unique<HealthProber>(env_, config_, health_);
  boost::asio::co_spawn(env_.executor(), prober_->run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
}

void Worker::stop_background() {
  if (prober_) prober_->stop();
}

void Worker::start_draining() {
  draining_ = true;
  stop_background();
  for (Session* s : sessions_) s->wake_if_idle();
  pool_.close_all();
}

void Worker::close_all_sessions() {
  closed_ = true;
  stop_background();
  if (limiter_) limiter_->close();
  for (Session* s : sessions_) s->close_now();
  pool_.close_all();
}

env::Task<void> Worker::serve(env::Acceptor& acceptor) {
  for (;;) {
    env::error_code ec;
    auto stream = co_await acceptor.accept(ec);
    if (ec) {
      if (ec == boost::asio::error::operation_aborted || draining_) break;
      // EMFILE and friends: log and keep serving the connections we have.
      log::error("accept failed", {{"error", ec.message()}});
      env::error_code sleep_ec;
      co_await env_.sleep_for(std::chrono::milliseconds(50), sleep_ec);
      continue;
    }
    if (draining_) {
      stream->close();
      continue;
    }
    boost::asio::co_spawn(env_.executor(), run_session(*this, std::move(stream)),
                          [](std::exception_ptr e) {
                            if (!e) return;
                            try {
                              std::rethrow_exception(e);
                            } catch (const std::exception& ex) {
                              log::error("session failed", {{"error", ex.what()}});
                            }
                          });
  }
}

}  // namespace llmproxy::shell
