#include "proxy/core/log/civil_time.h"

#include <chrono>
#include <limits>

namespace llmproxy::log {

CivilTime to_civil(WallTime t) {
  constexpr std::int64_t kNsPerSec = 1'000'000'000;
  const std::int64_t ns = t.time_since_epoch().count();
  std::int64_t secs = ns / kNsPerSec;
  std::int64_t sub = ns % kNsPerSec;
  if (sub < 0) {
    sub += kNsPerSec;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  CivilTime c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<unsigned>(ymd.month());
  c.day = static_cast<unsigned>(ymd.day());
  c.hour = static_cast<unsigned>(sod / 3600);
  c.minute = static_cast<unsigned>(sod / 60 % 60);
  c.second = static_cast<unsigned>(sod % 60);
  c.nanos = static_cast<std::uint32_t>(sub);
  return c;
}

std::optional<WallTime> from_civil(const CivilTime& c) {
  if (c.year < 1677 || c.year > 2262 || c.hour > 23 || c.minute > 59 || c.second > 59 || c.nanos > 999'999'999)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{c.year}, std::chrono::month{c.month},
                                        std::chrono::day{c.day}};
  if (!ymd.ok()) return std::nullopt;
  // Seconds cannot overflow for these years; nanoseconds can, at the ends
  // (and secs · 10⁹ alone can where adding the nanoseconds brings it back).
  const std::int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  const std::int64_t secs = days * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
  const __int128 ns = static_cast<__int128>(secs) * 1'000'000'000 + c.nanos;
  if (ns < std::numeric_limits<std::int64_t>::min() || ns > std::numeric_limits<std::int64_t>::max())
    return std::nullopt;
  return WallTime(Duration(static_cast<std::int64_t>(ns)));
}

}  // namespace llmproxy::log
