// The composition root: the one place where a validated configuration
// becomes a running gateway's parts. `serve` (real sockets, one worker per
// thread), `conform` and the simulator harness all build through it, so a
// module is wired here once and runs in the simulator without extra code.
//
//   Gateway::build(config)        runtime settings (ShellConfig) and the
//                                 choices the config makes (stores, modules)
//   gateway.start_process()       the state one gateway process shares
//                                 between its workers: health board,
//                                 admission budget, in-process limiter, and
//                                 module state (metrics, the admin key
//                                 store); fresh per process
//                                 (and per simulated run)
//   gateway.worker_options(p, env, i)
//                                 worker i's options: its store clients and
//                                 its pipeline's filters, observers and
//                                 endpoints
//
// Adding a module: its config header (proxy/core/config/), its code (a
// filter, an observer, an endpoint), and one block in gateway.cpp's
// worker_options() that adds it when the config enables it.
#pragma once

#include <functional>
#include <memory>
#include <vector>
#include <optional>
#include <span>
#include <string>

#include "proxy/core/config/config.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/env/env.h"
#include "proxy/shell/shell_config.h"
#include "proxy/server/auth_sources.h"
#include "proxy/shell/worker.h"

namespace llmproxy::ratelimit {
class MemoryLimiter;
}
namespace llmproxy::modules::metrics {
class MetricsHub;
}
namespace llmproxy::http {
class CorsPolicy;
}
namespace llmproxy::auth {
class Authenticator;
}
namespace llmproxy::shell {
class LogFileWriter;
}
namespace llmproxy::stores::keys {
class KeyStore;
}

namespace llmproxy::server {

// How the gateway runs.
struct BuildOptions {
  // In the simulator: modules that need the real machine (the log writers'
  // threads and files) are left out, and so is auth when a provider it
  // names is not built (conform runs configs check-config refuses);
  // everything else is wired as in serve.
  bool simulated = false;
  // The wall clock for log rotation (serve passes the system clock; the
  // composition root itself reads no clock).
  std::function<WallTime()> wall_clock;
  // Opens a store of key rows in the database given (the SQLite file
  // admin.db_path, or the storage.databases entry admin.storage names):
  // the admin API's keys, or the usage of static keys with a quota (serve:
  // schema migrated, one pool per database so a reload gets the running
  // one; proxy/stores/keys/sql_key_store.h). Unset in the simulator, where
  // the rows live in memory; a real gateway with admin enabled, or with a
  // static key that has a quota, needs it.
  std::function<std::shared_ptr<stores::keys::KeyStore>(const config::DatabaseConfig&, stores::keys::KeyRows,
                                                        std::string& error)>
      open_key_store;
  // The workers the process runs (serve: server.workers, or one per core):
  // storage.caches pool_size must leave each a connection to the Redis
  // caches in use (proxy/core/config/cache_pools.h). 0: not judged.
  unsigned workers = 0;
  // Cryptographically secure random bytes, for keys the admin API generates
  // (serve: OpenSSL). Unset: a create request must carry its key.
  std::function<bool(std::span<std::uint8_t>)> secure_random;
};

class Gateway {
 public:
  // What one process's workers share.
  struct Process {
    std::shared_ptr<shell::HealthBoard> health;
    std::shared_ptr<shell::AdmissionBudget> admission;
    std::shared_ptr<ratelimit::MemoryLimiter> memory_limiter;  // rate_limit on memory
    std::shared_ptr<modules::metrics::MetricsHub> metrics;     // metrics.enabled
    std::shared_ptr<shell::LogFileWriter> access_log;          // logging.access
    std::shared_ptr<stores::keys::KeyStore> admin_keys;        // admin.enabled
    std::shared_ptr<stores::keys::KeyStore> static_usage;      // static keys with quotas
    // The process runs the admin API on a listener of its own (admin.enabled
    // with admin.listen at start; restart-only, so a reload keeps it): the
    // admin endpoints go to that listener's table, never the main one.
    bool admin_listener = false;
  };

