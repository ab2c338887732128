#include "conformance/harness/random_scenario.h"

#include "conformance/harness/composition.h"
#include "conformance/harness/random_faults.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/core/routing/retry_policy.h"
#include "proxy/stores/memory_limiter_store.h"

#include <sstream>

namespace llmproxy::harness {

using namespace std::chrono_literals;

namespace {

std::int64_t in_range(Rng& r, std::int64_t lo, std::int64_t hi) {  // [lo, hi)
  return lo + static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(hi - lo)));
}

// A kind uniformly among those the scenario can end, then its parameters.
std::string random_fault(Rng& r, bool first_byte_timeout, bool idle_timeout) {
  const auto kinds = available_faults(first_byte_timeout, idle_timeout);
  return fault_spec(kinds[r.below(kinds.size())], r);
}

// The modules on the request path, each in about half the seeds, so the
// seeds (and --check-determinism over them) run them too: retries with
// backoff, active health checks, rate limits in an in-process limiter.
void add_modules(Rng& r, Scenario& sc) {
  if (r.below(2)) {
    config::RetryConfig rc;
    rc.enabled = true;
    rc.max_retries = static_cast<int>(in_range(r, 1, 4));
    rc.initial_wait = std::chrono::milliseconds(in_range(r, 1, 200));
    rc.max_wait = rc.initial_wait + std::chrono::milliseconds(in_range(r, 0, 1000));
    rc.jitter = r.below(2) ? 0.2 : 0.0;
    sc.gateway.routing.retry = routing::RetryPolicy::from(rc);
  }
  if (r.below(2)) {
    sc.gateway.health.enabled = true;
    sc.gateway.health.interval = std::chrono::milliseconds(in_range(r, 200, 2000));
    sc.gateway.health.timeout = std::chrono::milliseconds(in_range(r, 50, 500));
  }
  if (r.below(2)) {
    config::RateLimitConfig c;
    c.enabled = true;
    c.global.requests_per_second = static_cast<int>(in_range(r, 1, 20));
    if (r.below(2)) c.per_key.max_concurrent = static_cast<int>(in_range(r, 1, 4));
    if (r.below(2)) c.per_key.tokens_per_minute = static_cast<int>(in_range(r, 50, 2000));
    const ratelimit::LimitSet limits = ratelimit::limits_from(c);
    sc.worker_options = [limits](env::Env&) {
      shell::WorkerOptions o;
      o.limiter = std::make_shared<stores::MemoryLimiterStore>(
          std::make_shared<ratelimit::MemoryLimiter>(limits));
      return o;
    };
  }
}

// The workload: n clients, each a request with a fault drawn uniformly
// among those the scenario can end, some cancelling; with `keys`, spread
// over three API keys; with `straddle`, some send their request in two
// parts around a pause and some ask GET /ready (a drain's view).
void add_requests(Rng& r, Scenario& sc, int max_requests, bool fbt, bool idle, bool keys,
                  bool straddle) {
  const int n = static_cast<int>(in_range(r, 1, max_requests + 1));
  for (int i = 0; i < n; ++i) {
    ClientRequest q;
    q.at = std::chrono::milliseconds(in_range(r, 0, 1500));
    q.stream = r.below(2) == 1;
    q.ask_usage = q.stream && r.below(2) == 1;
    q.prompt_words = static_cast<int>(in_range(r, 1, 200));
    q.fault = random_fault(r, fbt, idle);
    if (keys) q.headers = "Authorization: Bearer key" + std::to_string(r.below(3)) + "\r\n";
    const auto cancel = r.below(6);
    if (cancel == 0) q.cancel_after_bytes = static_cast<std::size_t>(in_range(r, 1, 2000));
    if (cancel == 1) q.cancel_after = std::chrono::milliseconds(in_range(r, 1, 400));
    if (!q.cancel_after) q.cancel_after = kClientGuard;  // bounds every client
    if (straddle && r.below(4) == 0) {
      q.split_at = static_cast<std::size_t>(in_range(r, 0, 80));
      q.split_pause = std::chrono::milliseconds(in_range(r, 1, 1000));
    }
    q.pipeline_partial = r.below(5) == 0;
    if (straddle && r.below(6) == 0) {
      q.method = "GET";
      q.path = "/ready";
      q.fault.clear();
    }
    sc.requests.push_back(std::move(q));
  }
}

