// The Redis rate-limit store in the simulator (issue #11 item 5): the real
// stores::redis::RedisLimiterStore, with the real RedisClient (pipelining,
// deadlines, reconnects, NOSCRIPT reloads) and the real Lua scripts, against
// fake::FakeRedis on virtual time.
//
// The reference is the in-process limiter (ratelimit::MemoryLimiter), fed
// from the fake's side: every script the fake runs is replayed on it at the
// instant the script ran (the fake reports each run), a restart gives it a
// fresh state, and a command the fake dropped (hang, reset) never reaches
// it. The replies reach their callers in the order the scripts ran (one
// pipelined connection, FIFO), so the admissions' verdicts, in the order
// they returned, must equal the reference's, in the order the scripts ran —
// field by field as RateLimitProperty.RejectedRequestsChangeNothing compares
// verdicts (admitted, limit, retry_after, remaining and reset of requests and
// tokens), except that Redis keeps time in whole microseconds: its
// retry_after is the reference's rounded up to a microsecond. The generated
// rates and token limits are the ones whose GCRA spacing and per-token time
// are whole microseconds, so everything else is exact.
//
// Properties:
//   - without faults, every verdict equals the reference's;
//   - with faults drawn uniformly (reply latency below and above the client
//     timeouts, connection resets, hangs, restarts; 0–3 windows):
//       * no admit or finish takes longer than two round trips' deadlines,
//         2 × max(dial_timeout, write_timeout + read_timeout), in virtual time;
//       * a verdict with store_error follows fail_mode: open → admitted, no
//         limit; closed → rejected by "rate limit store unavailable";
//       * an admission that starts inside an outage (hang, reset, restart,
//         latency above the timeouts), far enough from its end that its
//         command must meet it, has store_error set;
//       * afterwards (once the client's reconnect backoff has passed, and
//         the global rules' state from the faulty phase has run out) the
//         store recovers — reconnecting and reloading its scripts after a
//         restart's NOSCRIPT — and verdicts for fresh keys are exact again.
// The fault mix is printed (RC_CLASSIFY). A failing case prints its
// scenario (RC_LOG) and RapidCheck's one-line replay command,
// RC_PARAMS="reproduce=…" <this binary>.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/uniform_gen.h"
#include "fake_backends/fake_redis.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/stores/redis/limiter_scripts.h"
#include "proxy/stores/redis/redis_client.h"
#include "proxy/stores/redis/redis_limiter_store.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;
namespace rl = llmproxy::ratelimit;

Duration ms(std::int64_t v) { return std::chrono::milliseconds(v); }
Duration us(std::int64_t v) { return std::chrono::microseconds(v); }
std::string str(Duration d) { return std::to_string(std::chrono::duration<double>(d).count()) + "s"; }

// ---------------------------------------------------------------- the case

enum class FaultKind : int { latency_below, latency_above, reset, hang, restart };
constexpr int kFaultKinds = 5;
const char* name(FaultKind k) {
  switch (k) {
    case FaultKind::latency_below: return "latency below the timeouts";
    case FaultKind::latency_above: return "latency above the timeouts";
    case FaultKind::reset: return "reset";
    case FaultKind::hang: return "hang";
    case FaultKind::restart: return "restart";
  }
  return "?";
}

struct Window {
  FaultKind kind;
  Duration from, until, latency;
};

struct Request {
  Duration at;
  std::string key;
  std::int64_t reservation = 0;
  std::int64_t actual = -1;
  Duration duration;
};

struct Case {
  std::uint64_t seed = 1;
  config::RateLimitConfig limits;
  Duration latency;  // one way, every link
  Duration dial, read, write;
  std::vector<Window> faults;
  std::vector<Request> requests;  // phase 1 (faults) and, after phase2_start, phase 2
  Duration phase2_start{Duration::max()};
  Duration end;

  // The longest an admit or finish may take: two round trips' deadlines.
  Duration bound() const { return 2 * std::max(dial, write + read); }
};

