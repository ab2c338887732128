#include "proxy/core/auth/key_header.h"

namespace llmproxy::auth {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view v) {
  while (!v.empty() && blank(v.front())) v.remove_prefix(1);
  while (!v.empty() && blank(v.back())) v.remove_suffix(1);
  return v;
}

bool starts_with_bearer(std::string_view v) {
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (lower(v[i]) != kScheme[i]) return false;
  return blank(v[kScheme.size()]);
}

}  // namespace

std::vector<KeyHeader> key_headers(const std::vector<std::string>& header_names) {
  std::vector<KeyHeader> out;
  out.reserve(header_names.size());
  for (const auto& n : header_names) {
    KeyHeader h;
    for (char c : n) h.name += lower(c);
    h.bearer = h.name == "authorization";
    out.push_back(std::move(h));
  }
  return out;
}

std::optional<std::string_view> key_in_value(std::string_view value, bool bearer) {
  value = trim(value);
  if (bearer) {
    if (!starts_with_bearer(value)) return std::nullopt;
    value = trim(value.substr(6));
    for (char c : value)
      if (blank(c)) return std::nullopt;
  }
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace llmproxy::auth
