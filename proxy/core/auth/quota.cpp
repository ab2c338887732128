#include "proxy/core/auth/quota.h"

#include <chrono>

namespace llmproxy::auth {

std::optional<WallTime> period_start(config::QuotaPeriod period, WallTime now) {
  using namespace std::chrono;
  const sys_days today = floor<days>(now);
  switch (period) {
    case config::QuotaPeriod::never:
      return std::nullopt;
    case config::QuotaPeriod::daily:
      return WallTime(today);
    case config::QuotaPeriod::weekly:
      // weekday::iso_encoding: Monday 1 … Sunday 7.
      return WallTime(today - days(weekday(today).iso_encoding() - 1));
    case config::QuotaPeriod::monthly: {
      const year_month_day ymd(today);
      return WallTime(sys_days(ymd.year() / ymd.month() / 1));
    }
  }
  return std::nullopt;
}

std::int64_t used_now(const Quota& q, WallTime now) {
  const auto start = period_start(q.period, now);
  return start && q.counted_since < *start ? 0 : q.used;
}

bool exhausted(const Quota& q, WallTime now, std::int64_t pending) {
  return q.limited() && used_now(q, now) + pending >= q.total;
}

}  // namespace llmproxy::auth
