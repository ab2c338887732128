#include "proxy/core/util/timestamp.h"

#include <cstdint>

namespace llmproxy::util {
namespace {

constexpr std::string_view kExpected =
    "(RFC 3339, e.g. 2026-01-31T00:00:00Z, or unix seconds)";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `n` digits at `at`, or -1.
int digits(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = static_cast<unsigned>((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Parsed<WallTime> fail(std::string_view text) {
  return Parsed<WallTime>::failure("invalid time \"" + std::string(text) + "\" " + std::string(kExpected));
}

// Nanosecond wall time spans 1677-09-21 to 2262-04-11; an instant outside
// is read as that end (an expiry in 2300 is "never" as far as it can tell).
Parsed<WallTime> at_seconds(std::int64_t secs, std::int64_t nanos) {
  constexpr std::int64_t kMaxSecs = WallTime::max().time_since_epoch().count() / 1'000'000'000 - 1;
  if (secs > kMaxSecs) return Parsed<WallTime>::success(WallTime::max());
  if (secs < -kMaxSecs) return Parsed<WallTime>::success(WallTime::min());
  return Parsed<WallTime>::success(WallTime(std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

Parsed<WallTime> parse_unix(std::string_view s) {
  std::int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return at_seconds(v, 0);
}

// The zone after the seconds (and fraction): offset in seconds, or false.
bool parse_zone(std::string_view z, std::int64_t& offset) {
  if (z == "Z" || z == "z") {
    offset = 0;
    return true;
  }
  if (z.size() != 6 || (z[0] != '+' && z[0] != '-') || z[3] != ':') return false;
  const int h = digits(z, 1, 2), m = digits(z, 4, 2);
  if (h < 0 || h > 23 || m < 0 || m > 59) return false;
  offset = (z[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
  return true;
}

Parsed<WallTime> parse_rfc3339(std::string_view s) {
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') return fail(s);
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return fail(s);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || se < 0 || se > 59)
    return fail(s);
  std::size_t i = 19;
  std::int64_t nanos = 0;
  if (s[i] == '.') {
    std::int64_t scale = 100'000'000;
    const std::size_t first = ++i;
    for (; i < s.size() && is_digit(s[i]); ++i, scale /= 10) nanos += (s[i] - '0') * scale;
    if (i == first) return fail(s);
  }
  std::int64_t offset = 0;
  if (!parse_zone(s.substr(i), offset)) return fail(s);
  const std::int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
  return at_seconds(secs, nanos);
}

}  // namespace

Parsed<WallTime> parse_timestamp(std::string_view text) {
  bool all_digits = !text.empty();
  for (char c : text) all_digits = all_digits && is_digit(c);
  if (all_digits) return text.size() <= 12 ? parse_unix(text) : fail(text);
  return parse_rfc3339(text);
}

}  // namespace llmproxy::util
