#include "proxy/core/config/validate.h"

#include <set>

#include "proxy/core/util/did_you_mean.h"
#include "proxy/core/util/url.h"

namespace llmproxy::config::detail {

Position Context::at(std::string_view path, bool key) const {
  std::string p(path);
  while (true) {
    auto it = marks_.find(p);
    if (it != marks_.end()) return key ? it->second.key : it->second.value;
    const std::size_t cut = p.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) return Position{1, 1};
    p.resize(cut);
    key = true;  // an ancestor: point at its key
  }
}

bool Context::failed(std::string_view path) const {
  if (failed_.empty()) return false;
  std::string p(path);
  while (true) {
    if (failed_.count(p) != 0) return true;
    if (p.empty()) return false;
    const std::size_t cut = p.find_last_of(".[");
    p.resize(cut == std::string::npos ? 0 : cut);
  }
}

void Context::error(std::string_view path, const std::string& message, bool at_key) {
  if (failed(path)) return;
  const Position p = at(path, at_key);
  diags_.push_back(Diagnostic{file_, p.line, p.column, std::string(path) + ": " + message, Diagnostic::Kind::schema});
}

void Context::not_implemented(std::string_view where, std::string_view label, Feature f) {
  const FeatureInfo& info = feature_info(f);
  if (info.built) return;
  const Position p = at(where, true);
  diags_.push_back(Diagnostic{file_, p.line, p.column,
                              std::string(label) + ": not implemented yet in this build (see " +
                                  std::string(info.reference) + ")",
                              Diagnostic::Kind::not_implemented});
}

namespace {

std::string idx(std::string_view base, std::size_t i) { return std::string(base) + "[" + std::to_string(i) + "]"; }

std::string suggestion(std::string_view name, const std::vector<std::string_view>& candidates) {
  auto s = util::did_you_mean(name, candidates);
  return s ? " (did you mean '" + *s + "'?)" : "";
}

// Names that must be unique within one list.
template <class T>
void check_unique_names(const std::vector<T>& items, std::string_view list_path, Context& ctx,
                        bool required) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& name = items[i].name;
    const std::string path = idx(list_path, i) + ".name";
    if (name.empty()) {
      if (required) ctx.error(idx(list_path, i), "name is required", true);
      continue;
    }
    if (!seen.insert(name).second) ctx.error(path, "duplicate name '" + name + "'");
  }
}

void check_database_ref(const Config& c, const std::string& path, const std::string& name, Context& ctx) {
  if (resolve_database(c, name) != nullptr) return;
  std::vector<std::string_view> names;
  for (const auto& db : c.storage.databases) names.push_back(db.name);
  if (name == "database") {
    ctx.error(path, "\"database\" means the default database, but storage.databases is empty");
  } else if (resolve_cache(c, name) != nullptr && name != "cache") {
    ctx.error(path, "'" + name + "' is a cache; a database from storage.databases is needed here");
  } else {
    ctx.error(path, "no database named '" + name + "' in storage.databases" + suggestion(name, names));
  }
}

void check_cache_ref(const Config& c, const std::string& path, const std::string& name, Context& ctx,
                     bool need_redis) {
  const CacheConfig* cache = resolve_cache(c, name);
  if (cache == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& ca : c.storage.caches) names.push_back(ca.name);
    if (name == "cache") ctx.error(path, "\"cache\" means the default cache, but storage.caches is empty");
    else if (resolve_database(c, name) != nullptr && name != "database")
      ctx.error(path, "'" + name + "' is a database; a cache from storage.caches is needed here");
    else ctx.error(path, "no cache named '" + name + "' in storage.caches" + suggestion(name, names));
    return;
  }
  if (need_redis && cache->driver != CacheDriver::redis)
    ctx.error(path, "cache '" + cache->name + "' is a memory cache; a redis cache is needed here");
}

void check_required(const std::string& value, const std::string& path, std::string_view what, Context& ctx) {
  if (value.empty()) ctx.error(path, std::string(what) + " is required");
}

// logging.request / logging.access `storage:`.
template <class Log>
void check_log_storage(const Config& c, const Log& log, const std::string& path, Context& ctx) {
  if (log.storage == "stdout") return;
  if (log.storage == "file") {
    if (log.enabled && log.file.path.empty())
      ctx.error(path + ".file.path", "required when storage is \"file\"", !ctx.present(path + ".file.path"));
    return;
  }
  check_database_ref(c, path + ".storage", log.storage, ctx);
}

