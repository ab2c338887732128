// A key's allowed_ips / denied_ips (BEHAVIOR §7): IPv4 and IPv6 addresses
// and CIDR blocks (proxy/core/util/cidr.h). Exact semantics:
//   - a client inside any denied block is refused (deny wins over allow);
//   - else, with no allowed blocks, it is let in; with some, only when it
//     is inside one of them;
//   - an IPv4-mapped IPv6 peer (::ffff:10.1.2.3, as dual-stack sockets
//     report IPv4 clients) matches IPv4 blocks (Cidr::contains);
//   - when the key has any rule and the client's address is unknown (not
//     an address), the client is refused: a rule nobody can check does not
//     let anybody in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proxy/core/util/cidr.h"
#include "proxy/core/util/parsed.h"

namespace llmproxy::auth {

class IpRules {
 public:
  IpRules() = default;
  // Every entry must parse (check-config has said so); the first that does
  // not is the error.
  static util::Parsed<IpRules> parse(const std::vector<std::string>& allowed,
                                     const std::vector<std::string>& denied);

  bool empty() const { return allow_.empty() && deny_.empty(); }
  bool permits(const std::optional<util::IpAddress>& client) const;

 private:
  std::vector<util::Cidr> allow_;
  std::vector<util::Cidr> deny_;
};

}  // namespace llmproxy::auth
