// Properties of the real request path (shell::Worker) in the simulator, over
// random workloads (stream or not, sizes, client cancels) and random backend
// fault schedules (DESIGN.md, "Invariants the harness checks"):
//   - every request ends exactly once;
//   - the client's bytes equal the upstream bytes, in order (minus the usage
//     chunk the gateway injected and strips again);
//   - a truncated or broken stream never ends in [DONE];
//   - first-byte and stream-idle timeouts fire at exactly their virtual deadline;
//   - no upstream connection outlives its request (closed, or idle in the pool),
//     and no backend is left generating for a client that went away.
// The gateway is built from a drawn config through the composition root, as
// serve builds it (composition.h). A failure prints the seed and the
// command that replays it, and keeps the case as a scenario file.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>


#include "conformance/harness/checks.h"
#include "conformance/harness/composition.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/random_faults.h"
#include "conformance/harness/random_scenario.h"
#include "conformance/scenario/case_writer.h"
#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/uniform_gen.h"
#include "conformance/harness/upstream_transcript.h"
#include "conformance/harness/usage_oracle.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;


// ---- workload generation ----------------------------------------------------

// A fault: its kind uniformly among those the scenario can end, then its
// parameters (conformance/harness/random_faults.h).
rc::Gen<std::string> gen_fault(bool has_first_byte_timeout, bool has_idle_timeout) {
  return rc::gen::exec([=]() -> std::string {
    const FaultKind k =
        *uniform_element(available_faults(has_first_byte_timeout, has_idle_timeout));
    Rng params(*rc::gen::noShrink(uniform<std::uint64_t>(0, ~0ULL)));
    return fault_spec(k, params);
  });
}

// The gateway of a case: `backends` backends with `each`'s timeouts and the
// server's read and idle timeouts, as a config (composition.h), so the
// case is built as serve builds it and a kept case is exactly this config.
config::Config gateway_config(int backends, const config::BackendConfig& each) {
  config::Config cfg = config_with_backends(backends, each);
  cfg.server.read_timeout = 30s;
  cfg.server.idle_timeout = 60s;
  return cfg;
}

// Made ready to run: built from `cfg` (use_config) and bounded in time as
// conform bounds a replay, so a kept case replays to the same end.
void ready(Scenario& sc, const config::Config& cfg) {
  use_config(sc, cfg);
  Duration last{0};
  for (const auto& q : sc.requests) last = std::max(last, q.at);
  sc.horizon = last + kClientGuard + 1min;
}

Scenario gen_scenario() {
  Scenario sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  const int backends = *uniform(1, 4);
  sc.profile.ttft = std::chrono::milliseconds(*uniform(0, 200));
  sc.profile.itl = std::chrono::milliseconds(*uniform(0, 30));
  sc.profile.output_tokens = *uniform<std::uint32_t>(1, 24);
  config::BackendConfig each;
  each.timeout = 60s;
  each.connect_timeout = 5s;
  if (*coin()) each.first_byte_timeout = std::chrono::milliseconds(*uniform(250, 2000));
  if (*coin()) each.stream_idle_timeout = std::chrono::milliseconds(*uniform(100, 1500));
  sc.random_read_split = *coin();
  const int n = *uniform(1, 10);
  const bool fbt = each.first_byte_timeout.count() > 0;
  const bool idle = each.stream_idle_timeout.count() > 0;
  for (int i = 0; i < n; ++i) {
    ClientRequest r;
    r.at = std::chrono::milliseconds(*uniform(0, 1500));
    r.stream = *coin();
    r.ask_usage = r.stream && *coin();
    r.prompt_words = *uniform(1, 200);
    r.fault = *gen_fault(fbt, idle);
    const int cancel = *uniform(0, 6);
    if (cancel == 0) r.cancel_after_bytes = *uniform<std::size_t>(1, 2000);
    if (cancel == 1) r.cancel_after = std::chrono::milliseconds(*uniform(1, 400));
    // Bound every client so a hang without timeouts cannot block the run.
    if (!r.cancel_after) r.cancel_after = kClientGuard;
    r.pipeline_partial = *uniform(0, 5) == 0;
    sc.requests.push_back(std::move(r));
  }
  // Half the runs go through a token limiter a few milliseconds away, so the
  // usage invariant also judges what the limiter was settled with (the
  // finishes its store was given), cut streams included.
  if (*coin()) {
    config::RateLimitConfig limits;
    limits.enabled = true;
    limits.per_key.tokens_per_minute = *uniform<std::int64_t>(2000, 200000);
    sc.rate_limit = limits;
    sc.limiter_latency = std::chrono::milliseconds(*uniform(0, 5));
  }
  ready(sc, gateway_config(backends, each));
  return sc;
}


// ---- the property -------------------------------------------------------------

void check_run(const Scenario& sc) {
  // The mix: RapidCheck prints how often each first request's fault came up.
  RC_TAG(fault_kind_name(fault_kind_of(sc.requests.front().fault)));
  const SimOutcome out = run_gateway_sim(sc);
  RC_LOG() << describe(sc);
  const Violations v = check_invariants(sc, out);
  RC_LOG() << describe(v);
  if (!v.empty()) {
    // Kept as a scenario file on every failing run: after shrinking, the
    // files hold the shrunk case (docs/simulator.md).
    RC_LOG() << conform::keep_failing_case(sc, "request-path-failure", v.front().invariant);
  }
  RC_ASSERT(v.empty());
}

// 200 cases in the default run (meson sets RC_PARAMS=max_success=200); more
// with RC_PARAMS="max_success=5000". On failure RapidCheck prints the
// scenario (RC_LOG above, with the simulator seed) and, at exit, the one
// command that replays it: RC_PARAMS="reproduce=..." <this binary>.
RC_GTEST_PROP(RequestPathSim, InvariantsHoldOverRandomWorkloadsAndFaults, ()) {
  check_run(gen_scenario());
}

