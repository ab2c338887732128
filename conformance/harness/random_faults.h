// The fault kinds a random scenario gives a request, shared by the seeded
// scenarios of `llmproxy-sim` (random_scenario.cpp) and the RapidCheck
// property (request_path_property_test.cpp), so both draw the same mix.
//
// Every kind the scenario can end is equally likely: `hang` needs a
// first-byte timeout and `stall_after` a stream idle timeout to end, so they
// are drawn only then. The kind is drawn first and its parameters after it,
// each uniformly in its range, never through a size-scaled range (in this
// RapidCheck `gen::inRange` scales with the test size, so the last kinds of
// a list came up ~0.5 % of the time; issue #11).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "proxy/core/random.h"

namespace llmproxy::harness {

enum class FaultKind : std::uint8_t {
  none,
  reset_after,           // reset after N events
  no_done,               // ends cleanly without [DONE]
  malformed_at,          // event N is not JSON
  status_500,
  status_400_context,    // 400 context_length_exceeded (not retryable)
  reset_before_headers,
  slow_headers,          // head after a delay
  hang,                  // never answers (needs a first-byte timeout)
  stall_after,           // stops after N events for a while (needs an idle timeout)
};
inline constexpr int kFaultKindCount = 10;
const char* fault_kind_name(FaultKind k);

// The kinds a scenario with these timeouts can end, in enum order.
std::span<const FaultKind> available_faults(bool first_byte_timeout, bool idle_timeout);

// The fake backend's fault spec (fake_backends/fault_spec.h) for one kind,
// its parameters drawn uniformly from `r`.
std::string fault_spec(FaultKind k, Rng& r);

// The kind a fault spec was made from (the inverse of fault_spec's naming).
FaultKind fault_kind_of(std::string_view spec);

}  // namespace llmproxy::harness
