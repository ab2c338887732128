#include "proxy/core/ratelimit/limits.h"

#include <gtest/gtest.h>

#include <limits>

namespace llmproxy::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

config::RateLimitConfig enabled_config() {
  config::RateLimitConfig c;
  c.enabled = true;
  return c;
}

TEST(LimitsFrom, DisabledModuleGivesEmptySet) {
  auto c = enabled_config();
  c.global.requests_per_second = 10;
  c.per_key.tokens_per_minute = 1000;
  c.enabled = false;
  EXPECT_TRUE(limits_from(c).empty());
}

TEST(LimitsFrom, NothingConfiguredIsEmpty) { EXPECT_TRUE(limits_from(enabled_config()).empty()); }

TEST(LimitsFrom, EveryLimitBecomesARule) {
  auto c = enabled_config();
  c.fail_mode = config::FailMode::closed;
  c.global.requests_per_second = 100;
  c.global.requests_per_minute = 600;
  c.per_key.requests_per_second = 5;
  c.per_key.requests_per_minute = 30;
  c.per_key.tokens_per_minute = 40000;
  c.per_key.max_concurrent = 3;
  const LimitSet s = limits_from(c);
  ASSERT_EQ(s.rules.size(), 4u);
  EXPECT_EQ(s.rules[0].name, "global requests_per_second");
  EXPECT_EQ(s.rules[0].scope, Scope::global);
  EXPECT_EQ(s.rules[0].burst, 100);
  EXPECT_EQ(s.rules[0].limit, 100);
  EXPECT_EQ(s.rules[0].period, seconds(1));
  EXPECT_EQ(s.rules[1].name, "global requests_per_minute");
  EXPECT_DOUBLE_EQ(s.rules[1].per_second, 10.0);
  EXPECT_EQ(s.rules[1].burst, 10);
  EXPECT_EQ(s.rules[1].limit, 600);
  EXPECT_EQ(s.rules[1].period, minutes(1));
  EXPECT_EQ(s.rules[2].name, "per_key requests_per_second");
  EXPECT_EQ(s.rules[2].scope, Scope::per_key);
  EXPECT_EQ(s.rules[3].name, "per_key requests_per_minute");
  EXPECT_EQ(s.rules[3].burst, 1);  // rpm 30: half a request per second → 1
  EXPECT_EQ(s.tokens_per_minute, 40000);
  EXPECT_EQ(s.max_concurrent, 3);
  EXPECT_EQ(s.fail_mode, config::FailMode::closed);
  EXPECT_TRUE(s.has_per_key());
}

TEST(LimitsFrom, BurstSizeOverridesTheDefault) {
  auto c = enabled_config();
  c.global.requests_per_second = 2.5;
  c.per_key.requests_per_minute = 60;
  c.per_key.burst_size = 7;
  const LimitSet s = limits_from(c);
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_EQ(s.rules[0].burst, 3);  // one second of 2.5 rps, rounded up
  EXPECT_EQ(s.rules[1].burst, 7);
}

TEST(LimitsFrom, ScopeEnabledFlagsAreRespected) {
  auto c = enabled_config();
  c.global.requests_per_second = 10;
  c.per_key.requests_per_second = 1;
  c.per_key.max_concurrent = 2;
  c.global.enabled = false;
  LimitSet s = limits_from(c);
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules[0].scope, Scope::per_key);
  c.global.enabled = true;
  c.per_key.enabled = false;
  s = limits_from(c);
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules[0].scope, Scope::global);
  EXPECT_EQ(s.max_concurrent, 0);
  EXPECT_FALSE(s.has_per_key());
}

TEST(RequestRule, GcraParameters) {
  RequestRule r;
  r.per_second = 10;
  r.burst = 5;
  EXPECT_EQ(r.emission_ns(), 100'000'000);
  EXPECT_EQ(r.tolerance_ns(), 400'000'000);
  r.per_second = 3;  // 333333333.3… rounds up so the rate is never exceeded
  EXPECT_EQ(r.emission_ns(), 333'333'334);
}

