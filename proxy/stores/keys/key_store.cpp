#include "proxy/stores/keys/key_store.h"

namespace llmproxy::stores::keys {

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::not_found: return "not_found";
    case Outcome::duplicate: return "duplicate";
    case Outcome::unavailable: return "unavailable";
  }
  return "?";
}

std::vector<std::string> address_list(std::string_view s) {
  constexpr std::string_view kSpace = " \t";
  std::vector<std::string> out;
  for (;;) {
    const std::size_t at = s.find(',');
    std::string_view entry = s.substr(0, at);
    const std::size_t first = entry.find_first_not_of(kSpace);
    if (first != std::string_view::npos) {
      entry = entry.substr(first, entry.find_last_not_of(kSpace) - first + 1);
      out.emplace_back(entry);
    }
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace llmproxy::stores::keys
