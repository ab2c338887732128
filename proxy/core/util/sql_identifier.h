// A table or column name the gateway writes into SQL text (a database auth
// provider's table, key_column and fields). Identifiers cannot travel as
// parameters, so only plain names are accepted: letters, digits and `_`,
// not starting with a digit, with at most one `schema.` prefix. Anything
// else (quotes, spaces, `;`) is refused by check-config, never escaped.
#pragma once

#include <string_view>

namespace llmproxy::util {

inline bool is_plain_sql_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// `name` or `schema.name`, each part plain.
inline bool is_sql_identifier(std::string_view s) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos) return is_plain_sql_name(s);
  return is_plain_sql_name(s.substr(0, dot)) && is_plain_sql_name(s.substr(dot + 1));
}

}  // namespace llmproxy::util
