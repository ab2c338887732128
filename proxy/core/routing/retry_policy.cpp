#include "proxy/core/routing/retry_policy.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "proxy/core/util/ows.h"

namespace llmproxy::routing {

namespace {

constexpr std::uint32_t bit(AttemptFailure f) { return 1u << static_cast<unsigned>(f); }

AttemptFailure failure_of(config::RetryOn r) {
  switch (r) {
    case config::RetryOn::server_error: return AttemptFailure::server_error;
    case config::RetryOn::too_many_requests: return AttemptFailure::too_many_requests;
    case config::RetryOn::connect_failure: return AttemptFailure::connect_failure;
    case config::RetryOn::timeout: return AttemptFailure::timeout;
    case config::RetryOn::reset: return AttemptFailure::reset;
  }
  return AttemptFailure::none;
}

}  // namespace

std::string_view failure_name(AttemptFailure f) {
  switch (f) {
    case AttemptFailure::none: return "none";
    case AttemptFailure::connect_failure: return "connect_failure";
    case AttemptFailure::timeout: return "timeout";
    case AttemptFailure::reset: return "reset";
    case AttemptFailure::server_error: return "server_error";
    case AttemptFailure::too_many_requests: return "too_many_requests";
    case AttemptFailure::client_error: return "client_error";
  }
  return "unknown";
}

AttemptFailure classify_status(int status) {
  if (status == 429) return AttemptFailure::too_many_requests;
  if (status >= 400 && status < 500) return AttemptFailure::client_error;
  // 5xx, and anything outside 1xx..5xx: an upstream that sends a status no
  // HTTP server may send is broken, which is what server_error means here.
  if (status >= 500 || status < 100) return AttemptFailure::server_error;
  return AttemptFailure::none;
}

RetryPolicy RetryPolicy::from(const config::RetryConfig& cfg) {
  RetryPolicy p;
  p.max_retries = cfg.enabled ? std::max(cfg.max_retries, 0) : 0;
  p.initial_wait = std::max(cfg.initial_wait, Duration::zero());
  p.max_wait = std::max(cfg.max_wait, Duration::zero());
  p.multiplier = cfg.multiplier;
  p.jitter = std::clamp(cfg.jitter, 0.0, 1.0);
  for (config::RetryOn r : cfg.retry_on) p.retry_on |= bit(failure_of(r));
  return p;
}

bool RetryPolicy::retryable(AttemptFailure f) const {
  if (f == AttemptFailure::none || f == AttemptFailure::client_error) return false;
  return (retry_on & bit(f)) != 0;
}

Duration RetryPolicy::nominal_wait(int k) const {
  const Duration cap = std::max(max_wait, Duration::zero());
  const Duration first = std::clamp(initial_wait, Duration::zero(), cap);
  if (k <= 1 || first == Duration::zero()) return first;
  // In double: multiplier^(k−1) overflows to inf for large k, and
  // `!(w < cap)` also catches NaN, so the result is always within [0, cap].
  const double w = static_cast<double>(first.count()) * std::pow(multiplier, k - 1);
  if (!(w < static_cast<double>(cap.count()))) return cap;
  if (!(w > 0)) return Duration::zero();
  return Duration(static_cast<Duration::rep>(w));
}

Duration RetryPolicy::wait_before(int k, Rng& rng) const {
  const Duration nominal = nominal_wait(k);
  const double j = std::clamp(jitter, 0.0, 1.0);
  // Jitter only shortens: the wait is uniform over [nominal − ⌊nominal·j⌋, nominal].
  const auto spread = static_cast<std::uint64_t>(static_cast<double>(nominal.count()) * j);
  if (spread == 0) return nominal;
  const auto cut = static_cast<Duration::rep>(rng.below(spread + 1));
  return nominal - Duration(cut);
}

// ---------------------------------------------------------------- Retry-After

namespace {

constexpr std::int64_t kMaxRetryAfterSeconds =
    std::chrono::duration_cast<std::chrono::seconds>(kMaxRetryAfter).count();

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil): eras of 400 years, March-based years so the leap day is last.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);             // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The inverse, year only (for RFC 850's two-digit years).
std::int64_t year_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  return mp >= 10 ? y + 1 : y;  // months Jan, Feb belong to the next civil year
}

