#include "proxy/core/log/rotation.h"

#include <charconv>
#include <limits>

#include "proxy/core/log/civil_time.h"

namespace llmproxy::log {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kDailyStamp = 10;   // YYYY-MM-DD
constexpr std::size_t kHourlyStamp = 13;  // YYYY-MM-DDTHH
constexpr std::size_t kSizeStamp = 19;    // YYYY-MM-DDTHH-MM-SS

// t rounded down to a multiple of `unit` since the epoch (WallTime::min()
// when that multiple is not representable).
WallTime floor_to(WallTime t, Duration unit) {
  const std::int64_t ns = t.time_since_epoch().count();
  const std::int64_t u = unit.count();
  std::int64_t q = ns / u;
  if (ns % u < 0) --q;
  if (q < std::numeric_limits<std::int64_t>::min() / u) return WallTime::min();
  return WallTime(Duration(q * u));
}

void append_2(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

void append_stamp(std::string& out, config::Rotate rotate, WallTime t) {
  const CivilTime c = to_civil(t);
  append_2(out, static_cast<unsigned>(c.year) / 100);
  append_2(out, static_cast<unsigned>(c.year) % 100);
  out.push_back('-');
  append_2(out, c.month);
  out.push_back('-');
  append_2(out, c.day);
  if (rotate == config::Rotate::daily) return;
  out.push_back('T');
  append_2(out, c.hour);
  if (rotate == config::Rotate::hourly) return;
  out.push_back('-');
  append_2(out, c.minute);
  out.push_back('-');
  append_2(out, c.second);
}

// Reads `width` digits at s[pos]; false unless they are all digits.
bool digits(std::string_view s, std::size_t pos, std::size_t width, unsigned& out) {
  out = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

std::optional<RotatedFile> parse_stamp(std::string_view stamp) {
  if (stamp.size() != kDailyStamp && stamp.size() != kHourlyStamp && stamp.size() != kSizeStamp)
    return std::nullopt;
  CivilTime c;
  unsigned year = 0;
  if (!digits(stamp, 0, 4, year) || stamp[4] != '-' || !digits(stamp, 5, 2, c.month) || stamp[7] != '-' ||
      !digits(stamp, 8, 2, c.day))
    return std::nullopt;
  c.year = static_cast<int>(year);
  Duration length = 0s;
  if (stamp.size() == kDailyStamp) {
    length = 24h;
  } else {
    if (stamp[10] != 'T' || !digits(stamp, 11, 2, c.hour)) return std::nullopt;
    if (stamp.size() == kHourlyStamp) {
      length = 1h;
    } else if (stamp[13] != '-' || !digits(stamp, 14, 2, c.minute) || stamp[16] != '-' ||
               !digits(stamp, 17, 2, c.second)) {
      return std::nullopt;
    }
  }
  const auto start = from_civil(c);
  if (!start) return std::nullopt;
  RotatedFile f;
  f.closed_at = *start > WallTime::max() - length ? WallTime::max() : *start + length;
  return f;
}

}  // namespace

WallTime period_start(config::Rotate rotate, WallTime t) {
  switch (rotate) {
    case config::Rotate::daily: return floor_to(t, 24h);
    case config::Rotate::hourly: return floor_to(t, 1h);
    case config::Rotate::size: return t;
  }
  return t;
}

std::string rotated_name(std::string_view path, config::Rotate rotate, WallTime stamp, int n) {
  std::string name(path);
  name.push_back('.');
  append_stamp(name, rotate, stamp);
  if (n > 0) {
    name.push_back('.');
    name += std::to_string(n);
  }
  return name;
}

std::optional<RotatedFile> parse_rotated_name(std::string_view file_name, std::string_view base_name) {
  if (file_name.size() <= base_name.size() + 1 || file_name.substr(0, base_name.size()) != base_name ||
      file_name[base_name.size()] != '.')
    return std::nullopt;
  std::string_view rest = file_name.substr(base_name.size() + 1);
  bool compressed = false;
  if (rest.size() > 3 && rest.substr(rest.size() - 3) == ".gz") {
    compressed = true;
    rest.remove_suffix(3);
  }
  // Stamps hold no '.', so a '.' after the stamp starts the ".<n>" counter.
  if (const auto dot = rest.find('.'); dot != std::string_view::npos) {
    const auto n = rest.substr(dot + 1);
    unsigned ignored = 0;
    if (n.empty() || n.size() > 9 || !digits(n, 0, n.size(), ignored)) return std::nullopt;
    rest = rest.substr(0, dot);
  }
  auto f = parse_stamp(rest);
  if (f) f->compressed = compressed;
  return f;
}

bool expired(WallTime closed_at, Duration max_age, WallTime now) {
  if (max_age <= Duration::zero()) return false;
  if (now.time_since_epoch() < Duration::min() + max_age) return false;
  return closed_at < now - max_age;
}

std::uint64_t max_size_bytes(const config::LogFileConfig& f) {
  return static_cast<std::uint64_t>(f.max_size < 1 ? 1 : f.max_size) * 1'000'000u;
}

Duration max_age(const config::LogFileConfig& f) {
  // Beyond ~270 years the nanosecond count would overflow; that is "forever" too.
  constexpr int kForever = 100'000;
  if (f.max_age <= 0 || f.max_age > kForever) return Duration::zero();
  return Duration(std::chrono::hours(24) * f.max_age);
}

}  // namespace llmproxy::log
