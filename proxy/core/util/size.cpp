#include "proxy/core/util/size.h"

#include <cctype>
#include <limits>
#include <string>

namespace llmproxy::util {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Multiplier for a unit, 0 when unknown.
std::uint64_t unit_factor(std::string_view unit) {
  const std::string u = lower(unit);
  if (u.empty() || u == "b") return 1;
  if (u == "kb") return 1000ULL;
  if (u == "mb") return 1000ULL * 1000;
  if (u == "gb") return 1000ULL * 1000 * 1000;
  if (u == "tb") return 1000ULL * 1000 * 1000 * 1000;
  if (u == "kib") return 1ULL << 10;
  if (u == "mib") return 1ULL << 20;
  if (u == "gib") return 1ULL << 30;
  if (u == "tib") return 1ULL << 40;
  return 0;
}

}  // namespace

Parsed<std::uint64_t> parse_size(std::string_view text) {
  using R = Parsed<std::uint64_t>;
  const std::string quoted = "\"" + std::string(text) + "\"";
  std::size_t i = 0;
  std::uint64_t n = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto d = static_cast<std::uint64_t>(text[i] - '0');
    if (n > (kMax - d) / 10) return R::failure("size " + quoted + " is too large");
    n = n * 10 + d;
  }
  if (i == 0) return R::failure("invalid size " + quoted + " (expected e.g. 10485760, 10MB or 10MiB)");
  if (i < text.size() && text[i] == '.')
    return R::failure("invalid size " + quoted + ": use a whole number (e.g. 1500KB instead of 1.5MB)");
  std::string_view unit = text.substr(i);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  const std::uint64_t factor = unit_factor(unit);
  if (factor == 0 || (unit.empty() && i != text.size()))
    return R::failure("unknown unit in size " + quoted + " (valid: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  if (n > kMax / factor) return R::failure("size " + quoted + " is too large");
  return R::success(n * factor);
}

}  // namespace llmproxy::util