bool is_leap(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

unsigned days_in_month(std::int64_t y, unsigned m) {
  constexpr unsigned kDaysIn[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDaysIn[m - 1];
}

// A tiny cursor over the value; every reader fails (returns false) rather
// than reading past the end.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }
  bool lit(std::string_view t) {
    if (s_.substr(pos_, t.size()) != t) return false;
    pos_ += t.size();
    return true;
  }
  // Exactly `n` decimal digits.
  bool digits(std::size_t n, unsigned& out) {
    if (s_.size() - pos_ < n) return false;
    unsigned v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s_[pos_ + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    pos_ += n;
    out = v;
    return true;
  }
  template <std::size_t N>
  bool one_of(const std::array<std::string_view, N>& names, unsigned& index) {
    for (std::size_t k = 0; k < N; ++k) {
      if (lit(names[k])) {
        index = static_cast<unsigned>(k);
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

struct Civil {
  std::int64_t year = 0;
  unsigned month = 0;  // 1..12
  unsigned day = 0;
  unsigned hour = 0, minute = 0, second = 0;
};

bool read_time(Cursor& c, Civil& t) {
  return c.digits(2, t.hour) && c.lit(":") && c.digits(2, t.minute) && c.lit(":") && c.digits(2, t.second);
}

bool read_month(Cursor& c, Civil& t) {
  unsigned m = 0;
  if (!c.one_of(kMonths, m)) return false;
  t.month = m + 1;
  return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool parse_imf_fixdate(std::string_view s, Civil& t) {
  Cursor c(s);
  unsigned wd = 0, y = 0;
  if (!(c.one_of(kDays, wd) && c.lit(", ") && c.digits(2, t.day) && c.lit(" ") && read_month(c, t) &&
        c.lit(" ") && c.digits(4, y) && c.lit(" ") && read_time(c, t) && c.lit(" GMT") && c.done()))
    return false;
  t.year = y;
  return true;
}

// "Sunday, 06-Nov-94 08:49:37 GMT"; the two-digit year is taken within 50
// years of now: more than 50 years in the future means the most recent past
// year with those digits (RFC 9110 §5.6.7).
bool parse_rfc850(std::string_view s, std::int64_t now_year, Civil& t) {
  Cursor c(s);
  unsigned wd = 0, yy = 0;
  if (!(c.one_of(kLongDays, wd) && c.lit(", ") && c.digits(2, t.day) && c.lit("-") && read_month(c, t) &&
        c.lit("-") && c.digits(2, yy) && c.lit(" ") && read_time(c, t) && c.lit(" GMT") && c.done()))
    return false;
  const std::int64_t century = now_year - (now_year % 100 + 100) % 100;
  t.year = century + yy;
  if (t.year > now_year + 50) t.year -= 100;
  else if (t.year < now_year - 50) t.year += 100;  // "00" read on 31 Dec 1999 is 2000
  return true;
}

// "Sun Nov  6 08:49:37 1994" (day of month space-padded, or two digits)
bool parse_asctime(std::string_view s, Civil& t) {
  Cursor c(s);
  unsigned wd = 0, y = 0;
  if (!(c.one_of(kDays, wd) && c.lit(" ") && read_month(c, t) && c.lit(" "))) return false;
  if (!(c.lit(" ") ? c.digits(1, t.day) : c.digits(2, t.day))) return false;
  if (!(c.lit(" ") && read_time(c, t) && c.lit(" ") && c.digits(4, y) && c.done())) return false;
  t.year = y;
  return true;
}

bool valid(const Civil& t) {
  // 60 admits a leap second; it counts as the next minute's first second.
  return t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= days_in_month(t.year, t.month) &&
         t.hour <= 23 && t.minute <= 59 && t.second <= 60;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::optional<Duration> parse_retry_after(std::string_view value, WallTime wall_now) {
  const std::string_view v = util::trim_ows(value);
  if (v.empty()) return std::nullopt;

  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t secs = 0;
    for (char c : v) {
      secs = secs * 10 + (c - '0');
      if (secs > kMaxRetryAfterSeconds) return kMaxRetryAfter;  // stops before any overflow
    }
    return std::chrono::seconds(secs);
  }

  const std::int64_t now_ns = wall_now.time_since_epoch().count();
  const std::int64_t now_s = floor_div(now_ns, 1'000'000'000);
  Civil t;
  bool ok = parse_imf_fixdate(v, t);
  if (!ok) ok = parse_rfc850(v, year_from_days(floor_div(now_s, 86400)), t);
  if (!ok) ok = parse_asctime(v, t);
  if (!ok || !valid(t)) return std::nullopt;

  const std::int64_t date_s = days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 +
                              t.minute * 60 + t.second;
  // Compare in seconds first: a date in year 9999 in nanoseconds overflows.
  if (date_s - now_s > kMaxRetryAfterSeconds) return kMaxRetryAfter;
  if (date_s - now_s < -1) return Duration::zero();
  // Whole seconds apart minus now's sub-second part; no product can overflow.
  const std::int64_t now_frac_ns = (now_ns % 1'000'000'000 + 1'000'000'000) % 1'000'000'000;
  const std::int64_t delta_ns = (date_s - now_s) * 1'000'000'000 - now_frac_ns;
  return Duration(std::clamp<std::int64_t>(delta_ns, 0, kMaxRetryAfter.count()));
}

}  // namespace llmproxy::routing
