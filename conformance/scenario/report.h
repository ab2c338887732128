// What `llmproxy conform` prints and writes: the pass/fail table, a failure's
// explanation with its replay command, JUnit XML for CI, and the behavioural
// diff between two configs run on the same scenarios and seeds.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "conformance/scenario/scenario_run.h"

namespace llmproxy::conform {

// One scenario's runs (one per seed) against one config.
struct ScenarioRuns {
  std::string name;
  std::string path;
  std::vector<CaseResult> cases;
  // The command that replays `seed` (set by the caller, who knows the CLI).
  std::function<std::string(std::uint64_t seed)> replay;

  bool passed() const;
  const CaseResult* first_failure() const;
  RunMetrics total() const;  // metrics summed over the seeds
};

// scenario | seeds | requests | result | first failure
std::string format_table(const std::vector<ScenarioRuns>& runs);
// The first failing seed of a scenario: every failure of that run, the
// failing request's attempt trace and the one command that replays it.
std::string format_failure(const ScenarioRuns& runs);
std::string junit_xml(const std::vector<ScenarioRuns>& runs, const std::string& suite_name);
// Per scenario: error rate, per-backend share, failover and recovery time,
// 429s, p50/p99 latency of `baseline` (old config) and `current` (new),
// matched by scenario path.
std::string baseline_diff(const std::vector<ScenarioRuns>& baseline, const std::vector<ScenarioRuns>& current,
                          const std::string& baseline_config, const std::string& current_config);

}  // namespace llmproxy::conform
