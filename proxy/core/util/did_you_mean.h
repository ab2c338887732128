// "Did you mean …?" for unknown config keys and enum values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace llmproxy::util {

// Optimal string alignment distance (Levenshtein plus adjacent transposition).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word, if it is close enough to be a plausible typo:
// distance <= 1 for words up to 4 characters, <= 2 up to 8, else <= 3; a
// case-insensitive match always qualifies. Ties go to the earlier candidate.
std::optional<std::string> did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace llmproxy::util
