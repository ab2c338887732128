#include "proxy/core/auth/forwarded_for.h"

#include "proxy/core/util/ows.h"

namespace llmproxy::auth {
namespace {

bool trusted_by(const util::IpAddress& ip, std::span<const util::Cidr> trusted) {
  for (const auto& block : trusted)
    if (block.contains(ip)) return true;
  return false;
}

}  // namespace

std::optional<util::IpAddress> client_address(std::string_view peer,
                                              std::span<const std::string_view> forwarded_for,
                                              std::span<const util::Cidr> trusted) {
  const auto from = util::parse_ip(peer);
  if (!from) return std::nullopt;
  if (!trusted_by(*from.value, trusted)) return from.value;
  std::optional<util::IpAddress> last;  // the left-most entry read so far
  for (auto line = forwarded_for.rbegin(); line != forwarded_for.rend(); ++line) {
    std::string_view rest = *line;
    for (;;) {
      const std::size_t comma = rest.rfind(',');
      const std::string_view entry = util::trim_ows(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      const auto ip = util::parse_ip(entry);
      if (!ip) return std::nullopt;
      if (!trusted_by(*ip.value, trusted)) return ip.value;
      last = ip.value;
      if (comma == std::string_view::npos) break;
      rest = rest.substr(0, comma);
    }
  }
  return last;
}

}  // namespace llmproxy::auth
