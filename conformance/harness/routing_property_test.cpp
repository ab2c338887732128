// Routing and resilience properties of the real request path (shell::Worker)
// in the simulator (issue #4 item 6; DESIGN.md "Invariants the harness
// checks"), over random backend fault schedules, retry/fallback configs,
// health-check settings and workloads:
//   - attempts per request ≤ 1 + max_retries + fallbacks; only retryable
//     classes are retried; every backoff wait is within its formula (or is the
//     upstream's Retry-After); client errors get exactly one attempt; nothing
//     is retried after a byte reached the client; fallbacks follow config order;
//   - active health equals a reference state machine fed the same probe
//     outcomes, and no attempt starts on a backend it calls unhealthy;
//   - smooth weighted round robin is exact in every window of Σweights picks;
//   - least_conn starts every attempt on a least-loaded eligible backend;
//   - the circuit breaker opens after exactly consecutive_failures failures in
//     a row and lets exactly one request through once its cool-down is over;
//   - liveness: after an outage ends, requests succeed again within a bound.
// Every property draws its settings as a config (config::Config: backends,
// routing, health_check) and runs the gateway built from that config's text
// through the composition root, as serve builds it (use_config); the
// assertions read the settings back from what was built. Every failure
// prints RapidCheck's reproduce command (RC_PARAMS=reproduce=…) and keeps
// the case as a scenario file and that config (KeepIfFails): with every
// backend's profile and fault timeline, `llmproxy conform` replays the
// same run.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "conformance/harness/checks.h"
#include "conformance/harness/composition.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/keep_failure.h"
#include "fake_backends/fault_spec.h"
#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/uniform_gen.h"
#include "proxy/core/routing/retry_policy.h"
#include "proxy/shell/health_prober.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;
using routing::AttemptFailure;


Duration ms(int v) { return std::chrono::milliseconds(v); }

fake::FaultSpec spec(const std::string& text) {
  fake::FaultSpec s;
  std::string err;
  if (!fake::parse_fault_spec(text, s, err)) throw std::runtime_error("bad spec " + text + ": " + err);
  return s;
}

// A config with backends b0..b(n-1) on http://bi:8000, each served by its
// own fake on its own simulated host (Scenario::fakes), so each can get its
// own faults. The property draws the rest of the config, then builds it
// (ready() below).
config::Config with_backends(Scenario& sc, int n, Duration first_byte_timeout) {
  config::BackendConfig each;
  each.timeout = 60s;
  each.connect_timeout = 2s;
  each.first_byte_timeout = first_byte_timeout;
  for (int i = 0; i < n; ++i) {
    FakeBackend fb;
    fb.profile.ttft = ms(20);
    fb.profile.itl = ms(5);
    fb.profile.output_tokens = 4;
    sc.fakes.push_back(fb);
  }
  return config_with_backends(n, each);
}

// A client starting at `at`, bounded by the guard every generated client
// carries (a kept case writes the same bound).
ClientRequest client_at(Duration at) {
  ClientRequest q;
  q.at = at;
  q.cancel_after = kClientGuard;
  return q;
}

// The drawn scenario made ready to run: its gateway built from `cfg`
// through the composition root, and bounded in time as conform bounds a
// replay (conformance/scenario/scenario_run.cpp), so a kept case replays to
// the same end.
void ready(Scenario& sc, const config::Config& cfg) {
  use_config(sc, cfg);
  Duration last{0};
  for (const auto& q : sc.requests) last = std::max(last, q.at);
  sc.horizon = last + kClientGuard + 1min;
}

// ---- retries, backoff, fallback order ---------------------------------------

const char* const kFaults[] = {
    "",  // healthy
    "status=500",
    "status=503",
    "status=429",
    "status=429,retry_after=1",
    "status=429,retry_after=30",
    "status=400,code=context_length_exceeded",
    "reset_before_headers",
    "hang",
    "reset_after=2",
};

struct RetryCase {
  Scenario sc;
  std::vector<std::string> faults;  // per backend, always on
  std::vector<std::size_t> chain;   // fallback rule b0 → chain (empty = none)
};

