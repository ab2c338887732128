// A request's attempt trace for failure reports: what the client saw, what
// the gateway recorded, and every upstream exchange the harness tapped
// (backend, times, status, how it ended), times relative to the run's start.
#pragma once

#include <string>

#include "conformance/harness/gateway_sim.h"

namespace llmproxy::conform {

std::string attempt_trace(const harness::Scenario& sc, const harness::SimOutcome& out,
                          const std::string& request_id);

}  // namespace llmproxy::conform
