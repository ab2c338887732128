// Rotated file names, periods and ages (proxy/core/log/rotation.h), and the
// UTC calendar conversion under them (civil_time.h).
#include "proxy/core/log/rotation.h"

#include <gtest/gtest.h>

#include "proxy/core/log/civil_time.h"

namespace llmproxy::log {
namespace {

using namespace std::chrono_literals;
using config::Rotate;

WallTime at(int y, unsigned mo, unsigned d, unsigned h = 0, unsigned mi = 0, unsigned s = 0, std::uint32_t ns = 0) {
  return *from_civil(CivilTime{y, mo, d, h, mi, s, ns});
}

TEST(CivilTime, RoundTripsAndRejects) {
  const WallTime t = at(2024, 2, 29, 23, 59, 58, 999'999'999);
  const CivilTime c = to_civil(t);
  EXPECT_EQ(c.year, 2024);
  EXPECT_EQ(c.month, 2u);
  EXPECT_EQ(c.day, 29u);
  EXPECT_EQ(c.hour, 23u);
  EXPECT_EQ(c.minute, 59u);
  EXPECT_EQ(c.second, 58u);
  EXPECT_EQ(c.nanos, 999'999'999u);
  EXPECT_EQ(at(1970, 1, 1), WallTime{});
  EXPECT_EQ(to_civil(WallTime(-1ns)).year, 1969);
  EXPECT_EQ(to_civil(WallTime(-1ns)).nanos, 999'999'999u);
  EXPECT_FALSE(from_civil({2023, 2, 29}));
  EXPECT_FALSE(from_civil({2024, 13, 1}));
  EXPECT_FALSE(from_civil({2024, 1, 1, 24}));
  EXPECT_FALSE(from_civil({2024, 1, 1, 0, 60}));
  EXPECT_FALSE(from_civil({2024, 1, 1, 0, 0, 60}));
  EXPECT_FALSE(from_civil({9999, 1, 1}));
  EXPECT_FALSE(from_civil({2262, 4, 12}));  // past WallTime::max()
  EXPECT_TRUE(from_civil({2262, 4, 11}));
  EXPECT_FALSE(from_civil({1677, 9, 21}));  // before WallTime::min()
  EXPECT_TRUE(from_civil({1677, 9, 22}));
  for (const WallTime t2 : {WallTime::min(), WallTime::max(), WallTime{}, t}) {
    const auto back = from_civil(to_civil(t2));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, t2);
  }
}

TEST(Rotation, PeriodStart) {
  const WallTime t = at(2024, 5, 1, 13, 45, 7, 5);
  EXPECT_EQ(period_start(Rotate::daily, t), at(2024, 5, 1));
  EXPECT_EQ(period_start(Rotate::hourly, t), at(2024, 5, 1, 13));
  EXPECT_EQ(period_start(Rotate::size, t), t);
  EXPECT_EQ(period_start(Rotate::daily, WallTime(-1ns)), at(1969, 12, 31));
  EXPECT_EQ(period_start(Rotate::daily, WallTime::min()), WallTime::min());
}

TEST(Rotation, Names) {
  const WallTime t = at(2024, 5, 1, 13, 45, 7, 123);
  EXPECT_EQ(rotated_name("/var/log/access.log", Rotate::daily, t), "/var/log/access.log.2024-05-01");
  EXPECT_EQ(rotated_name("/var/log/access.log", Rotate::hourly, t), "/var/log/access.log.2024-05-01T13");
  EXPECT_EQ(rotated_name("/var/log/access.log", Rotate::size, t), "/var/log/access.log.2024-05-01T13-45-07");
  EXPECT_EQ(rotated_name("a.log", Rotate::size, t, 2), "a.log.2024-05-01T13-45-07.2");
}

TEST(Rotation, ParseNames) {
  const auto daily = parse_rotated_name("access.log.2024-05-01", "access.log");
  ASSERT_TRUE(daily);
  EXPECT_EQ(daily->closed_at, at(2024, 5, 2));
  EXPECT_FALSE(daily->compressed);
  const auto hourly = parse_rotated_name("access.log.2024-05-01T13.gz", "access.log");
  ASSERT_TRUE(hourly);
  EXPECT_EQ(hourly->closed_at, at(2024, 5, 1, 14));
  EXPECT_TRUE(hourly->compressed);
  const auto size = parse_rotated_name("access.log.2024-05-01T13-45-07.3.gz", "access.log");
  ASSERT_TRUE(size);
  EXPECT_EQ(size->closed_at, at(2024, 5, 1, 13, 45, 7));
  EXPECT_TRUE(size->compressed);
  EXPECT_TRUE(parse_rotated_name("access.log.2024-05-01.12", "access.log"));

  for (const char* other : {"access.log", "access.log.", "access.log.gz", "access.log.2024-05-01.gz.tmp",
                            "access.log.2024-5-01", "access.log.2024-05-01T1", "access.log.2024-02-30",
                            "access.log.2024-05-01T24", "access.log.2024-05-01T13-60-00", "access.log.2024-05-01.",
                            "access.log.2024-05-01.x", "access.log.2024-05-01.1.2", "access.logX2024-05-01",
                            "error.log.2024-05-01", "access.log.2024-05-01T13:45:07", "xaccess.log.2024-05-01"})
    EXPECT_FALSE(parse_rotated_name(other, "access.log")) << other;
  // The base name may itself hold dots and stamps.
  EXPECT_TRUE(parse_rotated_name("a.b.log.2024-05-01", "a.b.log"));
  EXPECT_FALSE(parse_rotated_name("a.b.log.2024-05-01", "a.b"));
}

TEST(Rotation, NamesParseBack) {
  for (const Rotate r : {Rotate::daily, Rotate::hourly, Rotate::size}) {
    const WallTime t = at(2031, 12, 31, 23, 59, 59);
    const std::string name = rotated_name("x.log", r, period_start(r, t), 4);
    const auto f = parse_rotated_name(name, "x.log");
    ASSERT_TRUE(f) << name;
    EXPECT_EQ(f->closed_at, r == Rotate::daily ? at(2032, 1, 1) : r == Rotate::hourly ? at(2032, 1, 1) : t) << name;
  }
}

TEST(Rotation, Expiry) {
  const WallTime closed = at(2024, 5, 2);
  EXPECT_FALSE(expired(closed, 24h * 7, closed + 24h * 7));
  EXPECT_TRUE(expired(closed, 24h * 7, closed + 24h * 7 + 1ns));
  EXPECT_FALSE(expired(closed, Duration::zero(), closed + 24h * 10000));  // 0 keeps forever
  EXPECT_FALSE(expired(closed, 24h, WallTime::min()));
  EXPECT_TRUE(expired(WallTime::min(), 24h, WallTime::max()));
}

TEST(Rotation, ConfigUnits) {
  config::LogFileConfig f;
  f.max_size = 100;
  f.max_age = 7;
  EXPECT_EQ(max_size_bytes(f), 100'000'000u);
  EXPECT_EQ(max_age(f), 24h * 7);
  f.max_age = 0;
  EXPECT_EQ(max_age(f), Duration::zero());
  f.max_age = 2'000'000'000;
  EXPECT_EQ(max_age(f), Duration::zero());
}

}  // namespace
}  // namespace llmproxy::log