std::string describe(const Case& c) {
  std::ostringstream o;
  o << "seed " << c.seed << ", one-way latency " << str(c.latency) << ", dial " << str(c.dial)
    << " write " << str(c.write) << " read " << str(c.read) << ", fail_mode "
    << (c.limits.fail_mode == config::FailMode::open ? "open" : "closed") << "\n";
  const auto& g = c.limits.global;
  const auto& k = c.limits.per_key;
  o << "limits: global rps " << g.requests_per_second << " rpm " << g.requests_per_minute << " burst "
    << g.burst_size << "; per key rps " << k.requests_per_second << " rpm " << k.requests_per_minute
    << " burst " << k.burst_size << " tpm " << k.tokens_per_minute << " max_concurrent "
    << k.max_concurrent << "\n";
  for (const auto& w : c.faults)
    o << "fault " << name(w.kind) << " [" << str(w.from) << ", " << str(w.until) << ")"
      << (w.latency.count() > 0 ? " latency " + str(w.latency) : "") << "\n";
  for (const auto& r : c.requests)
    o << "request at " << str(r.at) << " key " << r.key << " reserve " << r.reservation << " actual "
      << r.actual << " for " << str(r.duration) << "\n";
  return o.str();
}

// ---------------------------------------------------------------- generators

// Rates whose GCRA spacing is whole microseconds (Redis keeps µs).
std::vector<int> exact_rates(bool per_minute) {
  std::vector<int> out;
  for (int r = 1; r <= 600; ++r) {
    config::RateLimitConfig c;
    c.enabled = true;
    c.per_key.enabled = false;
    (per_minute ? c.global.requests_per_minute : c.global.requests_per_second) = r;
    const auto set = rl::limits_from(c);
    if (set.rules.size() == 1 && set.rules[0].emission_ns() % 1000 == 0) out.push_back(r);
    if (!per_minute && r >= 50) break;
  }
  return out;
}

// Token limits whose time per token (60 s / T) is whole microseconds.
std::vector<int> exact_token_limits() {
  std::vector<int> out;
  for (int t = 50; t <= 6000; ++t)
    if (60'000'000 % t == 0) out.push_back(t);
  return out;
}

template <class T>
T pick(const std::vector<T>& v) {
  return v[*uniform<std::size_t>(0, v.size())];
}

config::RateLimitConfig gen_limits() {
  static const std::vector<int> rps = exact_rates(false), rpm = exact_rates(true);
  static const std::vector<int> tpm = exact_token_limits();
  config::RateLimitConfig c;
  c.enabled = true;
  c.fail_mode = *coin() ? config::FailMode::open : config::FailMode::closed;
  do {
    if (*coin()) c.global.requests_per_second = pick(rps);
    if (*coin()) c.global.requests_per_minute = pick(rpm);
    if (*coin()) c.per_key.requests_per_second = pick(rps);
    if (*coin()) c.per_key.requests_per_minute = pick(rpm);
    if (*coin()) c.per_key.tokens_per_minute = pick(tpm);
    if (*coin()) c.per_key.max_concurrent = *uniform(1, 5);
  } while (rl::limits_from(c).empty());
  if (*coin()) c.global.burst_size = *uniform(1, 10);
  if (*coin()) c.per_key.burst_size = *uniform(1, 10);
  // Rules that wait exactly as long as each other (the same rate and burst
  // for the global and the per-key rule; a per-key rate equal to the global
  // one; a wait of 1 s, which is also the concurrency rule's): which rule
  // a rejection names then depends on the order the rules are checked in.
  if (*coin()) {
    auto& g = c.global;
    auto& k = c.per_key;
    if (g.requests_per_second > 0 && *coin()) k.requests_per_second = g.requests_per_second;
    if (g.requests_per_minute > 0 && *coin()) k.requests_per_minute = g.requests_per_minute;
    if (*coin()) k.burst_size = g.burst_size;
    if (*coin()) g.requests_per_second = 1, g.burst_size = 1;
  }
  return c;
}

rc::Gen<FaultKind> gen_fault_kind() {
  return rc::gen::map(uniform(0, kFaultKinds), [](int k) { return static_cast<FaultKind>(k); });
}

// `grid`: arrival times are multiples of it (0 = any microsecond), so that
// requests arrive together and their scripts run at the same instant.
Request gen_request(Duration from, Duration span, Duration grid, const std::string& key_prefix, int keys) {
  Request r;
  r.at = from + us(*uniform<std::int64_t>(0, span.count() / 1000 + 1));
  if (grid.count() > 0) r.at = from + (r.at - from) / grid * grid;
  r.key = key_prefix + std::to_string(*uniform(0, keys));
  r.reservation = *uniform<std::int64_t>(0, 400);
  r.actual = *uniform<std::int64_t>(-1, 500);
  r.duration = us(*uniform<std::int64_t>(0, 2'000'000));
  return r;
}

