// Runs one scenario file against one gateway configuration for one seed in
// the simulator (the real request path, fake backends on the config's
// backend addresses) and judges the run: the always-on invariants
// (harness/checks.h) and the scenario's expectations. The measurements are
// kept for the report and for --baseline comparisons.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conformance/harness/gateway_sim.h"
#include "conformance/scenario/scenario_file.h"
#include "proxy/server/gateway.h"
#include "proxy/shell/shell_config.h"

namespace llmproxy::conform {

struct Failure {
  std::string check;       // the invariant or expectation key
  std::string request_id;  // "" for run-wide ones
  std::string detail;
};

// What a run measured (times relative to the run's start).
struct RunMetrics {
  std::size_t requests = 0;
  std::size_t ok = 0;                            // successes: 2xx relayed to the end
  std::map<int, std::size_t> status;             // client-visible status (0 = none)
  std::map<std::string, std::size_t> served_by;  // successes by backend name
  std::map<std::string, std::size_t> upstream_by_backend;  // upstream requests by backend name
  std::size_t upstream_429 = 0;
  std::uint32_t max_attempts = 0;
  std::vector<Duration> latencies;               // client latency, sorted
  Duration p50{0}, p99{0}, max{0};
  std::optional<Duration> failover;   // worst time from an outage's start until requests succeed
  std::optional<Duration> recovery;   // worst time from an outage's end until that backend serves again

  // Sums `other` in (another seed of the same scenario).
  void add(const RunMetrics& other);

  double error_rate() const { return requests ? 1.0 - static_cast<double>(ok) / static_cast<double>(requests) : 0; }
};

struct CaseResult {
  std::string scenario;  // the scenario's name
  std::string scenario_path;
  std::uint64_t seed = 0;
  std::vector<Failure> failures;
  RunMetrics metrics;
  std::string trace;  // attempt trace of the first failing request ("" if none)

  bool passed() const { return failures.empty(); }
};

// Builds the harness scenario (exposed for tests). Scenario backend keys
// that match no backend of `gateway` are reported in `problems`.
harness::Scenario build_scenario(const ScenarioFile& file, const shell::ShellConfig& gateway,
                                 std::uint64_t seed, std::vector<std::string>& problems);

// The harness scenario run_case(file, gateway, seed, reload_to) runs
// (exposed for tests: a kept case must build back into the run it came from).
harness::Scenario build_scenario(const ScenarioFile& file,
                                 const std::shared_ptr<const server::Gateway>& gateway,
                                 std::uint64_t seed,
                                 const std::shared_ptr<const server::Gateway>& reload_to,
                                 std::vector<std::string>& problems);

// Runs `file` for `seed` against bare runtime settings (no modules; for
// tests). A scenario that needs a built config (reload, shared_limiter)
// does not fit.
CaseResult run_case(const ScenarioFile& file, const shell::ShellConfig& gateway, std::uint64_t seed);

// Runs `file` for `seed` against a config built through the composition
// root, as serve builds it: each gateway instance one process whose
// `workers` (the scenario's, else the config's server.workers, at least 1)
// share its state; a Redis rate-limit store against a fake Redis at its
// address (harness/sim_redis.h); the scenario's `reload:` to `reload_to`
// (built from the config it names; null when it has none);
// `shared_limiter:` with the config's rate limits.
CaseResult run_case(const ScenarioFile& file, const std::shared_ptr<const server::Gateway>& gateway,
                    std::uint64_t seed,
                    const std::shared_ptr<const server::Gateway>& reload_to = nullptr);

// Judges a finished run (exposed for tests).
CaseResult judge(const ScenarioFile& file, const harness::Scenario& sc, const harness::SimOutcome& out);

// The index of the gateway backend a scenario key (name or URL) means, or
// gateway.backends.size().
std::size_t find_backend(const shell::ShellConfig& gateway, const std::string& key);

}  // namespace llmproxy::conform
