#include "proxy/core/routing/retry_policy.h"

#include <gtest/gtest.h>

namespace llmproxy::routing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::int64_t kExampleUnix = 784111777;

WallTime wall(std::int64_t unix_seconds) { return WallTime(seconds(unix_seconds)); }

TEST(ClassifyStatus, Classes) {
  EXPECT_EQ(classify_status(200), AttemptFailure::none);
  EXPECT_EQ(classify_status(101), AttemptFailure::none);
  EXPECT_EQ(classify_status(304), AttemptFailure::none);
  EXPECT_EQ(classify_status(429), AttemptFailure::too_many_requests);
  EXPECT_EQ(classify_status(400), AttemptFailure::client_error);
  EXPECT_EQ(classify_status(499), AttemptFailure::client_error);
  EXPECT_EQ(classify_status(500), AttemptFailure::server_error);
  EXPECT_EQ(classify_status(503), AttemptFailure::server_error);
  EXPECT_EQ(classify_status(0), AttemptFailure::server_error);
  EXPECT_EQ(classify_status(600), AttemptFailure::server_error);
}

TEST(FailureName, Names) {
  EXPECT_EQ(failure_name(AttemptFailure::none), "none");
  EXPECT_EQ(failure_name(AttemptFailure::connect_failure), "connect_failure");
  EXPECT_EQ(failure_name(AttemptFailure::timeout), "timeout");
  EXPECT_EQ(failure_name(AttemptFailure::reset), "reset");
  EXPECT_EQ(failure_name(AttemptFailure::server_error), "server_error");
  EXPECT_EQ(failure_name(AttemptFailure::too_many_requests), "too_many_requests");
  EXPECT_EQ(failure_name(AttemptFailure::client_error), "client_error");
}

TEST(RetryPolicy, FromConfig) {
  config::RetryConfig cfg;
  cfg.enabled = true;
  cfg.max_retries = 4;
  cfg.initial_wait = milliseconds(100);
  cfg.max_wait = seconds(2);
  cfg.multiplier = 3;
  cfg.jitter = 0.25;
  cfg.retry_on = {config::RetryOn::server_error, config::RetryOn::reset};
  const RetryPolicy p = RetryPolicy::from(cfg);
  EXPECT_EQ(p.max_retries, 4);
  EXPECT_EQ(p.initial_wait, milliseconds(100));
  EXPECT_EQ(p.max_wait, seconds(2));
  EXPECT_EQ(p.multiplier, 3);
  EXPECT_EQ(p.jitter, 0.25);
  EXPECT_TRUE(p.retryable(AttemptFailure::server_error));
  EXPECT_TRUE(p.retryable(AttemptFailure::reset));
  EXPECT_FALSE(p.retryable(AttemptFailure::too_many_requests));
  EXPECT_FALSE(p.retryable(AttemptFailure::timeout));
  EXPECT_FALSE(p.retryable(AttemptFailure::connect_failure));
  EXPECT_FALSE(p.retryable(AttemptFailure::client_error));
  EXPECT_FALSE(p.retryable(AttemptFailure::none));

  cfg.enabled = false;
  EXPECT_EQ(RetryPolicy::from(cfg).max_retries, 0);
}

TEST(RetryPolicy, DefaultRetryOnCoversEveryRetryableClass) {
  config::RetryConfig cfg;
  cfg.enabled = true;
  const RetryPolicy p = RetryPolicy::from(cfg);
  for (AttemptFailure f : {AttemptFailure::connect_failure, AttemptFailure::timeout, AttemptFailure::reset,
                           AttemptFailure::server_error, AttemptFailure::too_many_requests})
    EXPECT_TRUE(p.retryable(f)) << failure_name(f);
  EXPECT_FALSE(p.retryable(AttemptFailure::client_error));
}

RetryPolicy policy(Duration initial, Duration max, double mult, double jitter) {
  RetryPolicy p;
  p.max_retries = 10;
  p.initial_wait = initial;
  p.max_wait = max;
  p.multiplier = mult;
  p.jitter = jitter;
  return p;
}

