// Rate-limit properties of the real request path (shell::Worker) in the
// simulator (issue #5 item 4), with the limiter behind a simulated network
// store (LatencyLimiterStore: a shared MemoryLimiter reached with a one-way
// latency, deciding on the store's clock like Redis would):
//   - for every request rule and every window [t−W, t], admitted ≤ b + r·W;
//   - per key, requests holding a concurrency slot never exceed max_concurrent;
//   - offered load at ≤ 90 % of every limit, evenly spaced, is never rejected;
//   - tokens charged in any 60 s window ≤ 2·T + one request's tokens;
//   - slots are released on every ending (errors, timeouts, client cancels):
//     afterwards each key is admitted again.
// Runs use one or two gateway instances sharing the store: the limits hold
// jointly. (On real Redis: proxy/app/ratelimit_redistest.sh and
// proxy/stores/redis/*_redistest.cpp.)
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>

#include "conformance/harness/checks.h"
#include "conformance/harness/composition.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/keep_failure.h"
#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/uniform_gen.h"
#include "proxy/core/ratelimit/limits.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;


Duration ms(std::int64_t v) { return std::chrono::milliseconds(v); }

struct LimitRun {
  SimOutcome out;
  ratelimit::LimitSet limits;
  Duration latency{0};
};

// Runs `sc` with rate limits `cfg` behind a store `latency` away, shared by
// every gateway instance (Scenario::rate_limit, so a kept case carries
// them).
// The gateway: two backends as a config built through the composition root,
// as serve builds it (composition.h); a kept case is exactly this config
// plus the limits.
config::Config gateway_config() {
  config::BackendConfig each;
  each.timeout = 60s;
  each.connect_timeout = 2s;
  each.first_byte_timeout = 2s;
  return config_with_backends(2, each);
}

LimitRun run_limited(Scenario& sc, const config::RateLimitConfig& cfg, Duration latency) {
  use_config(sc, gateway_config());
  LimitRun run;
  run.limits = ratelimit::limits_from(cfg);
  run.latency = latency;
  sc.rate_limit = cfg;
  sc.limiter_latency = latency;
  run.out = run_gateway_sim(sc);
  return run;
}

bool rate_limited(const shell::RequestRecord& r) { return r.error_code == "rate_limit_exceeded"; }

std::string key_of(const ClientRequest& q) {
  const auto p = q.headers.find("Bearer ");
  return p == std::string::npos ? "" : q.headers.substr(p + 7, q.headers.find('\r', p) - p - 7);
}

Scenario base_scenario() {
  Scenario sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  sc.profile.ttft = ms(*uniform(1, 200));
  sc.profile.itl = ms(*uniform(0, 20));
  sc.profile.output_tokens = *uniform<std::uint32_t>(1, 40);
  sc.horizon = 30min;
  return sc;
}

config::RateLimitConfig gen_limits() {
  config::RateLimitConfig c;
  c.enabled = true;
  const int pick = *uniform(0, 4);
  if (pick == 0 || pick == 3) c.global.requests_per_second = *uniform(1, 20);
  if (pick == 1 || pick == 3) c.per_key.requests_per_second = *uniform(1, 10);
  if (pick == 2) c.per_key.requests_per_minute = *uniform(6, 300);
  if (*coin()) c.global.burst_size = *uniform(1, 10);
  if (*coin()) c.per_key.burst_size = *uniform(1, 10);
  if (*coin()) c.per_key.max_concurrent = *uniform(1, 4);
  if (*coin()) c.per_key.tokens_per_minute = *uniform(50, 2000);
  return c;
}

