#include "proxy/core/util/duration.h"

#include <cstdint>
#include <limits>

namespace llmproxy::util {
namespace {

constexpr std::uint64_t kMaxNanos = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Nanoseconds per unit, 0 when the unit is unknown.
std::uint64_t unit_nanos(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return 1'000;
  if (u == "ms") return 1'000'000;
  if (u == "s") return 1'000'000'000ULL;
  if (u == "m") return 60'000'000'000ULL;
  if (u == "h") return 3'600'000'000'000ULL;
  return 0;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Appends value/div with the remainder as a decimal fraction, trailing zeros
// trimmed (div is a power of ten).
void append_fraction(std::string& out, std::uint64_t value, std::uint64_t div) {
  out += std::to_string(value / div);
  std::uint64_t rem = value % div;
  if (rem == 0) return;
  std::string digits;
  for (std::uint64_t d = div / 10; d > 0; d /= 10) {
    digits += static_cast<char>('0' + (rem / d) % 10);
  }
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  out += '.';
  out += digits;
}

}  // namespace

Parsed<Duration> parse_duration(std::string_view text) {
  using R = Parsed<Duration>;
  const std::string_view original = text;
  if (text.empty()) return R::failure("empty duration (add a unit, e.g. 30s)");
  if (text.front() == '-') return R::failure("duration " + quoted(original) + " must not be negative");
  if (text.front() == '+') text.remove_prefix(1);
  if (text == "0") return R::success(Duration::zero());
  if (text.empty()) return R::failure("invalid duration " + quoted(original));

  std::uint64_t total = 0;
  while (!text.empty()) {
    // Integer part.
    std::uint64_t whole = 0;
    bool any_digits = false;
    bool overflow = false;
    std::size_t i = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      any_digits = true;
      const auto d = static_cast<std::uint64_t>(text[i] - '0');
      if (whole > (kMaxNanos - d) / 10) overflow = true;
      else whole = whole * 10 + d;
    }
    // Fraction: keep at most 18 significant digits (beyond ns precision anyway).
    std::uint64_t frac = 0;
    std::uint64_t scale = 1;
    if (i < text.size() && text[i] == '.') {
      ++i;
      for (; i < text.size() && is_digit(text[i]); ++i) {
        any_digits = true;
        if (scale < 1'000'000'000'000'000'000ULL) {
          frac = frac * 10 + static_cast<std::uint64_t>(text[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!any_digits) return R::failure("invalid duration " + quoted(original));
    if (overflow) return R::failure("duration " + quoted(original) + " is too large");
    // Unit: everything up to the next digit or '.'.
    std::size_t j = i;
    while (j < text.size() && !is_digit(text[j]) && text[j] != '.') ++j;
    const std::string_view unit = text.substr(i, j - i);
    if (unit.empty()) {
      if (i == text.size() && j == text.size() && total == 0 && text.size() == original.size())
        return R::failure("missing unit in duration " + quoted(original) + " (add a unit, e.g. " +
                          std::string(original) + "s)");
      return R::failure("missing unit in duration " + quoted(original) + " (add a unit, e.g. 30s)");
    }
    const std::uint64_t per = unit_nanos(unit);
    if (per == 0)
      return R::failure("unknown unit " + quoted(unit) + " in duration " + quoted(original) +
                        " (valid units: ns, us, ms, s, m, h)");
    if (whole > kMaxNanos / per) return R::failure("duration " + quoted(original) + " is too large");
    std::uint64_t v = whole * per;
    // frac/scale * per without overflow: per <= 3.6e12, frac < scale <= 1e18.
    const auto extra = static_cast<std::uint64_t>(
        static_cast<unsigned __int128>(frac) * per / scale);
    if (v > kMaxNanos - extra) return R::failure("duration " + quoted(original) + " is too large");
    v += extra;
    if (total > kMaxNanos - v) return R::failure("duration " + quoted(original) + " is too large");
    total += v;
    text.remove_prefix(j);
  }
  return R::success(Duration(static_cast<std::int64_t>(total)));
}

std::string format_duration(Duration d) {
  const std::int64_t count = d.count();
  if (count == 0) return "0s";
  std::string out;
  std::uint64_t u;
  if (count < 0) {
    out += '-';
    u = static_cast<std::uint64_t>(-(count + 1)) + 1;  // no overflow for INT64_MIN
  } else {
    u = static_cast<std::uint64_t>(count);
  }
  if (u < 1'000'000'000ULL) {
    if (u < 1'000) {
      out += std::to_string(u) + "ns";
    } else if (u < 1'000'000) {
      append_fraction(out, u, 1'000);
      out += "us";
    } else {
      append_fraction(out, u, 1'000'000);
      out += "ms";
    }
    return out;
  }
  const std::uint64_t hours = u / 3'600'000'000'000ULL;
  u %= 3'600'000'000'000ULL;
  const std::uint64_t minutes = u / 60'000'000'000ULL;
  u %= 60'000'000'000ULL;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  append_fraction(out, u, 1'000'000'000ULL);
  out += "s";
  return out;
}

}  // namespace llmproxy::util