RetryCase gen_retry_case() {
  RetryCase c;
  Scenario& sc = c.sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  const int n = *uniform(1, 5);
  config::Config cfg = with_backends(sc, n, ms(500));
  for (int i = 0; i < n; ++i) {
    const std::string f = kFaults[*uniform<std::size_t>(0, std::size(kFaults))];
    c.faults.push_back(f);
    if (!f.empty()) sc.fakes[static_cast<std::size_t>(i)].faults.push_back({0s, Duration::max(), spec(f)});
  }
  auto& r = cfg.routing;
  r.load_balance = *pick_of(config::LoadBalance::round_robin, config::LoadBalance::random,
                            config::LoadBalance::least_conn);
  config::RetryConfig rc_cfg;
  rc_cfg.enabled = true;
  rc_cfg.max_retries = *uniform(0, 4);
  rc_cfg.initial_wait = ms(*uniform(1, 400));
  rc_cfg.max_wait = rc_cfg.initial_wait + ms(*uniform(0, 3000));
  rc_cfg.multiplier = *pick_of(1.0, 1.5, 2.0, 3.0);
  rc_cfg.jitter = *pick_of(0.0, 0.2, 0.5);
  rc_cfg.retry_on.clear();
  for (auto cls : {config::RetryOn::server_error, config::RetryOn::too_many_requests,
                   config::RetryOn::connect_failure, config::RetryOn::timeout, config::RetryOn::reset})
    if (*uniform(0, 4) > 0) rc_cfg.retry_on.push_back(cls);
  r.retry = rc_cfg;
  if (n >= 2 && *coin()) {
    config::FallbackRule rule;
    rule.primary = "b0";
    std::vector<std::size_t> others;
    for (int i = 1; i < n; ++i) others.push_back(static_cast<std::size_t>(i));
    const auto k = *uniform<std::size_t>(1, others.size() + 1);
    for (std::size_t i = 0; i < k; ++i) {
      rule.fallback.push_back("b" + std::to_string(others[i]));
      c.chain.push_back(others[i]);
    }
    r.fallback = {rule};
  }
  if (*coin()) r.request_timeout = ms(*uniform(300, 8000));
  const int requests = *uniform(1, 8);
  for (int i = 0; i < requests; ++i) {
    ClientRequest q = client_at(ms(*uniform(0, 3000)));
    q.stream = *coin();
    sc.requests.push_back(q);
  }
  ready(sc, cfg);
  return c;
}

std::optional<Duration> retry_after_of(const std::string& fault) {
  const auto p = fault.find("retry_after=");
  if (p == std::string::npos) return std::nullopt;
  return std::chrono::seconds(std::stoi(fault.substr(p + 12)));
}

RC_GTEST_PROP(RoutingSim, RetriesBackoffAndFallbackFollowTheirRules, ()) {
  const RetryCase c = gen_retry_case();
  const Scenario& sc = c.sc;
  const auto& policy = sc.gateway.routing.retry;
  // The mix (RapidCheck prints it): the fault of b0, every case's first backend.
  RC_TAG(c.faults.front().empty() ? std::string("healthy") : c.faults.front());
  const KeepIfFails keep(sc, "RoutingSim-RetriesBackoffAndFallbackFollowTheirRules-failure");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);
  const Violations v = check_invariants(sc, out);
  if (!v.empty()) RC_FAIL(describe(v));
  RC_ASSERT(out.records.size() == sc.requests.size());
  for (const auto& rec : out.records) {
    const auto& log = rec.attempt_log;
    if (log.empty()) continue;  // 503 no_backend_available: nothing eligible
    // The chain this request could walk.
    const bool ruled = !c.chain.empty() && log.front().backend == 0;
    const std::size_t fallbacks = ruled ? c.chain.size() : 0;
    RC_ASSERT(log.size() <= 1 + static_cast<std::size_t>(policy.max_retries) + fallbacks);
    std::size_t next_fallback = 0;
    int retries = 0;
    for (std::size_t k = 0; k < log.size(); ++k) {
      const auto& a = log[k];
      if (k + 1 < log.size()) {
        RC_ASSERT(!a.relayed);  // nothing is retried after bytes reached the client
        const auto f = static_cast<AttemptFailure>(a.failure);
        RC_ASSERT(f != AttemptFailure::none);
        RC_ASSERT(f != AttemptFailure::client_error);
        const auto& b = log[k + 1];
        const Duration gap = b.start - a.end;
        const bool is_fallback = ruled && next_fallback < c.chain.size() &&
                                 b.backend == c.chain[next_fallback] && gap == Duration::zero();
        if (is_fallback) {
          ++next_fallback;
          continue;
        }
        // A retry: a retryable class, a wait within the formula or the
        // upstream's Retry-After (which must not exceed max_wait).
        RC_ASSERT(policy.retryable(f));
        ++retries;
        RC_ASSERT(retries <= policy.max_retries);
        const Duration nominal = policy.nominal_wait(retries);
        const auto ra = retry_after_of(c.faults[a.backend]);
        const auto low = std::chrono::duration_cast<Duration>(nominal * (1.0 - policy.jitter)) - 1us;
        if (ra && f == AttemptFailure::too_many_requests) {
          RC_ASSERT(*ra <= policy.max_wait);
          RC_ASSERT(gap >= *ra);
          RC_ASSERT(gap == *ra || (gap >= low && gap <= nominal));
        } else {
          RC_ASSERT(gap >= low);
          RC_ASSERT(gap <= nominal);
        }
        // A backend the balancer chose may be re-picked; a ruled primary stays.
        if (ruled && next_fallback == 0) RC_ASSERT(b.backend == a.backend);
        if (next_fallback > 0) RC_ASSERT(b.backend == c.chain[next_fallback - 1]);
      }
    }
    // A client error is answered after exactly one attempt, as the backend sent it.
    const auto first = static_cast<AttemptFailure>(log.front().failure);
    if (first == AttemptFailure::client_error) {
      RC_ASSERT(log.size() == 1u);
      RC_ASSERT(rec.status == 400);
    }
    // With a request deadline, no attempt starts after it.
    if (sc.gateway.routing.request_timeout.count() > 0)
      for (const auto& a : log) RC_ASSERT(a.start <= rec.start + sc.gateway.routing.request_timeout);
  }
}