TEST(RetryPolicy, NominalWaitGrowsAndCaps) {
  const RetryPolicy p = policy(seconds(1), seconds(10), 2.0, 0);
  EXPECT_EQ(p.nominal_wait(1), seconds(1));
  EXPECT_EQ(p.nominal_wait(2), seconds(2));
  EXPECT_EQ(p.nominal_wait(3), seconds(4));
  EXPECT_EQ(p.nominal_wait(4), seconds(8));
  EXPECT_EQ(p.nominal_wait(5), seconds(10));
  EXPECT_EQ(p.nominal_wait(100), seconds(10));
  EXPECT_EQ(p.nominal_wait(2'000'000'000), seconds(10));  // no overflow
  EXPECT_EQ(p.nominal_wait(0), seconds(1));
  EXPECT_EQ(policy(seconds(1), seconds(10), 1.0, 0).nominal_wait(1'000'000), seconds(1));
  EXPECT_EQ(policy(seconds(20), seconds(10), 2.0, 0).nominal_wait(1), seconds(10));
  EXPECT_EQ(policy(Duration::zero(), seconds(10), 2.0, 0).nominal_wait(50), Duration::zero());
  const RetryPolicy huge = policy(Duration::max() / 2, Duration::max(), 1e300, 0);
  EXPECT_EQ(huge.nominal_wait(3), Duration::max());
}

TEST(RetryPolicy, JitterOnlyShortens) {
  const RetryPolicy p = policy(seconds(1), seconds(10), 2.0, 0.5);
  Rng rng(9);
  Duration lo = Duration::max(), hi = Duration::zero();
  for (int k = 0; k < 2000; ++k) {
    const Duration w = p.wait_before(2, rng);
    ASSERT_GE(w, seconds(1));
    ASSERT_LE(w, seconds(2));
    lo = std::min(lo, w);
    hi = std::max(hi, w);
  }
  EXPECT_LT(lo, milliseconds(1100));  // the range is actually used
  EXPECT_GT(hi, milliseconds(1900));
  Rng a(5), b(5);
  EXPECT_EQ(p.wait_before(3, a), p.wait_before(3, b));  // seeded
  Rng r(1);
  EXPECT_EQ(policy(seconds(1), seconds(10), 2.0, 0).wait_before(3, r), seconds(4));
}

TEST(RetryAfter, DeltaSeconds) {
  const WallTime now = wall(kExampleUnix);
  EXPECT_EQ(parse_retry_after("0", now), Duration::zero());
  EXPECT_EQ(parse_retry_after("120", now), seconds(120));
  EXPECT_EQ(parse_retry_after("  7\t", now), seconds(7));
  EXPECT_EQ(parse_retry_after("007", now), seconds(7));
  EXPECT_EQ(parse_retry_after("86400", now), seconds(86400));
  EXPECT_EQ(parse_retry_after("86401", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("99999999999999999999999999999999", now), kMaxRetryAfter);
}

TEST(RetryAfter, ImfFixdate) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", wall(kExampleUnix - 120)), seconds(120));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", wall(kExampleUnix)), Duration::zero());
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", wall(kExampleUnix + 5)), Duration::zero());
  // Sub-second "now".
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", wall(kExampleUnix - 1) + milliseconds(250)),
            milliseconds(750));
  // Leap day, end of year, and the epoch.
  EXPECT_EQ(parse_retry_after("Thu, 29 Feb 2024 00:00:10 GMT", wall(1709164800)), seconds(10));
  EXPECT_EQ(parse_retry_after("Sun, 31 Dec 2023 23:59:59 GMT", wall(1704067199 - 9)), seconds(9));
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", wall(0)), seconds(60));
  EXPECT_EQ(parse_retry_after("Wed, 01 Mar 2000 00:00:00 GMT", wall(951868800 - 1)), seconds(1));
  // Far future: capped, no overflow.
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", wall(kExampleUnix)), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("Mon, 07 Nov 1994 08:49:38 GMT", wall(kExampleUnix)), kMaxRetryAfter);
}

TEST(RetryAfter, Rfc850) {
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", wall(kExampleUnix - 30)), seconds(30));
  // Two-digit years: more than 50 years ahead means the previous century.
  const std::int64_t jan_2030 = 1893456000;  // 2030-01-01T00:00:00Z
  EXPECT_EQ(parse_retry_after("Tuesday, 01-Jan-30 00:00:05 GMT", wall(jan_2030)), seconds(5));
  EXPECT_EQ(parse_retry_after("Tuesday, 01-Jan-80 00:00:05 GMT", wall(jan_2030)), seconds(86400));
  EXPECT_EQ(parse_retry_after("Tuesday, 01-Jan-81 00:00:05 GMT", wall(jan_2030)), Duration::zero());
  // Across a century boundary: read on 31 Dec 1999, "00" is 2000.
  const std::int64_t jan_2000 = 946684800;
  EXPECT_EQ(parse_retry_after("Saturday, 01-Jan-00 00:00:05 GMT", wall(jan_2000 - 10)), seconds(15));
  EXPECT_EQ(parse_retry_after("Friday, 31-Dec-99 23:59:59 GMT", wall(jan_2000 + 1)), Duration::zero());
}

TEST(RetryAfter, Asctime) {
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", wall(kExampleUnix - 45)), seconds(45));
  EXPECT_EQ(parse_retry_after("Wed Nov 16 08:49:37 1994", wall(kExampleUnix + 10 * 86400 - 1)), seconds(1));
  EXPECT_EQ(parse_retry_after("Sun Nov 06 08:49:37 1994", wall(kExampleUnix - 1)), seconds(1));
}

TEST(RetryAfter, Garbage) {
  const WallTime now = wall(kExampleUnix);
  for (const char* bad : {"", "   ", "-1", "+5", "1.5", "12a", "0x10", "1 2", "Sun, 06 Nov 1994 08:49:37",
                          "Sun, 06 Nov 1994 08:49:37 UTC", "sun, 06 Nov 1994 08:49:37 GMT",
                          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 32 Jan 1994 08:49:37 GMT",
                          "Sun, 29 Feb 2023 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMTx", "Sunday, 06-Nov-1994 08:49:37 GMT",
                          "Sun, 06-Nov-94 08:49:37 GMT", "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94",
                          "Sun Nov  6 08:49:37 1994 GMT", "Sunday", "S"})
    EXPECT_EQ(parse_retry_after(bad, now), std::nullopt) << '"' << bad << '"';
}

TEST(RetryAfter, NeverNegativeForExtremeNow) {
  for (WallTime now : {WallTime::min(), WallTime::max(), WallTime{}}) {
    for (const char* v : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                          "Sun Nov  6 08:49:37 1994", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0000 00:00:00 GMT"}) {
      const auto d = parse_retry_after(v, now);
      ASSERT_TRUE(d.has_value()) << v;
      EXPECT_GE(*d, Duration::zero());
      EXPECT_LE(*d, kMaxRetryAfter);
    }
  }
}

}  // namespace
}  // namespace llmproxy::routing
