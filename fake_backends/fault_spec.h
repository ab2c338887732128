// Fault specs for the fake backend: what to break, and when.
//
// One text syntax serves the command line (--fault), scenario configs and the
// per-request header `x-fake-fault`, so a test can pick the failure it wants.
// A spec is a comma-separated list of items `key` or `key=value`, e.g.
//   status=429,retry_after=2            stall_after=3,for=2s
//   from=10s,to=20s,down                 health=down
// See fake_backends/README.md for every key. Parsing is pure and strict: an
// unknown key, a duplicate, a bad value or an inconsistent combination is
// rejected with a message that names the offending item.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/time.h"

namespace llmproxy::fake {

// How GET /health answers, independently of the inference endpoints, so a
// "gray failure" (completions work, health fails, or the reverse) can be set.
enum class HealthMode : std::uint8_t { unset, up, down, hang };

struct FaultSpec {
  // Answer inference requests with this HTTP status and an OpenAI error body.
  std::optional<int> status;
  std::optional<int> retry_after_s;  // Retry-After header (seconds), with status
  std::string code;                  // error.code in the body, with status
  bool reset_before_headers = false;  // read the request, then RST
  bool hang = false;                  // read the request, never answer
  std::optional<std::uint32_t> reset_after;  // K tokens, then RST
  std::optional<std::uint32_t> stall_after;  // K tokens, then silence ...
  Duration stall_for{0};                     // ... for this long, then go on
  std::optional<std::uint32_t> malformed_at;  // SSE event of token K is bad JSON
  bool no_done = false;                       // end cleanly without [DONE]
  Duration slow_headers{0};                   // delay before the status line
  HealthMode health = HealthMode::unset;
  // Probability that the spec applies to a given request (1 = always).
  double probability = 1.0;
  // Per-request profile overrides (handy for tests).
  std::optional<Duration> ttft;
  std::optional<Duration> itl;
  std::optional<std::uint32_t> tokens;

  // True when nothing would change the server's normal behaviour.
  bool empty() const;
  bool operator==(const FaultSpec&) const = default;
};

// A fault active in [from, to) relative to the server's start time.
struct FaultWindow {
  Duration from{0};
  Duration to = Duration::max();
  FaultSpec spec;

  bool active_at(Duration since_start) const { return since_start >= from && since_start < to; }
  bool operator==(const FaultWindow&) const = default;
};

// Parses a spec (no from/to allowed). On failure returns false and sets
// `error` to a one-line explanation; `out` is then unspecified.
bool parse_fault_spec(std::string_view text, FaultSpec& out, std::string& error);

// Parses a spec that may carry `from=` and `to=` (a timeline window; both
// optional: from defaults to 0, to to forever).
bool parse_fault_window(std::string_view text, FaultWindow& out, std::string& error);

// The text parse_fault_window() reads back into an equal window: the items
// in a fixed order, `from=` and `to=` only when they are not 0 and forever
// (so a whole-run window prints as a plain spec, which parse_fault_spec
// takes too), durations exact to the nanosecond (up to 2^53 ns, 104 days).
// Kept simulation cases write their backends' fault timelines with it
// (conformance/scenario/case_writer.cpp). `w` must be a window the parser
// could have made (stall_for only with stall_after, retry_after and code
// only with status); a default FaultSpec prints as "" (which no parser
// takes: an empty spec means no fault).
std::string print_fault_window(const FaultWindow& w);

// Parses "250ms", "2s", "1.5s", "500us", "1m", "0". Returns nullopt on error.
std::optional<Duration> parse_duration(std::string_view text);

// Lays `overlay` over `base`: every field the overlay sets wins.
void merge_fault(FaultSpec& base, const FaultSpec& overlay);

}  // namespace llmproxy::fake
