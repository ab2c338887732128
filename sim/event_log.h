// The simulator's event log: an append-only record of what happened, when and
// where. The world, the simulated network and the harness append to it; its
// stable text rendering and hash are how a run is compared with another run
// of the same seed (--check-determinism) and how a failure is explained.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/time.h"
#include "proxy/core/util/fnv1a.h"

namespace llmproxy::sim {

class World;
struct WorldOptions;

struct LogRecord {
  TimePoint at;
  std::string host;    // simulated host ("gateway", "backend-1"), or "world"
  std::string kind;    // short verb: "connect", "fin", "fault", ...
  std::string detail;  // free text; must itself be deterministic
};

class EventLog {
 public:
  // With keep_records == false only the hash and count are kept (long runs).
  explicit EventLog(bool keep_records = true) : keep_records_(keep_records) {}

  void add(TimePoint at, std::string_view host, std::string_view kind, std::string detail);

  // Per-write/per-delivery records are useful for divergence hunting but
  // dominate long runs; lifecycle records (connect, close, faults) always stay.
  void set_data_events(bool on) { data_events_ = on; }
  bool data_events() const { return data_events_; }

  const std::vector<LogRecord>& records() const { return records_; }
  std::size_t size() const { return count_; }
  bool keeps_records() const { return keep_records_; }

  // FNV-1a 64 over the rendering of every record, in order.
  std::uint64_t hash() const { return hash_; }

  // One line per record: "<seconds>.<nanoseconds> <host> <kind> <detail>\n".
  static std::string render(const LogRecord& record);
  std::string render() const;

 private:
  bool keep_records_;
  bool data_events_ = true;
  std::size_t count_ = 0;
  std::uint64_t hash_ = util::kFnv1aOffset;
  std::vector<LogRecord> records_;
};

// Result of running one scenario twice with the same seed.
struct DeterminismReport {
  bool deterministic = true;
  std::uint64_t hash_first = 0, hash_second = 0;
  std::size_t records_first = 0, records_second = 0;
  std::optional<std::size_t> first_divergence;  // index of the first differing record
  std::string line_first, line_second;          // the differing lines ("<end of log>" if absent)

  // Human-readable summary for the CLI and test failures.
  std::string describe() const;
};

// Runs `scenario` on two fresh worlds built from `options` (same seed) and
// compares their event logs record by record. The scenario drives the world
// itself (spawn coroutines, run_until...). Exceptions propagate.
DeterminismReport check_determinism(const WorldOptions& options,
                                    const std::function<void(World&)>& scenario);

// Renders a 64-bit hash as 16 hex digits.
std::string hex64(std::uint64_t value);

}  // namespace llmproxy::sim