// ---- active health against a reference state machine ------------------------

RC_GTEST_PROP(RoutingSim, HealthFollowsTheReferenceStateMachine, ()) {
  Scenario sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  const int n = *uniform(1, 4);
  config::Config cfg = with_backends(sc, n, 0s);
  auto& h = cfg.health_check;
  h.enabled = true;
  h.interval = ms(*uniform(200, 3000));
  h.timeout = ms(*uniform(50, 1000));
  h.unhealthy_threshold = *uniform(1, 4);
  h.healthy_threshold = *uniform(1, 4);
  // Health outages (and hangs, which the probe timeout must bound).
  std::string first_outage;
  for (int i = 0; i < n; ++i) {
    const int outages = *uniform(0, 3);
    for (int k = 0; k < outages; ++k) {
      const Duration from = ms(*uniform(0, 20000));
      const Duration to = from + ms(*uniform(100, 15000));
      const std::string kind = *pick_of<std::string>("health=down", "health=hang", "down");
      if (i == 0 && k == 0) first_outage = kind;
      sc.fakes[static_cast<std::size_t>(i)].faults.push_back({from, to, spec(kind)});
    }
  }
  const int requests = *uniform(1, 25);
  for (int i = 0; i < requests; ++i) sc.requests.push_back(client_at(ms(*uniform(0, 30000))));
  ready(sc, cfg);
  struct Probe {
    TimePoint at;
    std::size_t backend;
    bool ok, changed, healthy_after;
  };
  auto probes = std::make_shared<std::vector<Probe>>();
  sc.on_worker = [probes](shell::Worker& w, env::Env& env) {
    if (auto* p = w.health_prober())
      p->on_probe = [probes, p, &env](std::size_t b, bool ok, bool changed) {
        probes->push_back({env.now(), b, ok, changed, p->tracker().healthy(b)});
      };
  };
  // The mix (RapidCheck prints it): the kind of b0's first outage.
  RC_TAG(sc.fakes[0].faults.empty() ? std::string("no outage") : first_outage);
  const KeepIfFails keep(sc, "RoutingSim-HealthFollowsTheReferenceStateMachine-failure");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);
  RC_ASSERT(!probes->empty());

  // Reference: written from BEHAVIOR §5 alone, with the thresholds as built.
  const auto& built = sc.gateway.health;
  std::vector<bool> healthy(static_cast<std::size_t>(n), true);
  std::vector<int> fails(static_cast<std::size_t>(n), 0), oks(static_cast<std::size_t>(n), 0);
  // (time, backend) → healthy after that probe, for the routing check below.
  std::vector<std::vector<std::pair<TimePoint, bool>>> timeline(static_cast<std::size_t>(n));
  for (const auto& p : *probes) {
    const std::size_t b = p.backend;
    bool changed = false;
    if (p.ok) {
      fails[b] = 0;
      if (!healthy[b] && ++oks[b] >= built.healthy_threshold) healthy[b] = changed = true;
    } else {
      oks[b] = 0;
      if (healthy[b] && ++fails[b] >= built.unhealthy_threshold) {
        healthy[b] = false;
        changed = true;
      }
    }
    if (changed) oks[b] = fails[b] = 0;
    RC_ASSERT(p.changed == changed);
    RC_ASSERT(p.healthy_after == healthy[b]);
    timeline[b].push_back({p.at, healthy[b]});
  }
  // No attempt starts on a backend the reference calls unhealthy (an attempt
  // at the very instant of a probe is ambiguous and skipped).
  for (const auto& rec : out.records) {
    for (const auto& a : rec.attempt_log) {
      bool state = true, ambiguous = false;
      for (const auto& [t, s] : timeline[a.backend]) {
        if (t == a.start) ambiguous = true;
        if (t <= a.start) state = s;
      }
      if (!ambiguous) RC_ASSERT(state);
    }
    if (rec.attempt_log.empty()) RC_ASSERT(rec.status == 503);
  }
}