Case gen_case(bool with_faults) {
  Case c;
  c.seed = *uniform<std::uint64_t>(1, 1u << 30);
  c.limits = gen_limits();
  c.latency = us(*uniform<std::int64_t>(20, 2000));
  c.dial = ms(*uniform(50, 1000));
  c.read = ms(*uniform(50, 1000));
  c.write = ms(*uniform(50, 1000));
  const Duration span = ms(*uniform(100, 10'000));
  const int keys = *uniform(1, 5);
  const int n = *uniform(1, 40);
  const Duration grid = *coin() ? ms(*uniform(1, 500)) : Duration{0};
  for (int i = 0; i < n; ++i) c.requests.push_back(gen_request(Duration{0}, span, grid, "key", keys));
  Duration last_fault{0};
  if (with_faults) {
    const int windows = *uniform(0, 4);
    const Duration budget = c.write + c.read;
    for (int i = 0; i < windows; ++i) {
      Window w;
      w.kind = *gen_fault_kind();
      w.from = ms(*uniform<std::int64_t>(0, span.count() / 1'000'000 + 1));
      w.until = w.from + ms(*uniform(1, 3000));
      w.latency = Duration{0};
      if (w.kind == FaultKind::latency_below) w.latency = us(*uniform<std::int64_t>(0, budget.count() / 2000));
      if (w.kind == FaultKind::latency_above)
        w.latency = budget + us(*uniform<std::int64_t>(0, 2 * budget.count() / 1000));
      last_fault = std::max(last_fault, w.until);
      c.faults.push_back(w);
    }
    // Phase 2: once every phase-1 call has ended (each is bounded), the
    // faults are over, the client's reconnect backoff (≤ 2 s) has passed
    // and the global rules have forgotten phase 1, fresh keys must be
    // decided exactly again. The global state has to run out first because
    // the reference cannot follow it through faults: a finish whose slot
    // Redis lost (a restart, an admission that failed open) charges the
    // key's bucket there, which the memory limiter cannot express, and the
    // key's later verdicts, and so the global rules' state, then differ.
    // A GCRA state runs out burst × spacing after its last admission.
    Duration global_horizon{0};
    for (const auto& r : rl::limits_from(c.limits).rules)
      if (r.scope == rl::Scope::global) global_horizon = std::max(global_horizon, Duration(r.burst * r.emission_ns()));
    const Duration phase1_end = span + 2s + 2 * c.bound();
    c.phase2_start = std::max(phase1_end + global_horizon, last_fault) + 2s + 10ms;
    const int m = *uniform(1, 15);
    for (int i = 0; i < m; ++i) c.requests.push_back(gen_request(c.phase2_start, 3s, grid, "fresh", 3));
  }
  c.end = std::max(c.phase2_start == Duration::max() ? Duration{0} : c.phase2_start + 3s, span) + 2s +
          2 * c.bound() + 1s;
  return c;
}

// ---------------------------------------------------------------- the reference

std::int64_t arg_int(const std::string& s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// The memory limiter, replaying the scripts the fake ran.
struct Reference {
  rl::LimitSet limits;
  std::unique_ptr<rl::MemoryLimiter> memory;
  std::uint64_t restarts = 0;
  std::string admit_sha = stores::redis::Script(std::string(stores::redis::kAdmitScript)).sha1();
  std::string finish_sha = stores::redis::Script(std::string(stores::redis::kFinishScript)).sha1();
  struct Admission {
    TimePoint at;
    rl::Verdict verdict;
  };
  std::vector<Admission> admissions;  // in the order the scripts ran

  explicit Reference(rl::LimitSet l)
      : limits(std::move(l)), memory(std::make_unique<rl::MemoryLimiter>(limits)) {}

  void on_script(const fake::RedisScriptRun& run, std::uint64_t restarts_now) {
    if (restarts_now != restarts) {  // the fake lost everything: so does the reference
      restarts = restarts_now;
      memory = std::make_unique<rl::MemoryLimiter>(limits);
    }
    // Redis's clock is whole microseconds.
    const TimePoint t{std::chrono::duration_cast<std::chrono::microseconds>(run.at.time_since_epoch())};
    if (run.sha == admit_sha) {
      // ARGV: n, 4 per rule, token capacity, reservation, … (limiter_scripts.cpp)
      const std::size_t n = static_cast<std::size_t>(arg_int(run.args[0]));
      const std::int64_t reservation = arg_int(run.args[2 + 4 * n]);
      admissions.push_back({t, memory->admit(run.keys[1], reservation, t)});
    } else if (run.sha == finish_sha) {
      // ARGV: capacity, reservation, actual, member, slot TTL. A slot Redis
      // did not find (admission failed open, or never ran) only charges.
      const std::int64_t reservation = arg_int(run.args[1]);
      const std::int64_t actual = arg_int(run.args[2]);
      const bool found = run.reply.type == fake::RespValue::Type::integer && run.reply.integer == 1;
      if (found)
        memory->finish(run.keys[0], reservation, actual, t);
      else
        memory->finish(run.keys[0], 0, actual >= 0 ? actual : reservation, t);
    }
  }
};

// ---------------------------------------------------------------- the run

struct Call {
  std::size_t request;
  bool admit;
  TimePoint start, end;
  rl::Verdict verdict;  // admit only
};

struct Result {
  std::vector<Call> calls;  // in completion order
  std::vector<Reference::Admission> reference;
  std::size_t unfinished = 0;         // calls running now
  std::size_t unfinished_at_end = 0;  // calls still running when the run ended
  fake::FakeRedisStats fake_stats;
  std::uint64_t script_loads = 0;
  bool healthy_at_end = false;
  std::uint64_t log_hash = 0;  // the world's event log
};

env::Task<void> drive(sim::SimEnv& env, stores::redis::RedisLimiterStore& store, const Request& r,
                      std::size_t index, Result& out) {
  auto timer = env.make_timer();
  env::error_code ec;
  co_await timer->sleep_until(TimePoint(r.at), ec);
  ++out.unfinished;
  stores::AdmitRequest a;
  a.now = env.now();
  a.key = r.key;
  a.token_reservation = r.reservation;
  const TimePoint start = env.now();
  const rl::Verdict v = co_await store.admit(a);
  out.calls.push_back({index, true, start, env.now(), v});
  --out.unfinished;
  if (!v.admitted) co_return;
  co_await timer->sleep_until(env.now() + r.duration, ec);
  ++out.unfinished;
  stores::FinishRequest f;
  f.now = env.now();
  f.key = r.key;
  f.token_reservation = r.reservation;
  f.actual_tokens = r.actual;
  const TimePoint fstart = env.now();
  co_await store.finish(f);
  out.calls.push_back({index, false, fstart, env.now(), {}});
  --out.unfinished;
}

fake::RedisFaultWindow to_fake(const Window& w) {
  fake::RedisFaultWindow f;
  f.from = w.from;
  f.until = w.until;
  f.latency = w.latency;
  switch (w.kind) {
    case FaultKind::latency_below:
    case FaultKind::latency_above: f.kind = fake::RedisFault::latency; break;
    case FaultKind::reset: f.kind = fake::RedisFault::reset; break;
    case FaultKind::hang: f.kind = fake::RedisFault::hang; break;
    case FaultKind::restart: f.kind = fake::RedisFault::restart; break;
  }
  return f;
}

Result run_case(const Case& c) {
  Result out;
  const rl::LimitSet limits = rl::limits_from(c.limits);
  sim::World world(c.seed);
  world.network().set_default_latency(c.latency);
  sim::SimEnv redis_env(world, "redis");
  sim::SimEnv gateway_env(world, "gateway");
  Reference ref(limits);

  fake::FakeRedisConfig fc;
  fc.port = 6379;
  for (const auto& w : c.faults) fc.faults.push_back(to_fake(w));
  fake::FakeRedis* fake_ptr = nullptr;
  fc.on_script = [&](const fake::RedisScriptRun& run) { ref.on_script(run, fake_ptr->stats().restarts); };
  auto fake = std::make_unique<fake::FakeRedis>(redis_env, fc);
  fake_ptr = fake.get();
  bool fake_running = true;
  world.spawn([](fake::FakeRedis& f, bool& running) -> env::Task<void> {
    env::error_code ec;
    co_await f.run(ec);
    running = false;
  }(*fake, fake_running));

  stores::redis::ClientConfig cc;
  cc.host = "redis";
  cc.port = 6379;
  cc.dial_timeout = c.dial;
  cc.read_timeout = c.read;
  cc.write_timeout = c.write;
  stores::redis::RedisLimiterOptions opts;
  opts.slot_ttl = 1h;  // longer than any run: the reference has no slot expiry
  auto store = std::make_unique<stores::redis::RedisLimiterStore>(gateway_env, cc, limits, opts);
  for (std::size_t i = 0; i < c.requests.size(); ++i)
    world.spawn(drive(gateway_env, *store, c.requests[i], i, out));
  world.run_until(TimePoint(c.end));
  out.unfinished_at_end = out.unfinished;
  out.script_loads = store->client().script_loads();
  out.healthy_at_end = store->store_healthy();

  // Shutdown, in an order that leaves no coroutine behind: close() fails
  // what is still waiting (a call that hung) and those calls return; then
  // the store and the fake go.
  store->close();
  world.run_for(1s);
  store.reset();
  fake->stop();
  world.run_for(2s);
  out.fake_stats = fake->stats();
  out.reference = ref.admissions;
  out.log_hash = world.log().hash();
  return out;
}

// ---------------------------------------------------------------- checks

Duration ceil_us(Duration d) {
  return us((d.count() + 999) / 1000);
}

// The first difference between a verdict and the reference's, or "".
std::string difference(const rl::Verdict& got, const rl::Verdict& want) {
  std::ostringstream o;
  auto field = [&](const char* what, auto a, auto b) {
    if (a != b && o.tellp() == 0) o << what << ": got " << a << ", reference " << b;
  };
  field("store_error", got.store_error, false);
  field("admitted", got.admitted, want.admitted);
  field("limit", got.limit, want.limit);
  field("retry_after (ns)", got.retry_after.count(), ceil_us(want.retry_after).count());
  field("limit_requests", got.limit_requests, want.limit_requests);
  field("remaining_requests", got.remaining_requests, want.remaining_requests);
  field("reset_requests (ns)", got.reset_requests.count(), want.reset_requests.count());
  field("limit_tokens", got.limit_tokens, want.limit_tokens);
  field("remaining_tokens", got.remaining_tokens, want.remaining_tokens);
  field("reset_tokens (ns)", got.reset_tokens.count(), want.reset_tokens.count());
  return o.str();
}

// Admissions from `from` on: returned verdicts (completion order) against
// the reference's (script order).
void check_exact(const Case& c, const Result& r, Duration from) {
  std::vector<const Call*> got;
  for (const auto& call : r.calls)
    if (call.admit && call.start >= TimePoint(from)) got.push_back(&call);
  std::vector<const Reference::Admission*> want;
  for (const auto& a : r.reference)
    if (a.at >= TimePoint(from)) want.push_back(&a);
  RC_LOG() << got.size() << " admissions decided from " << str(from) << ", " << want.size()
           << " scripts run\n";
  RC_ASSERT(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::string d = difference(got[i]->verdict, want[i]->verdict);
    if (!d.empty())
      RC_FAIL("admission " + std::to_string(i) + " (request " + std::to_string(got[i]->request) +
              ", key " + c.requests[got[i]->request].key + ", script at " +
              str(want[i]->at.time_since_epoch()) + "): " + d);
  }
}

void check_bounded(const Case& c, const Result& r) {
  RC_ASSERT(r.unfinished_at_end == 0u);
  for (const auto& call : r.calls) {
    if (call.end - call.start > c.bound())
      RC_FAIL(std::string(call.admit ? "admit" : "finish") + " of request " + std::to_string(call.request) +
              " took " + str(call.end - call.start) + " > " + str(c.bound()));
  }
}

void check_fail_mode(const Case& c, const Result& r) {
  const bool open = c.limits.fail_mode == config::FailMode::open;
  for (const auto& call : r.calls) {
    if (!call.admit || !call.verdict.store_error) continue;
    if (open) {
      RC_ASSERT(call.verdict.admitted);
      RC_ASSERT(call.verdict.limit.empty());
    } else {
      RC_ASSERT(!call.verdict.admitted);
      RC_ASSERT(call.verdict.limit == stores::redis::kStoreUnavailable);
      RC_ASSERT(call.verdict.retry_after == 1s);
    }
  }
}

// An admission that starts in an outage, early enough that its command
// (at most a connect round trip and a one-way trip later) meets it, cannot
// have reached Redis: it must carry store_error.
void check_outages(const Case& c, const Result& r) {
  const Duration margin = 4 * c.latency + 1us;
  for (const auto& call : r.calls) {
    if (!call.admit) continue;
    const Duration t = call.start.time_since_epoch();
    for (const auto& w : c.faults) {
      if (w.kind == FaultKind::latency_below) continue;
      if (t >= w.from && t + margin < w.until && !call.verdict.store_error)
        RC_FAIL("request " + std::to_string(call.request) + " admitted at " + str(t) + " during " +
                name(w.kind) + " [" + str(w.from) + ", " + str(w.until) + ") without store_error");
    }
  }
}

// ---------------------------------------------------------------- properties

// 500 cases each in the default run (meson: RC_PARAMS=max_success=500; about
// 5 s under ASan).
RC_GTEST_PROP(RedisSim, VerdictsEqualTheMemoryLimiterWithoutFaults, ()) {
  const Case c = gen_case(false);
  RC_LOG() << describe(c);
  const Result r = run_case(c);
  check_bounded(c, r);
  check_exact(c, r, Duration{0});
  RC_ASSERT(r.fake_stats.restarts == 0u);
  RC_ASSERT(r.healthy_at_end);
}

RC_GTEST_PROP(RedisSim, FaultsNeverHangFailByModeAndRecover, ()) {
  const Case c = gen_case(true);
  RC_LOG() << describe(c);
  for (int k = 0; k < kFaultKinds; ++k) {
    const auto kind = static_cast<FaultKind>(k);
    RC_CLASSIFY(std::any_of(c.faults.begin(), c.faults.end(), [&](const Window& w) { return w.kind == kind; }),
                name(kind));
  }
  RC_CLASSIFY(c.faults.empty(), "no fault");
  RC_TAG(c.limits.fail_mode == config::FailMode::open ? "fail open" : "fail closed");
  const Result r = run_case(c);
  check_bounded(c, r);
  check_fail_mode(c, r);
  check_outages(c, r);
  check_exact(c, r, c.phase2_start);
  RC_ASSERT(r.healthy_at_end);
  const bool restarted = r.fake_stats.restarts > 0;
  RC_CLASSIFY(restarted && r.script_loads > 2, "scripts reloaded after a restart");
}

// A run is a function of its case: the same case twice, the same event log
// (Lua's hash seed, addresses or a stray clock in the fake would show here).
TEST(RedisSim, SameCaseSameEventLog) {
  Case c;
  c.seed = 5;
  c.limits.enabled = true;
  c.limits.global.requests_per_second = 2;
  c.limits.per_key.tokens_per_minute = 600;
  c.limits.per_key.max_concurrent = 2;
  c.latency = 150us;
  c.dial = c.read = c.write = 200ms;
  c.faults = {{FaultKind::latency_below, 100ms, 400ms, 50ms},
              {FaultKind::hang, 500ms, 700ms, {}},
              {FaultKind::restart, 900ms, 1200ms, {}},
              {FaultKind::reset, 1300ms, 1400ms, {}}};
  for (int i = 0; i < 30; ++i)
    c.requests.push_back({ms(i * 60), "k" + std::to_string(i % 3), 10 * i, 5 * i, ms(150)});
  c.end = 10s;
  const Result a = run_case(c);
  const Result b = run_case(c);
  EXPECT_EQ(a.log_hash, b.log_hash);
  EXPECT_EQ(a.reference.size(), b.reference.size());
  EXPECT_GT(a.fake_stats.scripts_run, 0u);
  EXPECT_EQ(a.fake_stats.restarts, 1u);
}

// The fault kinds the property draws, at every size RapidCheck uses: each
// must come up in at least half its fair share of windows.
TEST(RedisSim, EveryFaultKindIsDrawnOften) {
  std::map<int, int> seen;
  int total = 0;
  const auto gen = gen_fault_kind();
  for (int size = 0; size <= 100; ++size) {
    for (int i = 0; i < 40; ++i) {
      const rc::Random random(static_cast<std::uint64_t>(size * 1000 + i));
      ++seen[static_cast<int>(gen(random, size).value())];
      ++total;
    }
  }
  std::string mix;
  for (int k = 0; k < kFaultKinds; ++k) {
    const double share = static_cast<double>(seen[k]) / total;
    mix += std::string(name(static_cast<FaultKind>(k))) + "=" + std::to_string(share) + " ";
    EXPECT_GE(share, 0.5 / kFaultKinds) << name(static_cast<FaultKind>(k));
  }
  std::printf("fault mix over %d draws: %s\n", total, mix.c_str());
}

}  // namespace
}  // namespace llmproxy::harness
