// Scenarios drawn from one seed (llmproxy::Rng), for `llmproxy-sim --seed S`:
// random backends' profiles, timeouts, workload, faults and client cancels.
// The RapidCheck property draws the same shapes through its own generators
// (so it can shrink); this one makes a failing seed replayable by number.
#pragma once

#include <cstdint>
#include <string>

#include "conformance/harness/gateway_sim.h"

namespace llmproxy::harness {

// What a seed runs (seed % kScenarioKinds), so every stretch of seeds, and
// --check-determinism and scripts/check-determinism over them, covers each:
//   basic    generated backends; retries, health checks and in-process rate
//            limits each in about half the seeds (one worker);
//   workers  a config built through the composition root (as serve builds
//            it) with 2-4 workers sharing health, admission and limiter;
//   redis    the same with 1-4 workers and the rate limits on Redis: the
//            real store, client and scripts against the fake Redis;
//   drain    1-4 workers and a SIGTERM drain during the workload (some
//            clients straddle it, some ask /ready);
//   reload   1-4 workers and a SIGHUP reload during the workload to a
//            second drawn config (backends kept or fewer, retries, health
//            checks and rate limits redrawn; timeouts kept, since the
//            checkers judge timeouts by the first config).
// Faults (uniform over the kinds the scenario can end) and client cancels
// in every kind.
enum class ScenarioKind { basic, workers, redis, drain, reload };
inline constexpr int kScenarioKinds = 5;
ScenarioKind scenario_kind(std::uint64_t seed);
const char* scenario_kind_name(ScenarioKind k);

Scenario random_scenario(std::uint64_t seed, int max_requests = 9);

// One line of settings plus one line per request.
std::string describe(const Scenario& sc);

}  // namespace llmproxy::harness
