// SIGTERM drain with several workers (issue #11 item 6), in the simulator:
// the gateway is built from a config through the composition root exactly
// as serve builds it (server.workers workers on one host, each with its own
// env and reuse_port listener, sharing health board, admission budget,
// in-process limiter), and drained through the same steps as serve's
// signal handler (proxy/server/drain.h). Drawn uniformly: workers 1-4, the
// drain's time and deadline, the workload (streams or not, clients whose
// request straddles the drain, /ready probes). Judged from the clients'
// bytes (checks.h, check_drain):
//   - in-flight requests and streams finish (or are cut at the deadline);
//   - connections opened after the drain are refused; answers to requests
//     that arrived after it say Connection: close; /ready answers 503;
//   - the drain ends within a poll of its last connection, by its deadline;
//   - every invariant of the request path still holds;
//   - the global rate limit holds over all workers together (one limiter).
// A failing case is kept as a scenario file (the path and the replay
// command are printed) and RC_PARAMS="reproduce=…" replays it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "conformance/harness/checks.h"
#include "conformance/harness/composition.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/random_scenario.h"
#include "conformance/harness/uniform_gen.h"
#include "conformance/scenario/case_writer.h"

namespace llmproxy::harness {
namespace {

Duration ms(std::int64_t v) { return std::chrono::milliseconds(v); }

ClientRequest gen_client() {
  ClientRequest q;
  q.at = ms(*uniform(0, 3000));
  q.stream = *coin();
  q.ask_usage = q.stream && *coin();
  q.prompt_words = *uniform(1, 100);
  q.cancel_after = std::chrono::minutes(10);  // bounds every client
  if (*uniform(0, 3) == 0) {
    q.split_at = *uniform<std::size_t>(0, 80);  // 0: an idle connection
    q.split_pause = ms(*uniform(1, 1000));
  }
  if (*uniform(0, 4) == 0) {
    q.method = "GET";
    q.path = "/ready";
  }
  return q;
}

// At most burst + rate × span admitted between the first and the last
// admitted arrival, over every worker: the workers share one limiter.
void check_global_limit(const Scenario& sc, const SimOutcome& out, const ConfigKnobs& k) {
  std::vector<TimePoint> admitted;
  for (std::size_t i = 0; i < out.clients.size(); ++i) {
    const auto& c = out.clients[i];
    if (sc.requests[i].path == "/ready" || c.response.status == 0 || c.response.status == 429)
      continue;
    admitted.push_back(c.sent + sc.latency);
  }
  if (admitted.empty()) return;
  std::sort(admitted.begin(), admitted.end());
  const double span = to_seconds(admitted.back() - admitted.front());
  RC_LOG() << admitted.size() << " admitted over " << span << " s\n";
  RC_ASSERT(static_cast<double>(admitted.size()) <= k.global_burst + k.global_rps * span + 1e-9);
}

RC_GTEST_PROP(DrainSim, InFlightFinishNewAreRefusedReadyAnswers503, ()) {
  ConfigKnobs k;
  k.backends = *uniform(1, 4);
  k.workers = *uniform(1, 5);
  k.drain_timeout = ms(*uniform(0, 3000));
  k.global_rps = *uniform(1, 20);
  k.global_burst = *uniform(1, 10);
  Scenario sc;
  sc.seed = *uniform<std::uint64_t>(1, 1u << 30);
  sc.config_yaml = gateway_yaml(k);
  use_gateway(sc, simulated_gateway(sc.config_yaml, "drain.yaml"));
  sc.backends = k.backends;
  sc.profile.ttft = ms(*uniform(0, 300));
  sc.profile.itl = ms(*uniform(0, 100));
  sc.profile.output_tokens = *uniform<std::uint32_t>(1, 40);
  sc.random_read_split = *coin();
  sc.drain_at = ms(*uniform(0, 2000));
  const int n = *uniform(1, 17);
  for (int i = 0; i < n; ++i) sc.requests.push_back(gen_client());
  RC_TAG("workers=" + std::to_string(k.workers));

  const SimOutcome out = run_gateway_sim(sc);
  RC_LOG() << describe(sc);
  Violations v = check_invariants(sc, out);
  RC_CLASSIFY(!out.drains.empty() && out.drains.front().open_at_close > 0, "deadline cut sessions");
  RC_LOG() << describe(v);
  if (!v.empty()) RC_LOG() << conform::keep_failing_case(sc, "drain-failure", v.front().invariant);
  RC_ASSERT(v.empty());
  RC_ASSERT(out.sessions_failed == 0u);
  check_global_limit(sc, out, k);
}

}  // namespace
}  // namespace llmproxy::harness
