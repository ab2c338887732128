// Optional whitespace (RFC 9110 §5.6.3: SP and HTAB) around header values,
// list elements and config words: one definition for every parser.
#pragma once

#include <string_view>

namespace llmproxy::util {

constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }

constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace llmproxy::util
