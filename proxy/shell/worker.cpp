#include "proxy/shell/worker.h"

#include <boost/asio/co_spawn.hpp>

#include "proxy/core/log/log.h"
#include "proxy/shell/builtin_endpoints.h"
#include "proxy/shell/rate_limit_filter.h"
#include "proxy/core/openai/error_catalogue.h"
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

// A connection past server.max_connections gets a short 503 and is closed,
// without reading anything: the client learns why, and it costs no buffer.
env::Task<void> refuse_connection(env::Env& env, std::unique_ptr<env::Stream> stream) {
  static const std::string kBusy = [] {
    std::string body;
    openai::append_error_body(body, openai::ErrorId::overloaded,
                              "Too many open connections. Retry later.");
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" +
           body;
  }();
  env::error_code ec;
  co_await stream->write(boost::asio::buffer(kBusy), env.now() + std::chrono::seconds(5), ec);
  stream->shutdown_send();
  stream->close();
}

}  // namespace

Worker::Worker(env::Env& env, std::shared_ptr<const ShellConfig> config, WorkerOptions options)
    : env_(env),
      shared_state_(std::move(options.shared_state)),
      config_(std::move(config)),
      pool_(config_->backends.size(), config_->upstream_idle_max),
      health_(options.health ? std::move(options.health)
                             : std::make_shared<HealthBoard>(config_->backends.size())),
      probe_health_(options.probe_health),
      limiter_(std::move(options.limiter)),
      admission_(options.admission ? std::move(options.admission)
                                   : std::make_shared<AdmissionBudget>(
                                         config_->max_connections, config_->buffer_memory_budget)),
      rethrow_session_failures_(options.rethrow_session_failures),
      balancer_(config_->routing.strategy, weights_of(*config_), config_->routing.latency),
      circuit_(config_->backends.size(), config_->routing.circuit_breaker) {
  pipeline_.add_endpoint("/health", std::make_shared<HealthEndpoint>());
  pipeline_.add_endpoint("/ready", std::make_shared<ReadyEndpoint>(*this));
  if (limiter_) pipeline_.add_filter(std::make_unique<RateLimitFilter>(limiter_));
  for (auto& f : options.filters) pipeline_.add_filter(std::move(f));
  for (auto& o : options.observers) pipeline_.add_observer(std::move(o));
  for (auto& [path, h] : options.endpoints) pipeline_.add_endpoint(std::move(path), std::move(h));
}

bool Worker::serves(std::size_t i, std::string_view model) const {
  return routing::model_matches(config_->backends[i].models, model);
}

std::list<Session*>::iterator Worker::session_opened(Session* s) {
  ++counters_.connections_accepted;
  sessions_.push_front(s);
  return sessions_.begin();
}

void Worker::session_closed(std::list<Session*>::iterator it) { sessions_.erase(it); }

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
    if (!admission_->try_open_connection()) {
      ++counters_.connections_refused;
      boost::asio::co_spawn(env_.executor(), refuse_connection(env_, std::move(stream)),
                            [this](std::exception_ptr e) { session_ended(e); });
      continue;
    }
    boost::asio::co_spawn(env_.executor(), run_session(*this, std::move(stream)),
                          [this](std::exception_ptr e) { session_ended(e); });
  }
}

void Worker::session_ended(std::exception_ptr e) {
  if (!e) return;
  ++counters_.sessions_failed;
  if (rethrow_session_failures_) std::rethrow_exception(e);
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("session failed", {{"error", ex.what()}});
  } catch (...) {
    log::error("session failed", {{"error", "unknown exception"}});
  }
}

}  // namespace llmproxy::shell
