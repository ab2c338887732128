#include "proxy/core/auth/key_header.h"

#include "proxy/core/util/ows.h"

namespace llmproxy::auth {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_bearer(std::string_view v) {
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (lower(v[i]) != kScheme[i]) return false;
  return util::is_ows(v[kScheme.size()]);
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
  value = util::trim_ows(value);
  if (bearer) {
    if (!starts_with_bearer(value)) return std::nullopt;
    value = util::trim_ows(value.substr(6));
    for (char c : value)
      if (util::is_ows(c)) return std::nullopt;
  }
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace llmproxy::auth
