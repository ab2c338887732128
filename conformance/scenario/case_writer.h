// Keeps a failing simulation case: writes a harness::Scenario (generated
// backends, per-request faults and cancels) as a config file and a scenario
// file that `llmproxy conform` replays as the same case — same backends and
// timeouts, same fake profile, the same requests one by one
// (`workload.each`), the same seed (`seed:`). A property that fails calls it
// on every failing run, so after shrinking the files hold the shrunk case;
// copy them into conformance/scenarios/ (and the config into examples/) to
// keep it in CI. docs/simulator.md, "When a property fails".
#pragma once

#include <optional>
#include <string>

#include "conformance/harness/gateway_sim.h"

namespace llmproxy::conform {

struct KeptCase {
  std::string config_path;
  std::string scenario_path;
};

// The two files' texts (the scenario's `config:` names `config_file`).
std::string case_config_yaml(const harness::Scenario& sc);
std::string case_scenario_yaml(const harness::Scenario& sc, const std::string& name,
                               const std::string& config_file, const std::string& why);

// Writes <dir>/<name>.config.yaml and <dir>/<name>.yaml; nullopt (and
// `error`) when they cannot be written. The folder is made if missing.
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