TEST(TokenReservation, MaxTokensOrDefaultPlusPrompt) {
  EXPECT_EQ(token_reservation(100, 0), 100);
  EXPECT_EQ(token_reservation(100, 8), 102);
  EXPECT_EQ(token_reservation(100, 9), 103);  // rounded up
  EXPECT_EQ(token_reservation(-1, 4), 257);
  EXPECT_EQ(token_reservation(0, 0), 256);
  EXPECT_EQ(token_reservation(std::numeric_limits<std::int64_t>::max(), 100), kMaxReservation);
}

TEST(Headers, OnlyConfiguredLimitsAppear) {
  Verdict v;
  std::string out;
  append_rate_limit_headers(out, v);
  EXPECT_EQ(out, "");
  v.limit_requests = 600;
  v.remaining_requests = 599;
  v.reset_requests = milliseconds(100);
  append_rate_limit_headers(out, v);
  EXPECT_EQ(out,
            "x-ratelimit-limit-requests: 600\r\n"
            "x-ratelimit-remaining-requests: 599\r\n"
            "x-ratelimit-reset-requests: 100ms\r\n");
}

TEST(Headers, RejectedCarriesRetryAfterRoundedUp) {
  Verdict v;
  v.admitted = false;
  v.limit = "per_key tokens_per_minute";
  v.retry_after = milliseconds(1500);
  v.limit_tokens = 40000;
  v.remaining_tokens = 0;
  v.reset_tokens = seconds(360);
  std::string out;
  append_rate_limit_headers(out, v);
  EXPECT_EQ(out,
            "x-ratelimit-limit-tokens: 40000\r\n"
            "x-ratelimit-remaining-tokens: 0\r\n"
            "x-ratelimit-reset-tokens: 6m0s\r\n"
            "retry-after: 2\r\n");
}

TEST(Headers, RetryAfterIsAtLeastOneSecond) {
  Verdict v;
  v.admitted = false;
  v.retry_after = milliseconds(1);
  std::string out;
  append_rate_limit_headers(out, v);
  EXPECT_EQ(out, "retry-after: 1\r\n");
  out.clear();
  v.retry_after = seconds(3);
  append_rate_limit_headers(out, v);
  EXPECT_EQ(out, "retry-after: 3\r\n");
}

std::string reset_of(Duration d) {
  Verdict v;
  v.limit_requests = 1;
  v.remaining_requests = 0;
  v.reset_requests = d;
  std::string out;
  append_rate_limit_headers(out, v);
  const std::string_view name = "x-ratelimit-reset-requests: ";
  const auto at = out.find(name) + name.size();
  return out.substr(at, out.size() - at - 2);
}

TEST(Headers, ResetLooksLikeOpenAIs) {
  EXPECT_EQ(reset_of(Duration(0)), "0s");
  EXPECT_EQ(reset_of(Duration(1)), "1ms");  // rounded up
  EXPECT_EQ(reset_of(milliseconds(20)), "20ms");
  EXPECT_EQ(reset_of(seconds(1)), "1s");
  EXPECT_EQ(reset_of(milliseconds(1500)), "1.5s");
  EXPECT_EQ(reset_of(milliseconds(12345)), "12.345s");
  EXPECT_EQ(reset_of(minutes(6)), "6m0s");
  EXPECT_EQ(reset_of(seconds(90)), "1m30s");
  EXPECT_EQ(reset_of(seconds(3723)), "1h2m3s");
  EXPECT_EQ(reset_of(Duration(-5)), "0s");
}

TEST(UnreachableStore, FailModeDecides) {
  const Verdict open = unreachable_store_verdict(config::FailMode::open);
  EXPECT_TRUE(open.admitted);
  EXPECT_TRUE(open.store_error);
  const Verdict closed = unreachable_store_verdict(config::FailMode::closed);
  EXPECT_FALSE(closed.admitted);
  EXPECT_TRUE(closed.store_error);
  EXPECT_EQ(closed.limit, kStoreUnavailable);
  std::string out;
  append_rate_limit_headers(out, closed);
  EXPECT_EQ(out, "retry-after: 1\r\n");
}

}  // namespace
}  // namespace llmproxy::ratelimit