// The retries, health checks and rate limits of a drawn config.
void draw_policies(Rng& r, ScenarioKind kind, ConfigKnobs& k) {
  k.max_retries = 0;
  if (r.below(2)) {
    k.max_retries = static_cast<int>(in_range(r, 1, 4));
    k.retry_initial_wait = std::chrono::milliseconds(in_range(r, 1, 200));
    k.retry_max_wait = k.retry_initial_wait + std::chrono::milliseconds(in_range(r, 0, 1000));
    k.retry_jitter = r.below(2) ? 0.2 : 0.0;
  }
  k.health_interval = Duration{0};
  if (r.below(2)) {
    k.health_interval = std::chrono::milliseconds(in_range(r, 200, 2000));
    k.health_timeout = std::chrono::milliseconds(in_range(r, 50, 200));
  }
  k.global_rps = k.key_max_concurrent = k.key_tokens_per_minute = 0;
  if (kind == ScenarioKind::redis || r.below(2)) {
    k.global_rps = static_cast<int>(in_range(r, 1, 20));
    if (r.below(2)) k.key_max_concurrent = static_cast<int>(in_range(r, 1, 4));
    if (r.below(2)) k.key_tokens_per_minute = static_cast<int>(in_range(r, 50, 2000));
    k.limits_on_redis = kind == ScenarioKind::redis;
    k.redis_fail_mode = r.below(2) ? "open" : "closed";
  }
}

// Kinds 1-4: a config drawn as knobs, built through the composition root
// as serve builds it, with server.workers workers on the gateway host.
Scenario configured_scenario(Rng& r, ScenarioKind kind, std::uint64_t seed, int max_requests) {
  ConfigKnobs k;
  k.backends = static_cast<int>(in_range(r, 1, 4));
  k.workers = static_cast<int>(in_range(r, kind == ScenarioKind::workers ? 2 : 1, 5));
  if (r.below(2)) k.first_byte_timeout = std::chrono::milliseconds(in_range(r, 250, 2000));
  if (r.below(2)) k.stream_idle_timeout = std::chrono::milliseconds(in_range(r, 100, 1500));
  draw_policies(r, kind, k);
  if (kind == ScenarioKind::drain) k.drain_timeout = std::chrono::milliseconds(in_range(r, 0, 2000));
  Scenario sc;
  sc.seed = seed;
  sc.config_yaml = gateway_yaml(k);
  const auto gateway = simulated_gateway(sc.config_yaml, "seed-" + std::to_string(seed) + ".yaml");
  use_gateway(sc, gateway);
  if (kind == ScenarioKind::reload) {
    ConfigKnobs next = k;
    next.backends = static_cast<int>(in_range(r, 1, k.backends + 1));
    draw_policies(r, kind, next);
    sc.reload_config_yaml = gateway_yaml(next);
    reload_during(sc, gateway,
                  simulated_gateway(sc.reload_config_yaml, "seed-" + std::to_string(seed) + "-reload.yaml"),
                  std::chrono::milliseconds(in_range(r, 0, 1500)));
  }
  sc.backends = k.backends;
  sc.profile.ttft = std::chrono::milliseconds(in_range(r, 0, 200));
  sc.profile.itl = std::chrono::milliseconds(in_range(r, 0, 30));
  sc.profile.output_tokens = static_cast<std::uint32_t>(in_range(r, 1, 24));
  sc.random_read_split = r.below(2) == 1;
  if (kind == ScenarioKind::drain) sc.drain_at = std::chrono::milliseconds(in_range(r, 0, 1500));
  add_requests(r, sc, max_requests, k.first_byte_timeout.count() > 0,
               k.stream_idle_timeout.count() > 0, k.global_rps > 0, kind == ScenarioKind::drain);
  return sc;
}

}  // namespace

ScenarioKind scenario_kind(std::uint64_t seed) {
  return static_cast<ScenarioKind>(seed % kScenarioKinds);
}