bool backend_matches(const Config& c, const std::vector<const BackendConfig*>& known, const std::string& ref) {
  (void)c;
  auto url = util::parse_url(ref);
  for (const BackendConfig* b : known) {
    if (!b->name.empty() && b->name == ref) return true;
    if (url && !b->url.empty() && b->parsed_url == *url) return true;
  }
  return false;
}

// storage.database / storage.cache shorthands join the lists (appended, so
// positions of the listed entries, and their diagnostics, stay put).
void fold_storage_shorthands(Config& c) {
  auto& st = c.storage;
  for (auto& db : st.database_shorthand) {
    if (db.name.empty()) db.name = "database";
    st.databases.push_back(std::move(db));
  }
  st.database_shorthand.clear();
  for (auto& cache : st.cache_shorthand) {
    if (cache.name.empty()) cache.name = "cache";
    st.caches.push_back(std::move(cache));
  }
  st.cache_shorthand.clear();
}

void validate_storage(const Config& c, Context& ctx) {
  check_unique_names(c.storage.databases, "storage.databases", ctx, true);
  check_unique_names(c.storage.caches, "storage.caches", ctx, true);
  for (std::size_t i = 0; i < c.storage.databases.size(); ++i) {
    const auto& db = c.storage.databases[i];
    const std::string p = idx("storage.databases", i);
    if (!db.dsn.empty() || ctx.failed(p + ".driver")) continue;
    if (db.driver == DbDriver::sqlite && db.path.empty())
      ctx.error(p, "sqlite needs `path` (or `dsn`)", true);
    if (db.driver != DbDriver::sqlite && db.host.empty())
      ctx.error(p, std::string(enum_name(db.driver)) + " needs `host` (or `dsn`)", true);
  }
}

void validate_backends(Config& c, Context& ctx) {
  check_unique_names(c.backends, "backends", ctx, false);
  for (std::size_t i = 0; i < c.backends.size(); ++i) {
    auto& b = c.backends[i];
    if (b.url.empty()) {
      if (!ctx.failed(idx("backends", i) + ".url")) ctx.error(idx("backends", i), "url is required", true);
      continue;
    }
    if (auto u = util::parse_url(b.url)) b.parsed_url = *u;
  }
  if (c.backends.empty() && !c.discovery.enabled)
    ctx.error("backends", "at least one backend is required (or enable discovery)", true);
}

void validate_discovery(Config& c, Context& ctx) {
  check_unique_names(c.discovery.sources, "discovery.sources", ctx, false);
  for (std::size_t i = 0; i < c.discovery.sources.size(); ++i) {
    auto& s = c.discovery.sources[i];
    const std::string p = idx("discovery.sources", i);
    switch (s.type) {
      case SourceType::unset:
        ctx.error(p + ".type", "type is required (static, database, consul, kubernetes, etcd or http)",
                  !ctx.present(p + ".type"));
        break;
      case SourceType::database:
        check_database_ref(c, p + ".database.storage", s.database.storage, ctx);
        break;
      case SourceType::static_list:
        for (std::size_t j = 0; j < s.static_list.backends.size(); ++j) {
          auto& b = s.static_list.backends[j];
          const std::string bp = idx(p + ".static.backends", j);
          if (b.url.empty()) {
            if (!ctx.failed(bp + ".url")) ctx.error(bp, "url is required", true);
          }
          else if (auto u = util::parse_url(b.url)) b.parsed_url = *u;
        }
        break;
      case SourceType::consul:
        if (s.enabled) check_required(s.consul.service, p + ".consul.service", "service", ctx);
        break;
      case SourceType::kubernetes:
        if (s.enabled) check_required(s.kubernetes.service, p + ".kubernetes.service", "service", ctx);
        break;
      case SourceType::etcd:
        if (s.enabled && s.etcd.endpoints.empty())
          ctx.error(p + ".etcd.endpoints", "at least one endpoint is required");
        break;
      case SourceType::http:
        if (s.enabled) check_required(s.http.url, p + ".http.url", "url", ctx);
        break;
    }
  }
}

