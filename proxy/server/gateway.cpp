#include "proxy/server/gateway.h"

#include <algorithm>

#include "proxy/core/config/cache_pools.h"
#include "proxy/core/config/print.h"
#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/modules/access_log/access_log_observer.h"
#include "proxy/modules/admin/admin_api.h"
#include "proxy/modules/auth/auth_filter.h"
#include "proxy/modules/cors/cors_filter.h"
#include "proxy/modules/metrics/metrics_module.h"
#include "proxy/server/auth_sources.h"
#include "proxy/server/shell_config_from.h"
#include "proxy/stores/keys/memory_key_store.h"
#include "proxy/stores/keys/sql_key_store.h"
#include "proxy/stores/memory_limiter_store.h"
#include "proxy/stores/redis/redis_limiter_store.h"
#include "proxy/stores/redis/shared_clients.h"

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
  if (g->options_.workers > 0) {
    if (auto problem = config::cache_pool_problem(g->config_, g->options_.workers)) {
      const auto& cache = g->config_.storage.caches[problem->cache];
      error = "storage.caches '" + cache.name + "' " + problem->field + ": " + problem->message;
      return nullptr;
    }
  }
  // Rate limits: one in-process limiter shared by the workers, or one store
  // client per worker for a shared store.
  g->limits_ = ratelimit::limits_from(g->config_.rate_limit);
  g->limiting_ = g->config_.rate_limit.enabled && !g->limits_.empty();
  if (g->limiting_) {
    g->limit_cache_ = config::rate_limit_cache(g->config_);
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
  if (g->config_.admin.enabled) {
    // Opened here, where a failure can stop the start (or the reload).
    g->admin_store_ = g->open_key_rows(stores::keys::KeyRows::admin_keys, error);
    if (!g->admin_store_) return nullptr;
  }
  if (auth::auth_required(g->config_)) {
    auto a = auth::Authenticator::from(g->config_);
    if (a) {
      g->auth_ = std::make_shared<const auth::Authenticator>(std::move(*a.value));
    } else if (g->options_.simulated) {
      // conform on a config with a provider this build lacks (check-config
      // said so): judging keys by the static providers alone would refuse
      // what the missing one accepts, so the simulated gateway runs
      // without auth, and says so. serve never gets here (check-config).
      g->left_out_.push_back("auth (" + a.error + ")");
    } else {
      error = a.error;
      return nullptr;
    }
    if (g->auth_ && g->auth_->counts_static_usage()) {
      g->static_usage_store_ = g->open_key_rows(stores::keys::KeyRows::static_key_usage, error);
      if (!g->static_usage_store_) return nullptr;
    }
    if (g->auth_) {
      g->auth_shared_.admin_keys = g->admin_store_;
      g->auth_shared_.static_usage = g->static_usage_store_;
      g->auth_shared_.simulated = g->options_.simulated;
      if (!g->options_.simulated) {  // the simulator runs no database threads
        error = open_auth_databases(g->config_, *g->auth_, g->auth_shared_);
        if (!error.empty()) return nullptr;
      }
      if (auto why = check_auth_sources(g->config_, *g->auth_, g->auth_shared_); !why.empty()) {
        if (!g->options_.simulated) {
          error = why;
          return nullptr;
        }
        g->left_out_.push_back("auth (" + why + ")");  // as above
        g->auth_.reset();
      }
    }
  }
  return g;
}

std::shared_ptr<stores::keys::KeyStore> Gateway::open_key_rows(stores::keys::KeyRows rows,
                                                               std::string& error) const {
  const char* what = rows == stores::keys::KeyRows::admin_keys ? "admin key store" : "store of static keys' usage";
  if (!options_.open_key_store) {
    if (options_.simulated) return std::make_shared<stores::keys::MemoryKeyStore>();
    error = std::string(what) + ": no way to open it (BuildOptions::open_key_store)";
    return nullptr;
  }
  const auto& admin = config_.admin;
  const config::DatabaseConfig* named =
      admin.storage.empty() ? nullptr : config::resolve_database(config_, admin.storage);
  if (!admin.storage.empty() && !named) {
    error = "admin.storage: no database named '" + admin.storage + "' in storage.databases";
    return nullptr;
  }
  auto store = options_.open_key_store(named ? *named : stores::keys::sqlite_key_database(admin.db_path), rows, error);
  if (!store) error = std::string(what) + " " + (named ? "'" + admin.storage + "'" : admin.db_path) + ": " + error;
  return store;
}

