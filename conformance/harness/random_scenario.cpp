#include "conformance/harness/random_scenario.h"

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

}  // namespace

Scenario random_scenario(std::uint64_t seed, int max_requests) {
  Rng r(seed);
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
  const int n = static_cast<int>(in_range(r, 1, max_requests + 1));
  for (int i = 0; i < n; ++i) {
    ClientRequest q;
    q.at = std::chrono::milliseconds(in_range(r, 0, 1500));
    q.stream = r.below(2) == 1;
    q.ask_usage = q.stream && r.below(2) == 1;
    q.prompt_words = static_cast<int>(in_range(r, 1, 200));
    q.fault = random_fault(r, fbt, idle);
    if (sc.worker_options) q.headers = "Authorization: Bearer key" + std::to_string(r.below(3)) + "\r\n";
    const auto cancel = r.below(6);
    if (cancel == 0) q.cancel_after_bytes = static_cast<std::size_t>(in_range(r, 1, 2000));
    if (cancel == 1) q.cancel_after = std::chrono::milliseconds(in_range(r, 1, 400));
    if (!q.cancel_after) q.cancel_after = 10min;  // bounds every client
    sc.requests.push_back(std::move(q));
  }
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
     << " rate_limits=" << (sc.worker_options ? "on" : "off") << "\n";
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const auto& r = sc.requests[i];
    os << "  req-" << i << " at=" << r.at.count() / 1000000 << "ms stream=" << r.stream
       << " ask_usage=" << r.ask_usage << " fault='" << r.fault << "'";
    if (r.cancel_after_bytes) os << " cancel_after_bytes=" << *r.cancel_after_bytes;
    if (r.cancel_after && *r.cancel_after < 10min) os << " cancel_after=" << r.cancel_after->count() / 1000000 << "ms";
    os << "\n";
  }
  return os.str();
}

}  // namespace llmproxy::harness
