#include "proxy/core/util/duration.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

using namespace std::chrono_literals;
using llmproxy::Duration;
using llmproxy::util::format_duration;
using llmproxy::util::parse_duration;

TEST(ParseDuration, GoSyntax) {
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("30s"), 30s);
  EXPECT_EQ(*parse_duration("1h30m"), 90min);
  EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(*parse_duration("0"), Duration::zero());
  EXPECT_EQ(*parse_duration("0s"), Duration::zero());
  EXPECT_EQ(*parse_duration("10us"), 10us);
  EXPECT_EQ(*parse_duration("10\xC2\xB5s"), 10us);
  EXPECT_EQ(*parse_duration("10\xCE\xBCs"), 10us);
  EXPECT_EQ(*parse_duration("7ns"), 7ns);
  EXPECT_EQ(*parse_duration("+2m"), 2min);
  EXPECT_EQ(*parse_duration(".5s"), 500ms);
  EXPECT_EQ(*parse_duration("1.s"), 1s);
  EXPECT_EQ(*parse_duration("1h1m1s1ms1us1ns"), 1h + 1min + 1s + 1ms + 1us + 1ns);
  EXPECT_EQ(*parse_duration("2562047h"), 2562047h);
}

TEST(ParseDuration, Rejects) {
  auto plain = parse_duration("30");
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error.find("add a unit, e.g. 30s"), std::string::npos) << plain.error;
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("1x"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("."));
  EXPECT_FALSE(parse_duration("1s2"));
  EXPECT_FALSE(parse_duration("1 s"));
  EXPECT_FALSE(parse_duration("3000000h"));
  EXPECT_FALSE(parse_duration("99999999999999999999s"));
  EXPECT_NE(parse_duration("5d").error.find("valid units"), std::string::npos);
}

TEST(FormatDuration, GoStyle) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(90min), "1h30m0s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(500ms), "500ms");
  EXPECT_EQ(format_duration(60s), "1m0s");
  EXPECT_EQ(format_duration(1500ns), "1.5us");
  EXPECT_EQ(format_duration(7ns), "7ns");
  EXPECT_EQ(format_duration(1s + 1ns), "1.000000001s");
}

RC_GTEST_PROP(FormatDuration, RoundTrips, ()) {
  const auto n = *rc::gen::inRange<std::int64_t>(0, std::numeric_limits<std::int64_t>::max());
  const auto d = Duration(n);
  const auto back = parse_duration(format_duration(d));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == d);
}