void validate_auth(const Config& c, Context& ctx) {
  if (c.admin.enabled && c.admin.token.empty())
    ctx.error("admin.token", "a token is required when admin is enabled", !ctx.present("admin.token"));
  check_unique_names(c.auth.pipeline, "auth.pipeline", ctx, false);
  for (std::size_t i = 0; i < c.auth.pipeline.size(); ++i) {
    const auto& a = c.auth.pipeline[i];
    const std::string p = idx("auth.pipeline", i);
    switch (a.type) {
      case ProviderType::unset:
        ctx.error(p + ".type", "type is required (builtin, redis, database, webhook, lua or static)",
                  !ctx.present(p + ".type"));
        break;
      case ProviderType::builtin:
        if (a.enabled && c.auth.enabled && !c.admin.enabled)
          ctx.error(p + ".type", "the builtin provider uses the admin key store; set admin.enabled: true");
        break;
      case ProviderType::redis:
        check_cache_ref(c, p + ".redis.storage", a.redis.storage, ctx, true);
        break;
      case ProviderType::database:
        check_database_ref(c, p + ".database.storage", a.database.storage, ctx);
        break;
      case ProviderType::webhook:
        if (a.enabled) check_required(a.webhook.url, p + ".webhook.url", "url", ctx);
        break;
      case ProviderType::lua:
        break;  // lint_scripts
      case ProviderType::static_keys:
        for (std::size_t j = 0; j < a.static_keys.keys.size(); ++j)
          if (a.static_keys.keys[j].key.empty())
            ctx.error(idx(p + ".static.keys", j), "key is required", true);
        break;
    }
  }
  for (std::size_t i = 0; i < c.api_keys.size(); ++i)
    if (c.api_keys[i].key.empty()) ctx.error(idx("api_keys", i), "key is required", true);
}

// metrics: the scrape path must not shadow the gateway's own routes, and
// custom labels are the ones the gateway can fill (bounded cardinality).
void validate_metrics(const Config& c, Context& ctx) {
  const auto& m = c.metrics;
  const std::string_view path = m.path;
  if (path == "/health" || path == "/ready" || path.starts_with("/v1/") || path == "/v1" ||
      path == "/admin" || path.starts_with("/admin/"))
    ctx.error("metrics.path", "'" + m.path + "' is one of the gateway's own routes");
  for (std::size_t i = 0; i < m.custom_labels.size(); ++i) {
    const std::string& l = m.custom_labels[i];
    if (l == "model") continue;
    if (l == "api_key" || l == "user_id") {
      if (m.enabled)
        ctx.not_implemented(idx("metrics.custom_labels", i), "metrics.custom_labels: " + l + " (needs auth)",
                            Feature::auth);
      continue;
    }
    ctx.error(idx("metrics.custom_labels", i),
              "unknown label '" + l + "': one of model, api_key, user_id");
  }
}

void validate_modules(const Config& c, Context& ctx) {
  validate_metrics(c, ctx);
  if (c.server.tls.enabled) {
    if (c.server.tls.cert_file.empty()) ctx.error("server.tls.cert_file", "required when tls is enabled", true);
    if (c.server.tls.key_file.empty()) ctx.error("server.tls.key_file", "required when tls is enabled", true);
  }
  if (c.log.output == LogOutput::to_file && c.log.file.path.empty())
    ctx.error("log.file.path", "required when output is \"file\"", true);

  check_log_storage(c, c.logging.request, "logging.request", ctx);
  check_log_storage(c, c.logging.access, "logging.access", ctx);

  const auto& rl = c.rate_limit;
  if (rl.storage == "redis") {
    check_cache_ref(c, rl.redis.empty() ? "rate_limit.storage" : "rate_limit.redis",
                    rl.redis.empty() ? "cache" : rl.redis, ctx, true);
  } else if (rl.storage != "memory") {
    check_cache_ref(c, "rate_limit.storage", rl.storage, ctx, false);
  }

  const auto& r = c.routing;
  if (r.retry.initial_wait > r.retry.max_wait)
    ctx.error("routing.retry.max_wait", "must not be less than initial_wait");
  if (r.circuit_breaker.cool_down > r.circuit_breaker.max_cool_down)
    ctx.error("routing.circuit_breaker.max_cool_down", "must not be less than cool_down");

  // Fallback entries must name a known backend, unless discovery may add
  // backends we cannot see now.
  bool dynamic = false;
  std::vector<const BackendConfig*> known;
  for (const auto& b : c.backends) known.push_back(&b);
  if (c.discovery.enabled) {
    for (const auto& s : c.discovery.sources) {
      if (!s.enabled) continue;
      if (s.type == SourceType::static_list) {
        for (const auto& b : s.static_list.backends) known.push_back(&b);
      } else {
        dynamic = true;
      }
    }
  }
  for (std::size_t i = 0; i < r.fallback.size(); ++i) {
    const auto& rule = r.fallback[i];
    const std::string p = idx("routing.fallback", i);
    if (rule.primary.empty()) {
      ctx.error(p + ".primary", "primary is required", !ctx.present(p + ".primary"));
    } else if (!dynamic && !backend_matches(c, known, rule.primary)) {
      ctx.error(p + ".primary", "'" + rule.primary + "' matches no backend (by name or URL)");
    }
    if (rule.fallback.empty()) ctx.error(p + ".fallback", "at least one fallback is required", true);
    for (std::size_t j = 0; j < rule.fallback.size(); ++j)
      if (!dynamic && !backend_matches(c, known, rule.fallback[j]))
        ctx.error(idx(p + ".fallback", j), "'" + rule.fallback[j] + "' matches no backend (by name or URL)");
  }

  check_unique_names(c.usage.reporters, "usage.reporters", ctx, false);
  for (std::size_t i = 0; i < c.usage.reporters.size(); ++i) {
    const auto& u = c.usage.reporters[i];
    const std::string p = idx("usage.reporters", i);
    if (u.type == ReporterType::unset)
      ctx.error(p + ".type", "type is required (webhook or database)", !ctx.present(p + ".type"));
    if (u.type == ReporterType::webhook && u.enabled) check_required(u.webhook.url, p + ".webhook.url", "url", ctx);
    if (u.type == ReporterType::database) check_database_ref(c, p + ".database.storage", u.database.storage, ctx);
  }
}

}  // namespace