TEST(RequestPathSim, SameSeedSameEventLog) {
  Scenario sc;
  sc.seed = 42;
  config::BackendConfig each;
  each.first_byte_timeout = 500ms;
  each.stream_idle_timeout = 300ms;
  for (int i = 0; i < 6; ++i) {
    ClientRequest r;
    r.at = std::chrono::milliseconds(i * 10);
    r.stream = i % 2 == 0;
    r.fault = i == 3 ? "reset_after=2" : "";
    sc.requests.push_back(r);
  }
  ready(sc, gateway_config(2, each));
  const auto a = run_gateway_sim(sc);
  const auto b = run_gateway_sim(sc);
  EXPECT_EQ(a.event_log_hash, b.event_log_hash);
  EXPECT_EQ(a.records.size(), 6u);
}

// A stream cut before its usage (reset, stall past the idle timeout,
// malformed event) is recorded with usage_estimated and exactly the estimate
// the harness computes from the tap, whether or not the client asked for
// usage; a whole stream keeps what the backend reported; the limiter is
// settled with the same totals. The property covers this at random; this
// pins that every cut kind really takes the estimate path.
TEST(RequestPathSim, CutStreamsAreChargedTheOraclesEstimate) {
  Scenario sc;
  sc.seed = 11;
  sc.profile.ttft = 5ms;
  sc.profile.itl = 10ms;
  sc.profile.output_tokens = 8;
  config::BackendConfig each;
  each.stream_idle_timeout = 300ms;
  config::RateLimitConfig limits;
  limits.enabled = true;
  limits.per_key.tokens_per_minute = 1000000;
  sc.rate_limit = limits;
  const std::vector<std::string> cuts = {"reset_after=3", "stall_after=3,for=2000ms",
                                         "malformed_at=3", "malformed_at=0"};
  for (const bool ask_usage : {false, true}) {
    for (const auto& fault : cuts) {
      ClientRequest r;
      r.at = std::chrono::milliseconds(sc.requests.size() * 50);
      r.stream = true;
      r.ask_usage = ask_usage;
      r.prompt_words = 5 + static_cast<int>(sc.requests.size());
      r.fault = fault;
      sc.requests.push_back(r);
    }
  }
  ClientRequest whole;
  whole.stream = true;
  whole.at = 900ms;
  sc.requests.push_back(whole);
  ready(sc, gateway_config(1, each));

  const SimOutcome out = run_gateway_sim(sc);
  const Violations v = check_invariants(sc, out);
  EXPECT_TRUE(v.empty()) << describe(v);
  ASSERT_EQ(out.records.size(), sc.requests.size());
  std::map<std::string, const shell::RequestRecord*> by_id;
  for (const auto& rec : out.records) by_id[rec.request_id] = &rec;
  std::multiset<std::int64_t> settled;
  for (const auto& f : out.limiter_finishes) settled.insert(f.actual_tokens);
  const auto upstream = all_exchanges(out.upstream);
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const std::string id = request_id_for(i);
    const bool cut = !sc.requests[i].fault.empty();
    const shell::RequestRecord& rec = *by_id.at(id);
    const auto x = std::find_if(upstream.rbegin(), upstream.rend(),
                                [&](const UpstreamExchange& e) { return e.request_id == id; });
    ASSERT_NE(x, upstream.rend()) << id;
    const ExpectedUsage want = expected_stream_usage(x->body, request_body(sc.requests[i], i));
    EXPECT_EQ(want.estimated, cut) << id << " " << sc.requests[i].fault;
    EXPECT_EQ(rec.usage_estimated, cut) << id << " " << sc.requests[i].fault;
    EXPECT_EQ(rec.prompt_tokens, want.prompt) << id;
    EXPECT_EQ(rec.completion_tokens, want.completion) << id;
    EXPECT_TRUE(settled.count(want.prompt + want.completion) > 0) << id;
    // Not vacuous: the prompt is estimated, and output before a cut counts
    // (none when the very first event is malformed).
    EXPECT_GT(rec.prompt_tokens, 0) << id;
    if (sc.requests[i].fault == "malformed_at=0")
      EXPECT_EQ(rec.completion_tokens, 0) << id;
    else
      EXPECT_GE(rec.completion_tokens, 2) << id << " " << sc.requests[i].fault;
  }
}

// The mix of faults the property draws, at every size RapidCheck uses: each
// kind the scenario can end must come up in at least half its fair share of
// requests (a kind listed last once came up in 0.5 % of them).
TEST(RequestPathSim, EveryFaultKindIsDrawnOften) {
  std::map<FaultKind, int> seen;
  int total = 0;
  const auto gen = gen_fault(true, true);
  for (int size = 0; size <= 100; ++size) {
    for (int i = 0; i < 40; ++i) {
      const rc::Random random(static_cast<std::uint64_t>(size * 1000 + i));
      ++seen[fault_kind_of(gen(random, size).value())];
      ++total;
    }
  }
  const double fair = 1.0 / kFaultKindCount;
  std::string mix;
  for (int k = 0; k < kFaultKindCount; ++k) {
    const auto kind = static_cast<FaultKind>(k);
    const double share = static_cast<double>(seen[kind]) / total;
    mix += std::string(fault_kind_name(kind)) + "=" + std::to_string(share) + " ";
    EXPECT_GE(share, fair / 2) << fault_kind_name(kind);
  }
  std::printf("fault mix over %d draws: %s\n", total, mix.c_str());
}

}  // namespace
}  // namespace llmproxy::harness
