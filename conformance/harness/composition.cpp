#include "conformance/harness/composition.h"

#include <algorithm>
#include <stdexcept>

#include "conformance/harness/config_text.h"
#include "proxy/core/config/diagnostic.h"
#include "proxy/core/config/load.h"
#include "proxy/core/config/cache_pools.h"
#include "proxy/core/config/print.h"
#include "proxy/server/shell_config_from.h"

namespace llmproxy::harness {

std::function<WorkerFactory(std::size_t)> through_composition_root(
    std::shared_ptr<const server::Gateway> gateway,
    std::vector<std::shared_ptr<server::Gateway::Process>>* processes) {
  return [gateway, processes](std::size_t instance) -> WorkerFactory {
    auto process = gateway->start_process();
    if (processes) {
      if (processes->size() <= instance) processes->resize(instance + 1);
      (*processes)[instance] = process;
    }
    return [gateway, process](env::Env& env, unsigned index) {
      return gateway->worker_options(process, env, index);
    };
  };
}

std::function<ReloadTo(std::size_t)> reload_through_composition_root(
    std::shared_ptr<const server::Gateway> from, std::shared_ptr<const server::Gateway> to,
    std::vector<std::shared_ptr<server::Gateway::Process>>* processes) {
  const auto changed = config::changed_keys(from->config(), to->config());
  return [from, to, processes, changed](std::size_t instance) -> ReloadTo {
    auto& process = processes->at(instance);
    process = to->reload_process(*from, *process, changed);
    return {to->shell_config(), [to, p = process](env::Env& env, unsigned index) {
              return to->worker_options(p, env, index);
            }};
  };
}

void reload_during(Scenario& sc, const std::shared_ptr<const server::Gateway>& from,
                   const std::shared_ptr<const server::Gateway>& to, Duration at) {
  auto processes = std::make_shared<std::vector<std::shared_ptr<server::Gateway::Process>>>();
  auto start = through_composition_root(from, processes.get());
  sc.start_process = [start, processes](std::size_t i) { return start(i); };
  auto reload = reload_through_composition_root(from, to, processes.get());
  sc.reload = [reload, processes](std::size_t i) { return reload(i); };
  sc.reload_at = at;
  sc.reload_backends.clear();
  const auto& before = from->shell_config()->backends;
  for (const auto& b : to->shell_config()->backends) {
    const bool known = std::any_of(before.begin(), before.end(), [&](const shell::BackendTarget& a) {
      return a.host == b.host && a.port == b.port;
    });
    if (!known) sc.reload_backends.push_back(b);
  }
}

std::shared_ptr<const server::Gateway> simulated_gateway(std::string_view yaml,
                                                         const std::string& name) {
  const auto r = config::load_config_string(yaml, name, ".", {});
  if (!r.config || r.has_schema_errors()) {
    std::string problems;
    for (const auto& d : r.diagnostics) problems += config::format_diagnostic(d) + "\n";
    throw std::runtime_error(name + " does not load:\n" + problems);
  }
  std::string error;
  server::BuildOptions bo;
  bo.simulated = true;
  auto g = server::Gateway::build(*r.config, error, bo);
  if (!g) throw std::runtime_error(name + ": " + error);
  return g;
}

namespace {

std::string ms(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

}  // namespace

std::string gateway_yaml(const ConfigKnobs& k) {
  std::string y = "server:\n  listen: \"127.0.0.1:8080\"\n  workers: " + std::to_string(k.workers) +
                  "\n  drain_timeout: " + ms(k.drain_timeout) + "\n";
  y += "routing:\n  timeout: 60s\n  connect_timeout: 5s\n";
  if (k.first_byte_timeout.count() > 0) y += "  first_byte_timeout: " + ms(k.first_byte_timeout) + "\n";
  if (k.stream_idle_timeout.count() > 0) y += "  stream_idle_timeout: " + ms(k.stream_idle_timeout) + "\n";
  if (k.max_retries > 0)
    y += "  retry:\n    enabled: true\n    max_retries: " + std::to_string(k.max_retries) +
         "\n    initial_wait: " + ms(k.retry_initial_wait) + "\n    max_wait: " +
         ms(k.retry_max_wait) + "\n    jitter: " + std::to_string(k.retry_jitter) + "\n";
  if (k.health_interval.count() > 0)
    y += "health_check:\n  enabled: true\n  interval: " + ms(k.health_interval) +
         "\n  timeout: " + ms(k.health_timeout) + "\n  path: /health\n";
  if (k.limits_on_redis)
    y += "storage:\n  caches:\n    - name: shared\n      driver: redis\n"
         "      addr: \"redis.internal:6379\"\n";
  if (k.global_rps > 0) {
    y += "rate_limit:\n  enabled: true\n";
    y += k.limits_on_redis ? "  storage: redis\n  redis: shared\n  fail_mode: " + k.redis_fail_mode + "\n"
                           : std::string("  storage: memory\n");
    y += "  global:\n    enabled: true\n    requests_per_second: " + std::to_string(k.global_rps) + "\n";
    if (k.global_burst > 0) y += "    burst_size: " + std::to_string(k.global_burst) + "\n";
    if (k.key_max_concurrent > 0 || k.key_tokens_per_minute > 0) {
      y += "  per_key:\n    enabled: true\n";
      if (k.key_max_concurrent > 0) y += "    max_concurrent: " + std::to_string(k.key_max_concurrent) + "\n";
      if (k.key_tokens_per_minute > 0)
        y += "    tokens_per_minute: " + std::to_string(k.key_tokens_per_minute) + "\n";
    }
  }
  y += "backends:\n";
  for (int i = 0; i < k.backends; ++i)
    y += "  - name: backend-" + std::to_string(i) + "\n    url: \"http://backend-" + std::to_string(i) +
         ":8000\"\n";
  return y;
}

void use_gateway(Scenario& sc, const std::shared_ptr<const server::Gateway>& gateway) {
  sc.gateway = *gateway->shell_config();
  sc.backends_from_config = true;
  sc.start_process = through_composition_root(gateway);
  sc.workers = std::max(1, gateway->config().server.workers);
  const auto& c = gateway->config();
  if (c.rate_limit.enabled)
    if (const auto* cache = config::rate_limit_cache(c);
        cache && cache->driver == config::CacheDriver::redis)
      sc.redis = *cache;
}

config::Config config_with_backends(int n, const config::BackendConfig& each) {
  config::Config cfg;
  for (int i = 0; i < n; ++i) {
    config::BackendConfig b = each;
    b.name = "b" + std::to_string(i);
    b.url = "http://" + b.name + ":8000";
    cfg.backends.push_back(std::move(b));
  }
  return cfg;
}

void use_config(Scenario& sc, const config::Config& c) {
  const std::string yaml = changed_sections_yaml(c);
  const auto gateway = simulated_gateway(yaml);
  // The text is what a kept case writes: it must be the config that ran.
  if (config::print_config(gateway->config(), false) != config::print_config(c, false))
    throw std::runtime_error("the config's text does not load back into the same config:\n" + yaml);
  use_gateway(sc, gateway);
  sc.config_yaml = yaml;
}

}  // namespace llmproxy::harness
