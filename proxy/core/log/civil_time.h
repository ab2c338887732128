// WallTime as a UTC calendar date and time of day, and back; for the text
// of log timestamps and rotated file names. Integer arithmetic with floor
// division on the nanosecond count, so every representable WallTime works
// (years 1677–2262), including the extremes a fuzzer feeds in. UTC only: log
// files never depend on the host's time zone.
#pragma once

#include <cstdint>
#include <optional>

#include "proxy/core/time.h"

namespace llmproxy::log {

struct CivilTime {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  std::uint32_t nanos = 0;
};

CivilTime to_civil(WallTime t);

// nullopt unless the fields name a real UTC date and time (no leap
// seconds) that a WallTime can hold.
std::optional<WallTime> from_civil(const CivilTime& c);

}  // namespace llmproxy::log
