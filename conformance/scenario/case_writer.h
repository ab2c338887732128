// Keeps a failing simulation case: writes a harness::Scenario (generated
// backends, per-request faults and cancels) as a config file and a scenario
// file that `llmproxy conform` replays as the same case — same backends and
// timeouts, same fake profile, the same requests one by one
// (`workload.each`, with their methods, paths, headers, split and pipelined
// sends), the same seed (`seed:`), workers and gateway instances, drain,
// reload (a third file: the config it loads) and shared rate limits. A
// property that fails calls it on every failing run, so after shrinking the
// files hold the shrunk case; copy them into conformance/scenarios/ (and the
// configs into examples/) to keep it in CI. docs/simulator.md, "When a
// property fails".
#pragma once

#include <optional>
#include <string>

#include "conformance/harness/gateway_sim.h"

namespace llmproxy::conform {

struct KeptCase {
  std::string config_path;
  std::string scenario_path;
  std::string reload_config_path;  // "" when the case does not reload
};

// The files' texts: the config, and the scenario whose `config:` names
// `config_file` and whose `reload:` (when the case reloads to a config it
// has the text of, Scenario::reload_config_yaml) names `reload_file`.
std::string case_config_yaml(const harness::Scenario& sc);
std::string case_scenario_yaml(const harness::Scenario& sc, const std::string& name,
                               const std::string& config_file, const std::string& why,
                               const std::string& reload_file = "");

// Writes <dir>/<name>.config.yaml, <dir>/<name>.yaml and, for a reload,
// <dir>/<name>.reload.yaml; nullopt (and `error`) when they cannot be
// written. The folder is made if missing.
std::optional<KeptCase> keep_case(const harness::Scenario& sc, const std::string& dir,
                                  const std::string& name, const std::string& why,
                                  std::string& error);

// The one call every simulation property makes when a case fails: keeps
// it (keep_case, in kept_cases_dir(), as `name`) and returns the lines to
// print: where the files are and the one command that replays the case.
// Called on every failing run, so after shrinking the files hold the
// shrunk case. `why`: the first violated invariant.
std::string keep_failing_case(const harness::Scenario& sc, const std::string& name,
                              const std::string& why);

// Where a failing property keeps its case: $LLMPROXY_KEEP_CASES, else
// "failed-cases" under the current folder.
std::string kept_cases_dir();

}  // namespace llmproxy::conform