RC_GTEST_PROP(RateLimitSim, EveryLimitHoldsOnTheRequestPath, ()) {
  Scenario sc = base_scenario();
  const config::RateLimitConfig cfg = gen_limits();
  const Duration latency = ms(*uniform(0, 5));
  const int keys = *uniform(1, 4);
  const int n = *uniform(1, 80);
  const Duration span = ms(*uniform(100, 20000));
  for (int i = 0; i < n; ++i) {
    ClientRequest q;
    q.at = ms(*uniform<std::int64_t>(0, span.count() / 1000000 + 1));
    q.stream = *coin();
    q.max_tokens = *uniform<std::uint32_t>(0, 64);
    q.headers = "Authorization: Bearer key" + std::to_string(*uniform(0, keys)) + "\r\n";
    const int fault = *uniform(0, 10);
    if (fault == 0) q.fault = "reset_before_headers";
    if (fault == 1) q.fault = "hang";
    if (fault == 2) q.fault = "status=503";
    if (fault == 3) q.cancel_after_bytes = *uniform<std::size_t>(1, 100);
    sc.requests.push_back(q);
  }
  sc.gateways = *uniform(1, 3);
  const KeepIfFails keep(sc, "RateLimitSim-EveryLimitHoldsOnTheRequestPath-failure");
  const LimitRun run = run_limited(sc, cfg, latency);
  const SimOutcome& out = run.out;
  RC_ASSERT(out.all_clients_done);
  const Violations v = check_invariants(sc, out);
  if (!v.empty()) RC_FAIL(describe(v));

  // Admission decisions happen at start + latency (the store's clock).
  std::map<std::string, std::string> key_by_id;
  for (std::size_t i = 0; i < sc.requests.size(); ++i) key_by_id[request_id_for(i)] = key_of(sc.requests[i]);
  struct Admitted {
    TimePoint at, end;
    std::string key;
    std::int64_t tokens;
  };
  std::vector<Admitted> admitted;
  for (const auto& r : out.records) {
    if (rate_limited(r)) {
      RC_ASSERT(r.status == 429);
      RC_ASSERT(r.attempts == 0u);
      continue;
    }
    admitted.push_back({r.start + latency, r.end, key_by_id[r.request_id], r.total_tokens});
  }
  std::sort(admitted.begin(), admitted.end(), [](const auto& a, const auto& b) { return a.at < b.at; });

  // Window bound for every rule, over windows ending at admissions.
  for (const auto& rule : run.limits.rules) {
    for (const Duration w : {Duration(0), rule.period, 2 * rule.period, ms(1500)}) {
      for (std::size_t i = 0; i < admitted.size(); ++i) {
        const TimePoint t = admitted[i].at;
        std::map<std::string, double> count;
        for (const auto& a : admitted)
          if (a.at <= t && a.at >= t - w)
            count[rule.scope == ratelimit::Scope::global ? "" : a.key] += 1;
        const double bound = static_cast<double>(rule.burst) + rule.per_second * to_seconds(w) + 1e-9;
        for (const auto& [k, c] : count) RC_ASSERT(c <= bound);
      }
    }
  }
  // Concurrency: requests between admission and end hold a slot (the slot
  // is given back a little later still, so this is a necessary condition).
  if (run.limits.max_concurrent > 0) {
    for (const auto& a : admitted) {
      std::map<std::string, std::int64_t> holding;
      for (const auto& o : admitted)
        if (o.at <= a.at && o.end > a.at) ++holding[o.key];
      RC_ASSERT(holding[a.key] <= run.limits.max_concurrent);
    }
  }
  // Tokens: charged when the response ends; over 60 s ≤ 2T + one request.
  if (run.limits.tokens_per_minute > 0) {
    std::int64_t biggest = 0;
    for (const auto& a : admitted) biggest = std::max(biggest, a.tokens);
    const std::int64_t t = run.limits.tokens_per_minute;
    for (const auto& a : admitted) {
      std::map<std::string, std::int64_t> charged;
      for (const auto& o : admitted)
        if (o.end <= a.end && o.end >= a.end - 60s && o.tokens > 0) charged[o.key] += o.tokens;
      for (const auto& [k, c] : charged) RC_ASSERT(c <= 2 * t + biggest);
    }
  }
}

RC_GTEST_PROP(RateLimitSim, LoadUnderTheLimitsIsNeverRejected, ()) {
  Scenario sc = base_scenario();
  config::RateLimitConfig cfg;
  cfg.enabled = true;
  const double rps = *uniform(1, 20);
  if (*coin())
    cfg.global.requests_per_second = rps;
  else
    cfg.per_key.requests_per_minute = rps * 60;
  if (*coin()) cfg.per_key.max_concurrent = 64;
  const Duration latency = ms(*uniform(0, 5));
  // 90 % of the rate, evenly spaced, one key.
  const Duration gap = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / (0.9 * rps)));
  const int n = *uniform(1, 60);
  for (int i = 0; i < n; ++i) {
    ClientRequest q;
    q.at = gap * i;
    q.headers = "Authorization: Bearer steady\r\n";
    sc.requests.push_back(q);
  }
  const KeepIfFails keep(sc, "RateLimitSim-LoadUnderTheLimitsIsNeverRejected-failure");
  const LimitRun run = run_limited(sc, cfg, latency);
  RC_ASSERT(run.out.all_clients_done);
  for (const auto& r : run.out.records) RC_ASSERT(!rate_limited(r));
}

RC_GTEST_PROP(RateLimitSim, SlotsAreReleasedOnEveryEnding, ()) {
  Scenario sc = base_scenario();
  config::RateLimitConfig cfg;
  cfg.enabled = true;
  cfg.per_key.max_concurrent = *uniform(1, 3);
  const int n = *uniform(1, 20);
  for (int i = 0; i < n; ++i) {
    ClientRequest q;
    q.at = ms(*uniform(0, 3000));
    q.stream = *coin();
    q.headers = "Authorization: Bearer k\r\n";
    const int fault = *uniform(0, 6);
    if (fault == 0) q.fault = "reset_before_headers";
    if (fault == 1) q.fault = "hang";
    if (fault == 2) q.fault = "reset_after=1";
    if (fault == 3) q.cancel_after_bytes = *uniform<std::size_t>(1, 50);
    if (fault == 4) q.cancel_after = ms(*uniform(1, 100));
    sc.requests.push_back(q);
  }
  sc.gateways = *uniform(1, 3);
  // Long after everything ended, the key gets its slots back.
  for (int i = 0; i < cfg.per_key.max_concurrent; ++i) {
    ClientRequest q;
    q.at = 10min;
    q.headers = "Authorization: Bearer k\r\n";
    sc.requests.push_back(q);
  }
  const KeepIfFails keep(sc, "RateLimitSim-SlotsAreReleasedOnEveryEnding-failure");
  const LimitRun run = run_limited(sc, cfg, ms(*uniform(0, 5)));
  RC_ASSERT(run.out.all_clients_done);
  for (std::size_t i = static_cast<std::size_t>(n); i < sc.requests.size(); ++i)
    RC_ASSERT(run.out.clients[i].response.status == 200);
}

}  // namespace
}  // namespace llmproxy::harness
