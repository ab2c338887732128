// Value types of the config model that are more than a C++ scalar, and the
// vocabulary the structs' visit() functions use to list their fields.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmproxy::config {

// A password, token or API key: printed as kRedacted by print_config(…, true).
struct Secret {
  std::string value;
  bool operator==(const Secret&) const = default;
  bool empty() const { return value.empty(); }
};
inline constexpr std::string_view kRedacted = "<redacted>";

// A byte count written as "10485760", "10MB" (10^7) or "10MiB" (2^20·10).
struct ByteSize {
  std::uint64_t bytes = 0;
  bool operator==(const ByteSize&) const = default;
};

// An ordered string→string map (HTTP headers), in file order.
struct HeaderMap {
  std::vector<std::pair<std::string, std::string>> entries;
  bool operator==(const HeaderMap&) const = default;
  bool empty() const { return entries.empty(); }
};

// Header names whose values print_config(…, true) redacts.
bool is_sensitive_header(std::string_view name);

// A field's key and an optional alias accepted on input (never printed).
struct Key {
  std::string_view name;
  std::string_view alias{};
  constexpr Key(const char* n) : name(n) {}  // NOLINT: implicit by design
  constexpr Key(std::string_view n, std::string_view a) : name(n), alias(a) {}
};

// Enum ↔ text. The first entry for a value is its canonical (printed) name;
// later ones are accepted aliases. Each enum provides, found by ADL:
//   std::span<const EnumEntry<E>> enum_entries(E);
template <class E>
struct EnumEntry {
  std::string_view name;
  E value;
};

template <class E>
std::string_view enum_name(E value) {
  for (const auto& e : enum_entries(E{}))
    if (e.value == value) return e.name;
  return "?";
}

}  // namespace llmproxy::config
