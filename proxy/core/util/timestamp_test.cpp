#include "proxy/core/util/timestamp.h"

#include <gtest/gtest.h>

using namespace llmproxy;
using namespace llmproxy::util;

namespace {
std::int64_t unix_seconds(std::string_view s) {
  const auto r = parse_timestamp(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.error;
  return r.ok() ? std::chrono::duration_cast<std::chrono::seconds>(r->time_since_epoch()).count() : -1;
}
}  // namespace

TEST(Timestamp, UnixSeconds) {
  EXPECT_EQ(unix_seconds("0"), 0);
  EXPECT_EQ(unix_seconds("1767225600"), 1767225600);
  EXPECT_EQ(parse_timestamp("999999999999")->time_since_epoch(), WallTime::max().time_since_epoch());
  EXPECT_FALSE(parse_timestamp("1000000000000"));  // 13 digits
  EXPECT_FALSE(parse_timestamp("-1"));
  EXPECT_FALSE(parse_timestamp("1.5"));
  EXPECT_FALSE(parse_timestamp(""));
}

TEST(Timestamp, Rfc3339) {
  EXPECT_EQ(unix_seconds("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(unix_seconds("2026-01-01T00:00:00Z"), 1767225600);
  EXPECT_EQ(unix_seconds("2026-01-01t00:00:00z"), 1767225600);
  EXPECT_EQ(unix_seconds("2026-01-01 00:00:00Z"), 1767225600);
  EXPECT_EQ(unix_seconds("2026-01-01T01:30:00+01:30"), 1767225600);
  EXPECT_EQ(unix_seconds("2025-12-31T22:00:00-02:00"), 1767225600);
  EXPECT_EQ(unix_seconds("2024-02-29T12:00:00Z"), 1709208000);  // leap day
  EXPECT_EQ(unix_seconds("2000-02-29T00:00:00Z"), 951782400);   // 400-year leap
  EXPECT_EQ(unix_seconds("1969-12-31T23:59:59Z"), -1);
  EXPECT_EQ(unix_seconds("2262-04-10T00:00:00Z"), 9223200000);
  EXPECT_EQ(*parse_timestamp("9999-12-31T23:59:59Z"), WallTime::max());
  EXPECT_EQ(*parse_timestamp("0000-01-01T00:00:00Z"), WallTime::min());
}

TEST(Timestamp, Fraction) {
  const auto r = parse_timestamp("2026-01-01T00:00:00.123456789999Z");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r->time_since_epoch(), std::chrono::seconds(1767225600) + std::chrono::nanoseconds(123456789));
  EXPECT_FALSE(parse_timestamp("2026-01-01T00:00:00.Z"));
}

TEST(Timestamp, RefusesWhatTheCalendarDoesNotHave) {
  for (auto bad : {"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
                   "2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
                   "2026-01-01T23:59:60Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00+1:00",
                   "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+01:60", "2026-01-01X00:00:00Z",
                   "2026-1-01T00:00:00Z", "2026-01-01T00:00:00ZZ", "tomorrow", "2026-01-01"}) {
    const auto r = parse_timestamp(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error.find("RFC 3339"), std::string::npos);
    }
  }
}