// ---- smooth weighted round robin, exact per window ---------------------------

RC_GTEST_PROP(RoutingSim, WeightedRoundRobinIsExactPerWindow, ()) {
  Scenario sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  const int n = *uniform(1, 5);
  config::Config cfg = with_backends(sc, n, 0s);
  int total = 0;
  for (auto& b : cfg.backends) {
    b.weight = *uniform(1, 6);
    total += b.weight;
  }
  cfg.routing.load_balance = config::LoadBalance::weighted;
  // Sequential requests: the eligible set is stable.
  const int requests = total * *uniform(1, 4) + *uniform(0, total);
  for (int i = 0; i < requests; ++i) sc.requests.push_back(client_at(std::chrono::seconds(i)));
  ready(sc, cfg);
  const KeepIfFails keep(sc, "RoutingSim-WeightedRoundRobinIsExactPerWindow-failure");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);
  std::vector<std::uint32_t> picks;
  for (const auto& rec : out.records) {
    RC_ASSERT(rec.attempt_log.size() == 1u);
    picks.push_back(rec.attempt_log[0].backend);
  }
  for (std::size_t start = 0; start + static_cast<std::size_t>(total) <= picks.size(); ++start) {
    std::vector<int> count(static_cast<std::size_t>(n), 0);
    for (int k = 0; k < total; ++k) ++count[picks[start + static_cast<std::size_t>(k)]];
    for (int i = 0; i < n; ++i)
      RC_ASSERT(count[static_cast<std::size_t>(i)] == sc.gateway.backends[static_cast<std::size_t>(i)].weight);
  }
}

// ---- least_conn picks a least-loaded backend ---------------------------------

RC_GTEST_PROP(RoutingSim, LeastConnPicksALeastLoadedBackend, ()) {
  Scenario sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  const int n = *uniform(2, 5);
  config::Config cfg = with_backends(sc, n, 0s);
  for (auto& f : sc.fakes) {
    f.profile.ttft = ms(*uniform(1, 300));
    f.profile.output_tokens = *uniform<std::uint32_t>(1, 30);
  }
  cfg.routing.load_balance = config::LoadBalance::least_conn;
  const int requests = *uniform(1, 30);
  for (int i = 0; i < requests; ++i) {
    ClientRequest q = client_at(ms(*uniform(0, 2000)));
    q.stream = *coin();
    if (*uniform(0, 5) == 0) q.cancel_after_bytes = *uniform<std::size_t>(1, 200);
    sc.requests.push_back(q);
  }
  ready(sc, cfg);
  const KeepIfFails keep(sc, "RoutingSim-LeastConnPicksALeastLoadedBackend-failure");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);
  std::vector<shell::AttemptLog> all;
  for (const auto& rec : out.records)
    for (const auto& a : rec.attempt_log) all.push_back(a);
  for (const auto& a : all) {
    std::vector<int> load(static_cast<std::size_t>(n), 0);
    for (const auto& o : all)
      if (o.seq_start < a.seq_start && o.seq_end > a.seq_start) ++load[o.backend];
    const int least = *std::min_element(load.begin(), load.end());
    RC_ASSERT(load[a.backend] == least);
  }
}

// ---- the circuit opens after exactly consecutive_failures --------------------

