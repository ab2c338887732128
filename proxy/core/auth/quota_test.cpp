// Quota periods in UTC and the refusal line.
#include "proxy/core/auth/quota.h"

#include <gtest/gtest.h>

#include "proxy/core/util/timestamp.h"

namespace {

using namespace llmproxy;
using auth::Quota;
using config::QuotaPeriod;

WallTime at(const char* rfc3339) { return *util::parse_timestamp(rfc3339).value; }

TEST(QuotaPeriods, StartAtUtcMidnightMondayAndTheFirst) {
  // 2026-12-09 is a Wednesday.
  const WallTime now = at("2026-12-09T15:04:05Z");
  EXPECT_EQ(auth::period_start(QuotaPeriod::daily, now), at("2026-12-09T00:00:00Z"));
  EXPECT_EQ(auth::period_start(QuotaPeriod::weekly, now), at("2026-12-07T00:00:00Z"));
  EXPECT_EQ(auth::period_start(QuotaPeriod::monthly, now), at("2026-12-01T00:00:00Z"));
  EXPECT_FALSE(auth::period_start(QuotaPeriod::never, now));
  // A Monday and a Sunday belong to the week that began on that Monday.
  EXPECT_EQ(auth::period_start(QuotaPeriod::weekly, at("2026-12-07T00:00:00Z")), at("2026-12-07T00:00:00Z"));
  EXPECT_EQ(auth::period_start(QuotaPeriod::weekly, at("2026-12-13T23:59:59Z")), at("2026-12-07T00:00:00Z"));
  // Across a year and a leap day.
  EXPECT_EQ(auth::period_start(QuotaPeriod::weekly, at("2027-01-01T12:00:00Z")), at("2026-12-28T00:00:00Z"));
  EXPECT_EQ(auth::period_start(QuotaPeriod::monthly, at("2028-02-29T23:00:00Z")), at("2028-02-01T00:00:00Z"));
  // Before 1970 the arithmetic still floors (not truncates) to the day.
  EXPECT_EQ(auth::period_start(QuotaPeriod::daily, at("1969-12-31T23:00:00Z")), at("1969-12-31T00:00:00Z"));
}

TEST(QuotaPeriods, UsageOfAnEarlierPeriodCountsAsZero) {
  Quota q;
  q.total = 100;
  q.used = 100;
  q.period = QuotaPeriod::monthly;
  q.counted_since = at("2026-11-01T00:00:00Z");
  EXPECT_EQ(auth::used_now(q, at("2026-11-30T23:59:59Z")), 100);
  EXPECT_TRUE(auth::exhausted(q, at("2026-11-30T23:59:59Z")));
  EXPECT_EQ(auth::used_now(q, at("2026-12-01T00:00:00Z")), 0);
  EXPECT_FALSE(auth::exhausted(q, at("2026-12-01T00:00:00Z")));
  q.period = QuotaPeriod::never;
  EXPECT_TRUE(auth::exhausted(q, at("2030-01-01T00:00:00Z")));
}

TEST(QuotaLine, RefusedAtTotalCountingPendingAndUnlimitedAtZero) {
  Quota q;
  q.total = 100;
  q.used = 89;
  const WallTime now = at("2026-12-09T00:00:00Z");
  EXPECT_FALSE(auth::exhausted(q, now));
  EXPECT_FALSE(auth::exhausted(q, now, 10));  // 99: one token left
  EXPECT_TRUE(auth::exhausted(q, now, 11));   // 100: used up
  q.total = 0;
  q.used = 1'000'000;
  EXPECT_FALSE(auth::exhausted(q, now, 1'000'000));
}

}  // namespace
