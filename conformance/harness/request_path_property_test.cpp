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
// A failure prints the seed and the command that replays it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>


#include "conformance/harness/checks.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/random_scenario.h"
#include "conformance/harness/quiet_logs.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;


// ---- workload generation ----------------------------------------------------

rc::Gen<std::string> gen_fault(bool has_first_byte_timeout, bool has_idle_timeout) {
  return rc::gen::exec([=]() -> std::string {
    const int kinds = 9 + (has_first_byte_timeout ? 1 : 0) + (has_idle_timeout ? 1 : 0);
    int k = *rc::gen::inRange(0, kinds);
    if (!has_first_byte_timeout && k >= 9) ++k;  // skip "hang"
    switch (k) {
      case 0:
      case 1: return "";
      case 2: return "reset_after=" + std::to_string(*rc::gen::inRange(0, 6));
      case 3: return "no_done";
      case 4: return "malformed_at=" + std::to_string(*rc::gen::inRange(0, 5));
      case 5: return "status=500";
      case 6: return "status=400,code=context_length_exceeded";
      case 7: return "reset_before_headers";
      case 8: return "slow_headers=" + std::to_string(*rc::gen::inRange(1, 300)) + "ms";
      case 9: return "hang";
      default:
        return "stall_after=" + std::to_string(*rc::gen::inRange(0, 4)) +
               ",for=" + std::to_string(*rc::gen::inRange(10, 2000)) + "ms";
    }
  });
}

Scenario gen_scenario() {
  Scenario sc;
  sc.seed = *rc::gen::inRange<std::uint64_t>(1, 1u << 30);
  sc.backends = *rc::gen::inRange(1, 4);
  sc.profile.ttft = std::chrono::milliseconds(*rc::gen::inRange(0, 200));
  sc.profile.itl = std::chrono::milliseconds(*rc::gen::inRange(0, 30));
  sc.profile.output_tokens = *rc::gen::inRange<std::uint32_t>(1, 24);
  sc.backend_template.timeout = 60s;
  sc.backend_template.connect_timeout = 5s;
  if (*rc::gen::arbitrary<bool>())
    sc.backend_template.first_byte_timeout = std::chrono::milliseconds(*rc::gen::inRange(250, 2000));
  if (*rc::gen::arbitrary<bool>())
    sc.backend_template.stream_idle_timeout = std::chrono::milliseconds(*rc::gen::inRange(100, 1500));
  sc.gateway.read_timeout = 30s;
  sc.gateway.idle_timeout = 60s;
  sc.random_read_split = *rc::gen::arbitrary<bool>();
  const int n = *rc::gen::inRange(1, 10);
  const bool fbt = sc.backend_template.first_byte_timeout.count() > 0;
  const bool idle = sc.backend_template.stream_idle_timeout.count() > 0;
  for (int i = 0; i < n; ++i) {
    ClientRequest r;
    r.at = std::chrono::milliseconds(*rc::gen::inRange(0, 1500));
    r.stream = *rc::gen::arbitrary<bool>();
    r.ask_usage = r.stream && *rc::gen::arbitrary<bool>();
    r.prompt_words = *rc::gen::inRange(1, 200);
    r.fault = *gen_fault(fbt, idle);
    const int cancel = *rc::gen::inRange(0, 6);
    if (cancel == 0) r.cancel_after_bytes = *rc::gen::inRange<std::size_t>(1, 2000);
    if (cancel == 1) r.cancel_after = std::chrono::milliseconds(*rc::gen::inRange(1, 400));
    // Bound every client so a hang without timeouts cannot block the run.
    if (!r.cancel_after) r.cancel_after = 10min;
    sc.requests.push_back(std::move(r));
  }
  return sc;
}


// ---- the property -------------------------------------------------------------

void check_run(const Scenario& sc) {
  RC_TAG(sc.requests.size());
  const SimOutcome out = run_gateway_sim(sc);
  RC_LOG() << describe(sc);
  const Violations v = check_invariants(sc, out);
  RC_LOG() << describe(v);
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
  sc.backends = 2;
  sc.backend_template.first_byte_timeout = 500ms;
  sc.backend_template.stream_idle_timeout = 300ms;
  for (int i = 0; i < 6; ++i) {
    ClientRequest r;
    r.at = std::chrono::milliseconds(i * 10);
    r.stream = i % 2 == 0;
    r.fault = i == 3 ? "reset_after=2" : "";
    sc.requests.push_back(r);
  }
  const auto a = run_gateway_sim(sc);
  const auto b = run_gateway_sim(sc);
  EXPECT_EQ(a.event_log_hash, b.event_log_hash);
  EXPECT_EQ(a.records.size(), 6u);
}

}  // namespace
}  // namespace llmproxy::harness