// One backend, sequential requests a second apart: it answers `ok` of them,
// then fails every request (5xx, reset or no answer). Exactly
// consecutive_failures failures reach it (the ratio rule is out of play:
// min_requests is never reached); the requests after them get 503 without an
// attempt until the cool-down is over, when one request goes through
// (half-open). Judged from the attempts each request made.
RC_GTEST_PROP(RoutingSim, CircuitOpensAfterExactlyConsecutiveFailures, ()) {
  Scenario sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  config::Config cfg = with_backends(sc, 1, ms(500));
  auto& cb = cfg.routing.circuit_breaker;
  cb.enabled = true;
  cb.consecutive_failures = *uniform(1, 6);
  cb.min_requests = 1000;
  cb.cool_down = 10min;
  cb.max_cool_down = 10min;
  const int ok = *uniform(0, 4);
  const int refused = *uniform(1, 4);
  const std::string fail = *pick_of(std::string("status=500"), "status=503", "reset_before_headers", "hang");
  const Duration fail_from = ok == 0 ? Duration(0) : std::chrono::seconds(ok) - ms(500);
  sc.fakes[0].faults.push_back({fail_from, Duration::max(), spec(fail)});
  const int n = ok + cb.consecutive_failures + refused;
  for (int i = 0; i < n; ++i) sc.requests.push_back(client_at(std::chrono::seconds(i)));
  sc.requests.push_back(client_at(std::chrono::seconds(n) + cb.cool_down));  // half-open
  ready(sc, cfg);
  const int consecutive = sc.gateway.routing.circuit_breaker.consecutive_failures;  // as built
  RC_TAG(fail);  // the mix (RapidCheck prints it)
  const KeepIfFails keep(sc, "RoutingSim-CircuitOpensAfterExactlyConsecutiveFailures-failure");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);
  std::map<std::string, const shell::RequestRecord*> by_id;
  for (const auto& rec : out.records) by_id[rec.request_id] = &rec;
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const auto it = by_id.find(request_id_for(i));
    RC_ASSERT(it != by_id.end());
    const bool reaches = static_cast<int>(i) < ok + consecutive || i + 1 == sc.requests.size();
    RC_ASSERT(it->second->attempt_log.size() == (reaches ? 1u : 0u));
    if (static_cast<int>(i) < ok) RC_ASSERT(it->second->status == 200);
    if (!reaches) RC_ASSERT(it->second->status == 503);
  }
}

// ---- liveness: traffic comes back after an outage ----------------------------

RC_GTEST_PROP(RoutingSim, RequestsSucceedAgainAfterAnOutage, ()) {
  Scenario sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  const int n = *uniform(1, 4);
  config::Config cfg = with_backends(sc, n, 0s);
  auto& h = cfg.health_check;
  h.enabled = *coin();
  h.interval = ms(*uniform(200, 2000));
  h.timeout = ms(500);
  h.unhealthy_threshold = *uniform(1, 3);
  h.healthy_threshold = *uniform(1, 3);
  auto& cb = cfg.routing.circuit_breaker;
  cb.enabled = *coin();
  cb.consecutive_failures = *uniform(1, 4);
  cb.cool_down = ms(*uniform(100, 3000));
  cb.max_cool_down = cb.cool_down * 4;
  config::RetryConfig rcfg;
  rcfg.enabled = true;
  rcfg.max_retries = 2;
  rcfg.initial_wait = ms(50);
  rcfg.max_wait = ms(200);
  cfg.routing.retry = rcfg;
  // Every backend is down in [from, to).
  const Duration from = ms(*uniform(0, 5000));
  const Duration to = from + ms(*uniform(500, 20000));
  for (auto& f : sc.fakes) f.faults.push_back({from, to, spec("down")});
  // Bound on recovery: health needs healthy_threshold probe rounds, the
  // circuit its longest cool-down plus one probe request.
  const Duration bound = (h.enabled ? h.interval * (h.healthy_threshold + 1) + h.timeout : 0s) +
                         (cb.enabled ? cb.max_cool_down : 0s) + 1s;
  const int requests = *uniform(5, 40);
  for (int i = 0; i < requests; ++i) sc.requests.push_back(client_at(ms(*uniform(0, 60000))));
  // And one request surely after the bound, when nothing else is in flight.
  Duration latest{0};
  for (const auto& q : sc.requests) latest = std::max(latest, q.at);
  sc.requests.push_back(client_at(std::max(latest + 10s, to + bound + ms(10))));
  ready(sc, cfg);
  const KeepIfFails keep(sc, "RoutingSim-RequestsSucceedAgainAfterAnOutage-failure");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);
  RC_ASSERT(out.clients.back().response.status == 200);
  // Any request after the bound that overlaps no other request succeeds (one
  // that overlaps a half-open probe may still get 503: only the probe passes).
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    if (sc.requests[i].at < to + bound) continue;
    bool alone = true;
    for (std::size_t j = 0; j < sc.requests.size(); ++j)
      if (j != i && out.clients[j].start <= out.clients[i].end && out.clients[j].end >= out.clients[i].start)
        alone = false;
    if (alone) RC_ASSERT(out.clients[i].response.status == 200);
  }
}

}  // namespace
}  // namespace llmproxy::harness
