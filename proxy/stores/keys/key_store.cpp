#include "proxy/stores/keys/key_store.h"

#include "proxy/core/util/ows.h"

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
  std::vector<std::string> out;
  for (;;) {
    const std::size_t at = s.find(',');
    if (const std::string_view entry = util::trim_ows(s.substr(0, at)); !entry.empty()) out.emplace_back(entry);
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace llmproxy::stores::keys