const char* scenario_kind_name(ScenarioKind k) {
  switch (k) {
    case ScenarioKind::basic: return "basic";
    case ScenarioKind::workers: return "workers";
    case ScenarioKind::redis: return "redis";
    case ScenarioKind::drain: return "drain";
    case ScenarioKind::reload: return "reload";
  }
  return "?";
}

Scenario random_scenario(std::uint64_t seed, int max_requests) {
  Rng r(seed);
  const ScenarioKind kind = scenario_kind(seed);
  if (kind != ScenarioKind::basic) return configured_scenario(r, kind, seed, max_requests);
  Scenario sc;
  sc.seed = seed;
  sc.backends = static_cast<int>(in_range(r, 1, 4));
  sc.profile.ttft = std::chrono::milliseconds(in_range(r, 0, 200));
  sc.profile.itl = std::chrono::milliseconds(in_range(r, 0, 30));
  sc.profile.output_tokens = static_cast<std::uint32_t>(in_range(r, 1, 24));
  sc.backend_template.timeout = 60s;
  sc.backend_template.connect_timeout = 5s;
  if (r.below(2)) sc.backend_template.first_byte_timeout = std::chrono::milliseconds(in_range(r, 250, 2000));
  if (r.below(2)) sc.backend_template.stream_idle_timeout = std::chrono::milliseconds(in_range(r, 100, 1500));
  sc.gateway.read_timeout = 30s;
  sc.gateway.idle_timeout = 60s;
  sc.random_read_split = r.below(2) == 1;
  const bool fbt = sc.backend_template.first_byte_timeout.count() > 0;
  const bool idle = sc.backend_template.stream_idle_timeout.count() > 0;
  add_modules(r, sc);
  add_requests(r, sc, max_requests, fbt, idle, sc.worker_options != nullptr, false);
  return sc;
}

std::string describe(const Scenario& sc) {
  std::ostringstream os;
  os << "seed=" << sc.seed << " backends=" << sc.backends
     << " ttft=" << sc.profile.ttft.count() / 1000000 << "ms itl=" << sc.profile.itl.count() / 1000000
     << "ms tokens=" << sc.profile.output_tokens
     << " first_byte_timeout=" << sc.backend_template.first_byte_timeout.count() / 1000000
     << "ms stream_idle_timeout=" << sc.backend_template.stream_idle_timeout.count() / 1000000
     << "ms retries=" << sc.gateway.routing.retry.max_retries
     << " health=" << (sc.gateway.health.enabled ? "on" : "off")
     << " rate_limits=" << (sc.worker_options ? "on" : sc.config_yaml.empty() ? "off" : "config")
     << " kind=" << scenario_kind_name(scenario_kind(sc.seed)) << " workers=" << sc.workers
     << " redis=" << (sc.redis ? "on" : "off");
  if (sc.drain_at)
    os << " drain_at=" << sc.drain_at->count() / 1000000
       << "ms drain_timeout=" << sc.gateway.drain_timeout.count() / 1000000 << "ms";
  os << "\n";
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const auto& r = sc.requests[i];
    os << "  req-" << i << " at=" << r.at.count() / 1000000 << "ms stream=" << r.stream
       << " ask_usage=" << r.ask_usage << " fault='" << r.fault << "'";
    if (r.cancel_after_bytes) os << " cancel_after_bytes=" << *r.cancel_after_bytes;
    if (r.cancel_after && *r.cancel_after < 10min) os << " cancel_after=" << r.cancel_after->count() / 1000000 << "ms";
    if (r.path != "/v1/chat/completions") os << " " << r.method << " " << r.path;
    if (r.pipeline_partial) os << " pipeline_partial=1";
    if (r.split_at)
      os << " split_at=" << *r.split_at << " split_pause=" << r.split_pause.count() / 1000000 << "ms";
    os << "\n";
  }
  for (const auto& [title, yaml] : {std::pair{"config", &sc.config_yaml},
                                    std::pair{"reloaded to", &sc.reload_config_yaml}}) {
    if (yaml->empty()) continue;
    os << "  " << title << ":\n";
    std::istringstream lines(*yaml);
    for (std::string line; std::getline(lines, line);) os << "    " << line << "\n";
  }
  return os.str();
}

}  // namespace llmproxy::harness