 public:
  // nullptr, with `error` set, when the config names something that cannot
  // be set up (e.g. a Redis address that is not host:port).
  static std::shared_ptr<const Gateway> build(const config::Config& config, std::string& error,
                                              BuildOptions options = {});
  // Modules the config enables that this build of the gateway leaves out
  // (BuildOptions::simulated), for the user to be told.
  const std::vector<std::string>& left_out() const { return left_out_; }

  const std::shared_ptr<const shell::ShellConfig>& shell_config() const { return shell_; }
  // The admin key store this gateway opened (admin.enabled), for tests and
  // tools that look at what the gateway wrote; null without admin.
  const std::shared_ptr<stores::keys::KeyStore>& admin_key_store() const { return admin_store_; }
  // The store of static keys' usage it opened (static keys with quotas); null without.
  const std::shared_ptr<stores::keys::KeyStore>& static_usage_store() const { return static_usage_store_; }
  const config::Config& config() const { return config_; }

  std::shared_ptr<Process> start_process() const;

  // A config reload (BEHAVIOR §13, docs/reload.md): this gateway's process
  // state, carrying over from `prev` (made by `prev_gateway`) what must
  // survive: health of unchanged backends (same name and url); the
  // admission budget; the in-process limiter with its counters when the
  // limits are unchanged (changed limits start a new one: the requests it
  // is holding slots for finish into the old one); the metrics hub with
  // its counters when metrics and the backend list are unchanged; the
  // access-log writer when logging.access is unchanged.
  // `changed`: config::changed_keys(prev_gateway.config(), config()),
  // computed once by the caller (it also logs them).
  std::shared_ptr<Process> reload_process(const Gateway& prev_gateway, const Process& prev,
                                          const std::vector<std::string>& changed) const;

  // Changed settings a reload cannot apply (they take effect at the next
  // restart): server.listen, server.workers, server.max_connections,
  // server.buffer_memory_budget, server.tls, log, admin.listen. The reload applies the
  // rest and names these in a warning.
  static std::vector<std::string> restart_only_changes(const std::vector<std::string>& changed);

  // A process started from this gateway opens the admin listener
  // (admin.listen): admin enabled and admin.listen set.
  bool wants_admin_listener() const;

  // Options of worker `index` (0 runs the health probes) on `env`. The
  // worker keeps `process` alive. The admin API's endpoints go to the admin
  // listener's table when the process has one (Process::admin_listener),
  // else to the main listener's when admin.listen is empty, else nowhere
  // (a reload that set admin.listen: never on the public port, even before
  // the restart that opens the admin listener).
  shell::WorkerOptions worker_options(const std::shared_ptr<Process>& process, env::Env& env,
                                      unsigned index) const;

 private:
  Gateway(const config::Config& config, std::shared_ptr<const shell::ShellConfig> shell);
  std::vector<std::string> backend_names() const;
  // A store of `rows` in the admin key store's database (admin.storage,
  // else the SQLite file admin.db_path), through options_.open_key_store;
  // in memory in the simulator. Null with `error` naming the database.
  std::shared_ptr<stores::keys::KeyStore> open_key_rows(stores::keys::KeyRows rows, std::string& error) const;
  std::shared_ptr<Process> make_process(const Gateway* prev_gateway, const Process* prev,
                                        const std::vector<std::string>& changed) const;

  const config::Config config_;
  std::shared_ptr<const shell::ShellConfig> shell_;
  ratelimit::LimitSet limits_;
  bool limiting_ = false;
  const config::CacheConfig* limit_cache_ = nullptr;  // into config_; null = memory
  std::shared_ptr<const http::CorsPolicy> cors_;       // server.cors.enabled
  std::shared_ptr<stores::keys::KeyStore> admin_store_;  // admin.enabled; a reload keeps the running one
  // Authenticator::counts_static_usage: in the admin key store's database
  // (whether or not admin is enabled); a reload keeps the running one.
  std::shared_ptr<stores::keys::KeyStore> static_usage_store_;
  // auth or api_keys: the key tables, built once per config (a reload
  // builds a new gateway, so new tables), shared read-only by the workers.
  std::shared_ptr<const auth::Authenticator> auth_;
  AuthShared auth_shared_;  // what auth_'s store providers read
  BuildOptions options_;
  std::vector<std::string> left_out_;
};

}  // namespace llmproxy::server
