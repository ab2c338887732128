// Where a request carries its API key (auth.header_names, BEHAVIOR §7) and
// how a header's value is read. Pure: the shell hands in each header's
// value by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmproxy::auth {

struct KeyHeader {
  std::string name;     // lower case (HTTP header names are case-insensitive)
  bool bearer = false;  // Authorization: the value must use the Bearer scheme
};

// auth.header_names in order; `Authorization` (any case) reads Bearer.
std::vector<KeyHeader> key_headers(const std::vector<std::string>& header_names);

// The key in one header value, or nullopt when the value carries none.
// Surrounding spaces and tabs are not part of the key.
//   bearer:  "Bearer" (ASCII case-insensitive), at least one space or tab,
//            then the key: non-empty, without spaces or tabs inside
//            ("Bearer a b" and "Basic …" carry no key);
//   else:    the whole value, non-empty.
std::optional<std::string_view> key_in_value(std::string_view value, bool bearer);

// The key of a request: the first of `headers`, in order, whose value
// carries one (key_in_value). `value_of(name)` returns the request's value
// of that header, empty when it is absent.
template <class ValueOf>
std::optional<std::string_view> extract_key(const std::vector<KeyHeader>& headers, ValueOf&& value_of) {
  for (const auto& h : headers) {
    const std::string_view v = value_of(std::string_view(h.name));
    if (v.empty()) continue;
    if (auto key = key_in_value(v, h.bearer)) return key;
  }
  return std::nullopt;
}

}  // namespace llmproxy::auth
