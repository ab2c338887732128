// Backend and endpoint URLs: "http://host:port/base", "https://...",
// "http://[::1]:8000". Only http and https; no user info, query or fragment.
// A trailing "/" on the path is dropped, so "http://h:1/v1/" and
// "http://h:1/v1" are the same backend.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/util/parsed.h"

namespace llmproxy::util {

struct Url {
  std::string scheme;     // "http" or "https" (lower case)
  std::string host;       // lower case; IPv6 without brackets
  std::uint16_t port = 0; // explicit, or 80 / 443
  std::string base_path;  // "" or "/v1" (never ends in "/")

  bool operator==(const Url&) const = default;
  bool tls() const { return scheme == "https"; }
  bool host_is_ipv6() const { return host.find(':') != std::string::npos; }
  // Canonical text, port always explicit: "http://[::1]:8000/v1".
  std::string to_string() const;
  // "host:port" for Host headers and connecting ("[::1]:8000").
  std::string authority() const;
};

Parsed<Url> parse_url(std::string_view text);

// "host:port", ":port", "[v6]:port" as used by server.listen and cache addr.
struct HostPort {
  std::string host;  // empty = all interfaces; IPv6 without brackets
  std::uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};
Parsed<HostPort> parse_host_port(std::string_view text);

}  // namespace llmproxy::util