std::vector<std::string> Gateway::backend_names() const {
  std::vector<std::string> names;
  for (const auto& b : shell_->backends) names.push_back(b.name);
  return names;
}

namespace {

bool changed_under(const std::vector<std::string>& changed, std::string_view prefix) {
  for (const auto& k : changed) {
    if (k.size() >= prefix.size() && k.compare(0, prefix.size(), prefix) == 0 &&
        (k.size() == prefix.size() || k[prefix.size()] == '.' || k[prefix.size()] == '['))
      return true;
  }
  return false;
}

constexpr std::string_view kRestartOnly[] = {"server.listen",        "server.workers",
                                             "server.max_connections", "server.buffer_memory_budget",
                                             "server.tls",           "log",
                                             "admin.listen"};

}  // namespace

std::vector<std::string> Gateway::restart_only_changes(const std::vector<std::string>& changed) {
  std::vector<std::string> out;
  for (const auto key : kRestartOnly)
    if (changed_under(changed, key)) out.emplace_back(key);
  return out;
}

bool Gateway::wants_admin_listener() const {
  return config_.admin.enabled && !config_.admin.listen.empty();
}

std::shared_ptr<Gateway::Process> Gateway::start_process() const {
  return make_process(nullptr, nullptr, {});
}

std::shared_ptr<Gateway::Process> Gateway::reload_process(
    const Gateway& prev_gateway, const Process& prev,
    const std::vector<std::string>& changed) const {
  return make_process(&prev_gateway, &prev, changed);
}

