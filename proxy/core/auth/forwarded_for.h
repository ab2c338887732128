// The client address auth judges allowed_ips/denied_ips by, when the
// gateway sits behind proxies it trusts (auth.trusted_proxies, an
// extension; docs/auth.md#behind-a-proxy). Pure.
//
// Exact semantics (what nginx's real_ip with `real_ip_recursive on` does):
//   - the TCP peer is outside every trusted block (or there are none): the
//     client is the peer; X-Forwarded-For is ignored (anyone can write it);
//   - the peer is trusted: the X-Forwarded-For entries (every such header
//     line, in order, comma-separated, blanks around entries ignored) are
//     read from the right; the first that is not inside a trusted block is
//     the client; if every entry is trusted, the left-most one is;
//   - an entry that is not an address (a name, "unknown", a port, an empty
//     entry) ends the walk with the client unknown (nullopt), as does a
//     trusted peer that sent no X-Forwarded-For: a key with IP rules is
//     then refused, never judged by an address an untrusted hop supplied.
// A peer that is not an address itself is unknown.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "proxy/core/util/cidr.h"

namespace llmproxy::auth {

std::optional<util::IpAddress> client_address(std::string_view peer,
                                              std::span<const std::string_view> forwarded_for,
                                              std::span<const util::Cidr> trusted);

}  // namespace llmproxy::auth
