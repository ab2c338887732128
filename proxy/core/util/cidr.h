// IPv4/IPv6 addresses and CIDR blocks, parsed without Asio (the decision core
// has no I/O dependency). Used for allowed_ips/denied_ips and validated here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/util/parsed.h"

namespace llmproxy::util {

struct IpAddress {
  enum class Family : std::uint8_t { v4, v6 };
  Family family = Family::v4;
  // v4: the first 4 bytes, the rest zero. v6: all 16, network order.
  std::array<std::uint8_t, 16> bytes{};

  bool operator==(const IpAddress&) const = default;
  int bit_length() const { return family == Family::v4 ? 32 : 128; }
  // ::ffff:a.b.c.d as the IPv4 address a.b.c.d; anything else unchanged.
  IpAddress unmapped() const;
};

// Dotted quad (exactly four decimal parts 0..255, no leading zeros beyond
// "0") or RFC 4291 text (with "::" and an optional trailing dotted quad).
// Zone ids ("%eth0") are rejected.
Parsed<IpAddress> parse_ip(std::string_view text);
std::string to_string(const IpAddress& ip);

struct Cidr {
  IpAddress network;  // host bits cleared
  int prefix_len = 0;

  bool operator==(const Cidr&) const = default;
  // True when ip is inside the block. An IPv4-mapped IPv6 address
  // (::ffff:10.1.2.3) matches IPv4 blocks, as dual-stack sockets report them.
  bool contains(const IpAddress& ip) const;
};

// "10.0.0.0/8", "2001:db8::/32"; a bare address is /32 or /128. Host bits
// below the prefix are accepted and cleared ("10.1.2.3/8" = 10.0.0.0/8).
Parsed<Cidr> parse_cidr(std::string_view text);
std::string to_string(const Cidr& cidr);

}  // namespace llmproxy::util
