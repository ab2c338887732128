// The typed configuration model: one struct per module of the config
// documents (shared/spec/config-reference.yaml, llmproxy-config.zh.md) plus
// our documented extension keys. Member initialisers are the defaults
// (docs/configuration.md lists them). Each struct's visit() lists its fields
// once; the reader, the printer and the test generator all walk it, so a field
// cannot be read but not printed or vice versa.
//
// visit() vocabulary (V is the visitor):
//   v(Key, member, checks...)        a field; checks validate a read value
//   v.input_only(Key, member)        accepted on input only (folded elsewhere by
//                                    the loader), never printed
//   v.only_if(Key, type, wanted, member)
//                                    a type-specific block (e.g. `consul:` of a
//                                    discovery source): read always, rejected
//                                    when present and type is set but is not
//                                    `wanted`, printed only when type == wanted
//   v.only_for(Key, type_key, type, wanted, member, checks...)
//                                    a field one variant reads (a redis cache's
//                                    `addr`): read and checked always, rejected
//                                    when present and `type` (read from
//                                    `type_key`, unless that failed) is not
//                                    `wanted`, printed only when type == wanted
// A loaded Config is shared as std::shared_ptr<const Config> and never changes.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/core/config/checks.h"
#include "proxy/core/config/types.h"
#include "proxy/core/time.h"
#include "proxy/core/util/url.h"

// One header per module; this root includes them all.
#include "proxy/core/config/common.h"
#include "proxy/core/config/server.h"
#include "proxy/core/config/system_log.h"
#include "proxy/core/config/storage.h"
#include "proxy/core/config/backends.h"
#include "proxy/core/config/discovery.h"
#include "proxy/core/config/admin.h"
#include "proxy/core/config/auth.h"
#include "proxy/core/config/logging.h"
#include "proxy/core/config/rate_limit.h"
#include "proxy/core/config/routing.h"
#include "proxy/core/config/health_check.h"
#include "proxy/core/config/metrics.h"
#include "proxy/core/config/usage.h"
#include "proxy/core/config/scripts.h"

namespace llmproxy::config {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- root
struct Config {
  ServerConfig server;
  LogConfig log;
  StorageConfig storage;
  std::vector<BackendConfig> backends;
  DiscoveryConfig discovery;
  AdminConfig admin;
  AuthConfig auth;
  std::vector<StaticKey> api_keys;
  LoggingConfig logging;
  RateLimitConfig rate_limit;
  RoutingConfig routing;
  HealthCheckConfig health_check;
  MetricsConfig metrics;
  UsageConfig usage;
  ScriptsConfig scripts;
  HooksConfig hooks;

  bool operator==(const Config&) const = default;
  // Top-level `listen` (alias of server.listen) is handled by the loader.
  template <class V>
  void visit(V& v) {
    v("server", server);
    v("log", log);
    v("storage", storage);
    v("backends", backends);
    v("discovery", discovery);
    v("admin", admin);
    v("auth", auth);
    v("api_keys", api_keys);
    v("logging", logging);
    v("rate_limit", rate_limit);
    v("routing", routing);
    v("health_check", health_check);
    v("metrics", metrics);
    v("usage", usage);
    v("scripts", scripts);
    v("hooks", hooks);
  }
};

using ConfigPtr = std::shared_ptr<const Config>;

// The storage a module's `storage:` names, after applying the default rule:
// "database" → the database named "database" if any, else the first one;
// likewise "cache" for caches. nullptr when nothing matches.
const DatabaseConfig* resolve_database(const Config& c, std::string_view name);
const CacheConfig* resolve_cache(const Config& c, std::string_view name);

}  // namespace llmproxy::config
