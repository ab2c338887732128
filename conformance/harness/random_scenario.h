// Scenarios drawn from one seed (llmproxy::Rng), for `llmproxy-sim --seed S`:
// random backends' profiles, timeouts, workload, faults and client cancels.
// The RapidCheck property draws the same shapes through its own generators
// (so it can shrink); this one makes a failing seed replayable by number.
#pragma once

#include <cstdint>
#include <string>

#include "conformance/harness/gateway_sim.h"

namespace llmproxy::harness {

Scenario random_scenario(std::uint64_t seed, int max_requests = 9);

// One line of settings plus one line per request.
std::string describe(const Scenario& sc);

}  // namespace llmproxy::harness
