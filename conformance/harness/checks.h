// The invariants the harness checks over one simulated run (DESIGN.md,
// "Invariants the harness checks"), as data: each violation names the
// invariant and the request it concerns, so a property test, `llmproxy-sim`
// and (later) `llmproxy conform` report the same thing.
#pragma once

#include <string>
#include <vector>

#include "conformance/harness/gateway_sim.h"

namespace llmproxy::harness {

struct Violation {
  std::string request_id;  // "" for run-wide invariants
  std::string invariant;
  std::string detail;
};
using Violations = std::vector<Violation>;

// Every request ends exactly once; client bytes equal upstream bytes (minus
// the usage chunk the gateway injected); a broken stream never ends in
// [DONE]; timeouts end attempts exactly at their deadline; no upstream
// connection outlives its request; no backend keeps generating for a client
// that went away.
Violations check_invariants(const Scenario& sc, const SimOutcome& out);

std::string describe(const Violations& v);

}  // namespace llmproxy::harness
