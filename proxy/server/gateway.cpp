#include "proxy/server/gateway.h"

#include <algorithm>

#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/modules/access_log/access_log_observer.h"
#include "proxy/modules/cors/cors_filter.h"
#include "proxy/modules/metrics/metrics_module.h"
#include "proxy/server/shell_config_from.h"
#include "proxy/stores/memory_limiter_store.h"
#include "proxy/stores/redis/redis_limiter_store.h"

namespace llmproxy::server {

Gateway::Gateway(const config::Config& config, std::shared_ptr<const shell::ShellConfig> shell)
    : config_(config), shell_(std::move(shell)) {}

namespace {

// logging.access to stdout or a file (a database comes with the usage issue).
bool access_log_to_writer(const config::Config& c) {
  const auto& a = c.logging.access;
  return c.logging.enabled && a.enabled && (a.storage == "stdout" || a.storage == "file");
}

}  // namespace

std::shared_ptr<const Gateway> Gateway::build(const config::Config& config, std::string& error,
                                              BuildOptions options) {
  std::shared_ptr<Gateway> g(new Gateway(config, shell_config_from(config)));
  g->options_ = std::move(options);
  if (access_log_to_writer(config)) {
    if (g->options_.simulated) {
      g->left_out_.push_back("logging.access");
    } else if (!g->options_.wall_clock) {
      error = "logging.access needs a wall clock (BuildOptions::wall_clock)";
      return nullptr;
    }
  }
  // Rate limits: one in-process limiter shared by the workers, or one store
  // client per worker for a shared store.
  g->limits_ = ratelimit::limits_from(g->config_.rate_limit);
  g->limiting_ = g->config_.rate_limit.enabled && !g->limits_.empty();
  if (g->limiting_) {
    g->limit_cache_ = rate_limit_cache(g->config_);
    if (g->limit_cache_ && g->limit_cache_->driver != config::CacheDriver::memory) {
      env::error_code ec;
      stores::redis::ClientConfig::from(*g->limit_cache_, ec);
      if (ec) {
        error = "rate_limit cache '" + g->limit_cache_->name + "': " + ec.message();
        return nullptr;
      }
    }
  }
  if (g->config_.server.cors.enabled)
    g->cors_ = std::make_shared<const http::CorsPolicy>(g->config_.server.cors);
  return g;
}

std::shared_ptr<Gateway::Process> Gateway::start_process() const {
  auto p = std::make_shared<Process>();
  p->health = std::make_shared<shell::HealthBoard>(shell_->backends.size());
  // server.max_connections and buffer_memory_budget hold for the process.
  p->admission =
      std::make_shared<shell::AdmissionBudget>(shell_->max_connections, shell_->buffer_memory_budget);
  if (limiting_ && (!limit_cache_ || limit_cache_->driver == config::CacheDriver::memory)) {
    // A named memory cache bounds the limiter's key table with its max_size.
    ratelimit::MemoryLimiterOptions mo;
    if (limit_cache_) mo.max_keys = static_cast<std::size_t>(limit_cache_->max_size);
    p->memory_limiter = std::make_shared<ratelimit::MemoryLimiter>(limits_, mo);
  }
  if (config_.metrics.enabled) {
    std::vector<std::string> names;
    for (const auto& b : shell_->backends) names.push_back(b.name);
    p->metrics =
        std::make_shared<modules::metrics::MetricsHub>(config_.metrics, std::move(names), p->health);
  }
  if (access_log_to_writer(config_) && !options_.simulated) {
    if (auto o = shell::access_log_writer_options(config_.logging.access, options_.wall_clock))
      p->access_log = std::make_shared<shell::LogFileWriter>(std::move(*o));
  }
  return p;
}

shell::WorkerOptions Gateway::worker_options(const std::shared_ptr<Process>& process_ptr,
                                             env::Env& env, unsigned index) const {
  Process& process = *process_ptr;
  shell::WorkerOptions o;
  o.shared_state = process_ptr;
  o.health = process.health;
  o.admission = process.admission;
  o.probe_health = index == 0;
  if (process.memory_limiter) {
    o.limiter = std::make_shared<stores::MemoryLimiterStore>(process.memory_limiter);
  } else if (limiting_) {
    env::error_code ec;  // checked by build()
    const auto redis_cfg = stores::redis::ClientConfig::from(*limit_cache_, ec);
    stores::redis::RedisLimiterOptions ro;
    // A crashed gateway's slots expire; a live request never outlives this.
    Duration longest{0};
    for (const auto& b : shell_->backends) longest = std::max(longest, b.timeout);
    ro.slot_ttl = std::max<Duration>(2 * longest, std::chrono::minutes(10));
    o.limiter = std::make_shared<stores::redis::RedisLimiterStore>(env, redis_cfg, limits_, ro);
  }
  // Modules, each one block.
  if (process.metrics) process.metrics->install(o, process.metrics->add_worker());
  if (cors_) o.filters.push_back(std::make_unique<modules::cors::CorsFilter>(cors_));
  if (process.access_log)
    o.observers.push_back(std::make_shared<modules::access_log::AccessLogObserver>(
        process.access_log, config_.logging.access.format));
  return o;
}

}  // namespace llmproxy::server
