// The checks' context (positions, quiet follow-ons), the order in which each
// module's checks run, and the table of features this build lacks.
#include "proxy/core/config/validate.h"

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

void check_required(const std::string& value, const std::string& path, std::string_view what, Context& ctx) {
  if (value.empty()) ctx.error(path, std::string(what) + " is required");
}

void validate(Config& c, Context& ctx) {
  validate_storage(c, ctx);
  validate_backends(c, ctx);
  validate_discovery(c, ctx);
  validate_admin(c, ctx);
  validate_auth(c, ctx);
  validate_metrics(c, ctx);
  validate_server(c, ctx);
  validate_system_log(c, ctx);
  validate_logging(c, ctx);
  validate_rate_limit(c, ctx);
  validate_routing(c, ctx);
  validate_usage(c, ctx);
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