// Each part: taken over from `prev` when the reload allows it (see the
// header), else made new.
std::shared_ptr<Gateway::Process> Gateway::make_process(
    const Gateway* prev_gateway, const Process* prev,
    const std::vector<std::string>& changed) const {
  const auto keep = [&](std::string_view section) {
    return prev && !changed_under(changed, section);
  };
  auto p = std::make_shared<Process>();
  // Health by backend identity; the very same board when the backend list
  // is the same, so that what reads it (the metrics hub) can stay.
  bool same_backends = false;
  if (prev) {
    const auto map = shell::backend_identity_map(*prev_gateway->shell_, *shell_);
    same_backends = map.size() == prev->health->size();
    for (std::size_t i = 0; i < map.size(); ++i) same_backends = same_backends && map[i] == i;
    if (same_backends) {
      p->health = prev->health;
    } else {
      p->health = std::make_shared<shell::HealthBoard>(shell_->backends.size());
      for (std::size_t i = 0; i < map.size(); ++i)
        if (map[i] != routing::kNoBackend) p->health->set(i, prev->health->healthy(map[i]));
    }
  } else {
    p->health = std::make_shared<shell::HealthBoard>(shell_->backends.size());
  }
  // server.max_connections and buffer_memory_budget hold for the process
  // (restart-only).
  p->admission = prev ? prev->admission
                      : std::make_shared<shell::AdmissionBudget>(shell_->max_connections,
                                                                 shell_->buffer_memory_budget);
  if (limiting_ && (!limit_cache_ || limit_cache_->driver == config::CacheDriver::memory)) {
    if (keep("rate_limit") && keep("storage.caches") && prev->memory_limiter) {
      p->memory_limiter = prev->memory_limiter;
    } else {
      // A named memory cache bounds the limiter's key table with its max_size
      // and releases idle keys after its ttl (memory_limiter.h); capped at a
      // year so the limiter's nanosecond clock cannot overflow.
      ratelimit::MemoryLimiterOptions mo;
      if (limit_cache_) {
        mo.max_keys = static_cast<std::size_t>(limit_cache_->max_size);
        mo.idle_ttl = std::min<Duration>(limit_cache_->ttl, std::chrono::hours(24 * 365));
      }
      p->memory_limiter = std::make_shared<ratelimit::MemoryLimiter>(limits_, mo);
    }
  }
  if (config_.metrics.enabled) {
    p->metrics = same_backends && keep("metrics") && prev->metrics
                     ? prev->metrics
                     : std::make_shared<modules::metrics::MetricsHub>(config_.metrics,
                                                                      backend_names(), p->health);
  }
  if (access_log_to_writer(config_) && !options_.simulated) {
    if (keep("logging") && prev->access_log) {
      p->access_log = prev->access_log;
    } else if (auto o = shell::access_log_writer_options(config_.logging.access,
                                                         options_.wall_clock)) {
      p->access_log = std::make_shared<shell::LogFileWriter>(std::move(*o));
    }
  }
  // The key store keeps its connections (and, in memory, its keys) across
  // a reload that leaves admin alone.
  // The running store while its database is the same (a changed entry of
  // storage.databases that admin.storage names is a new one).
  const bool same_key_database = keep("admin") && (config_.admin.storage.empty() || keep("storage.databases"));
  if (admin_store_) p->admin_keys = same_key_database && prev->admin_keys ? prev->admin_keys : admin_store_;
  if (static_usage_store_)
    p->static_usage = same_key_database && prev->static_usage ? prev->static_usage : static_usage_store_;
  // The listeners are the process's: opened at start, kept by a reload.
  p->admin_listener = prev ? prev->admin_listener : wants_admin_listener();
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
  // This worker's Redis clients, one per storage.caches entry, shared by
  // the modules that name it.
  stores::redis::SharedClients redis(env, index);
  if (process.memory_limiter) {
    o.limiter = std::make_shared<stores::MemoryLimiterStore>(process.memory_limiter);
  } else if (limiting_) {
    env::error_code ec;  // checked by build()
    auto client = redis.get(*limit_cache_, ec);
    stores::redis::RedisLimiterOptions ro;
    // A crashed gateway's slots expire; a live request never outlives this.
    Duration longest{0};
    for (const auto& b : shell_->backends) longest = std::max(longest, b.timeout);
    ro.slot_ttl = std::max<Duration>(2 * longest, std::chrono::minutes(10));
    o.limiter = std::make_shared<stores::redis::RedisLimiterStore>(env, std::move(client), limits_, ro);
  }
  // Modules, each one block.
  if (process.metrics) process.metrics->install(o, process.metrics->worker_share(index));
  if (cors_) o.filters.push_back(std::make_unique<modules::cors::CorsFilter>(cors_));
  if (auth_) {
    // The store providers read what this process shares (the admin key
    // store of a reload that kept it).
    AuthShared shared = auth_shared_;
    if (process.admin_keys) shared.admin_keys = process.admin_keys;
    if (process.static_usage) shared.static_usage = process.static_usage;
    o.filters.push_back(std::make_unique<modules::auth::AuthFilter>(auth_, auth_sources(config_, auth_, shared, env, redis)));
  }
  if (process.access_log)
    o.observers.push_back(std::make_shared<modules::access_log::AccessLogObserver>(
        process.access_log, config_.logging.access.format));
  if (process.admin_keys) {
    modules::admin::AdminOptions ao;
    ao.token = config_.admin.token.value;
    ao.store = process.admin_keys;
    ao.secure_random = options_.secure_random;
    const auto api = std::make_shared<modules::admin::AdminApi>(std::move(ao));
    auto* table = process.admin_listener          ? &o.admin_endpoints
                  : config_.admin.listen.empty() ? &o.endpoints
                                                 : nullptr;
    if (table)
      for (std::string_view path : modules::admin::AdminApi::paths()) table->emplace_back(std::string(path), api);
  }
  return o;
}

}  // namespace llmproxy::server