void validate(Config& c, Context& ctx) {
  fold_storage_shorthands(c);
  validate_storage(c, ctx);
  validate_backends(c, ctx);
  validate_discovery(c, ctx);
  validate_auth(c, ctx);
  validate_modules(c, ctx);
}

void check_features(const Config& c, Context& ctx) {
  auto module = [&](bool enabled, const char* name, Feature f) {
    if (enabled) ctx.not_implemented(std::string(name) + ".enabled", name, f);
  };
  module(c.server.tls.enabled, "server.tls", Feature::server_tls);
  module(c.server.cors.enabled, "server.cors", Feature::server_cors);
  if (c.log.output == LogOutput::to_file) ctx.not_implemented("log.output", "log.output: file", Feature::log_file_output);
  if (c.routing.load_balance != LoadBalance::round_robin)
    ctx.not_implemented("routing.load_balance",
                        "routing.load_balance: " + std::string(enum_name(c.routing.load_balance)),
                        Feature::load_balance_strategies);
  module(c.routing.script.enabled, "routing.script", Feature::lua_scripts);
  module(c.routing.retry.enabled, "routing.retry", Feature::retry);
  if (!c.routing.fallback.empty()) ctx.not_implemented("routing.fallback", "routing.fallback", Feature::fallback);
  module(c.routing.circuit_breaker.enabled, "routing.circuit_breaker", Feature::circuit_breaker);
  if (c.routing.request_timeout > Duration::zero())
    ctx.not_implemented("routing.request_timeout", "routing.request_timeout", Feature::request_timeout);
  for (std::size_t i = 0; i < c.backends.size(); ++i)
    if (!c.backends[i].models.empty())
      ctx.not_implemented(idx("backends", i) + ".models", idx("backends", i) + ".models", Feature::backend_models);
  for (std::size_t i = 0; i < c.backends.size(); ++i)
    if (c.backends[i].parsed_url.tls())
      ctx.not_implemented(idx("backends", i) + ".url", "https:// backends", Feature::https_backends);
  module(c.health_check.enabled, "health_check", Feature::health_check);
  module(c.health_check.script.enabled, "health_check.script", Feature::lua_scripts);
  module(c.rate_limit.enabled, "rate_limit", Feature::rate_limit);
  module(c.rate_limit.script.enabled, "rate_limit.script", Feature::lua_scripts);
  module(c.auth.enabled, "auth", Feature::auth);
  if (!c.api_keys.empty()) ctx.not_implemented("api_keys", "api_keys", Feature::api_keys);
  module(c.discovery.enabled, "discovery", Feature::discovery);
  // logging.access to stdout or a file is built; the request log and
  // database storage come with the usage issue.
  if (c.logging.enabled) {
    module(c.logging.request.enabled, "logging.request", Feature::logging);
    const auto& a = c.logging.access;
    if (a.enabled && a.storage != "stdout" && a.storage != "file")
      ctx.not_implemented("logging.access.storage", "logging.access.storage: database", Feature::logging);
    module(a.enabled && a.script.enabled, "logging.access.script", Feature::lua_scripts);
  }
  module(c.metrics.enabled, "metrics", Feature::metrics);
  module(c.usage.enabled, "usage", Feature::usage);
  // Script blocks of modules that are not built yet are covered by their
  // module's entry; built modules name their script block above.
  module(c.scripts.enabled, "scripts", Feature::lua_scripts);
  module(c.hooks.enabled, "hooks", Feature::lua_scripts);
  module(c.admin.enabled, "admin", Feature::admin);
}

}  // namespace llmproxy::config::detail
