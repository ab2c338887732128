// A key's status as stores and configs write it (BEHAVIOR §7). The words
// and the original project's numbers name the same four states. Header
// only: check-config (proxy/core/config) asks it too, without linking the
// auth core.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace llmproxy::auth {

enum class KeyStatus : std::uint8_t { active, disabled, quota_exceeded, expired };

// Exactly these, ASCII case-insensitive, nothing else (no surrounding
// spaces, no other numbers):
//   "enabled", "active", "0"  → active
//   "disabled", "1"           → disabled
//   "quota_exceeded", "2"     → quota_exceeded
//   "expired", "3"            → expired
namespace detail {

inline bool status_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

inline constexpr std::array<std::pair<std::string_view, KeyStatus>, 9> kSpellings{{
    {"enabled", KeyStatus::active},
    {"active", KeyStatus::active},
    {"0", KeyStatus::active},
    {"disabled", KeyStatus::disabled},
    {"1", KeyStatus::disabled},
    {"quota_exceeded", KeyStatus::quota_exceeded},
    {"2", KeyStatus::quota_exceeded},
    {"expired", KeyStatus::expired},
    {"3", KeyStatus::expired},
}};

}  // namespace detail

inline std::optional<KeyStatus> parse_key_status(std::string_view text) {
  for (const auto& [word, status] : detail::kSpellings)
    if (detail::status_iequals(text, word)) return status;
  return std::nullopt;
}

// For messages: the accepted spellings.
inline constexpr std::string_view kKeyStatusChoices =
    "enabled, active, disabled, quota_exceeded, expired, or 0-3";

}  // namespace llmproxy::auth
