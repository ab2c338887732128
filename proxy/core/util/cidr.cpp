#include "proxy/core/util/cidr.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace llmproxy::util {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses exactly a dotted quad into out[0..3].
bool parse_v4(std::string_view s, std::uint8_t* out) {
  int part = 0;
  std::size_t i = 0;
  while (true) {
    if (part == 4) return false;
    std::size_t start = i;
    unsigned value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      if (value > 255) return false;
      ++i;
    }
    const std::size_t len = i - start;
    if (len == 0 || len > 3) return false;
    if (len > 1 && s[start] == '0') return false;  // "010" is ambiguous (octal in inet_aton)
    out[part++] = static_cast<std::uint8_t>(value);
    if (i == s.size()) break;
    if (s[i] != '.') return false;
    ++i;
  }
  return part == 4;
}

bool parse_v6(std::string_view s, std::uint8_t* out) {
  // Split on "::" (at most one), parse groups on each side.
  std::vector<std::uint8_t> head, tail;
  const std::size_t dc = s.find("::");
  if (dc != std::string_view::npos && s.find("::", dc + 1) != std::string_view::npos) return false;
  auto parse_groups = [](std::string_view part, std::vector<std::uint8_t>& bytes, bool allow_v4_tail) {
    if (part.empty()) return true;
    std::size_t i = 0;
    while (true) {
      const std::size_t colon = part.find(':', i);
      const std::string_view g = part.substr(i, colon == std::string_view::npos ? part.npos : colon - i);
      if (colon == std::string_view::npos && allow_v4_tail && g.find('.') != std::string_view::npos) {
        std::uint8_t v4[4];
        if (!parse_v4(g, v4)) return false;
        bytes.insert(bytes.end(), v4, v4 + 4);
        return true;
      }
      if (g.empty() || g.size() > 4) return false;
      unsigned v = 0;
      for (char c : g) {
        const int h = hex_value(c);
        if (h < 0) return false;
        v = v * 16 + static_cast<unsigned>(h);
      }
      bytes.push_back(static_cast<std::uint8_t>(v >> 8));
      bytes.push_back(static_cast<std::uint8_t>(v & 0xff));
      if (bytes.size() > 16) return false;
      if (colon == std::string_view::npos) return true;
      i = colon + 1;
    }
  };
  if (dc == std::string_view::npos) {
    if (!parse_groups(s, head, true) || head.size() != 16) return false;
    std::copy(head.begin(), head.end(), out);
    return true;
  }
  const std::string_view left = s.substr(0, dc);
  const std::string_view right = s.substr(dc + 2);
  if (!parse_groups(left, head, false) || !parse_groups(right, tail, true)) return false;
  if (head.size() + tail.size() > 14) return false;  // "::" stands for at least one group
  std::fill(out, out + 16, 0);
  std::copy(head.begin(), head.end(), out);
  std::copy(tail.begin(), tail.end(), out + 16 - tail.size());
  return true;
}

}  // namespace

IpAddress IpAddress::unmapped() const {
  if (family != Family::v6) return *this;
  for (int i = 0; i < 10; ++i)
    if (bytes[i] != 0) return *this;
  if (bytes[10] != 0xff || bytes[11] != 0xff) return *this;
  IpAddress v4;
  v4.family = Family::v4;
  for (int i = 0; i < 4; ++i) v4.bytes[i] = bytes[12 + i];
  return v4;
}

Parsed<IpAddress> parse_ip(std::string_view text) {
  using R = Parsed<IpAddress>;
  IpAddress ip;
  if (text.find(':') != std::string_view::npos) {
    ip.family = IpAddress::Family::v6;
    if (text.find('%') != std::string_view::npos)
      return R::failure("IPv6 zone ids are not supported in " + quoted(text));
    if (!parse_v6(text, ip.bytes.data())) return R::failure("invalid IPv6 address " + quoted(text));
    return R::success(ip);
  }
  if (!parse_v4(text, ip.bytes.data())) return R::failure("invalid IP address " + quoted(text));
  return R::success(ip);
}

std::string to_string(const IpAddress& ip) {
  char buf[64];
  if (ip.family == IpAddress::Family::v4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]);
    return buf;
  }
  // RFC 5952: lower case, longest run (>= 2) of zero groups as "::".
  unsigned groups[8];
  for (int i = 0; i < 8; ++i) groups[i] = (unsigned{ip.bytes[2 * i]} << 8) | ip.bytes[2 * i + 1];
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) { best = i; best_len = j - i; }
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", groups[i]);
    out += buf;
  }
  return out;
}

bool Cidr::contains(const IpAddress& raw) const {
  const IpAddress ip = network.family == IpAddress::Family::v4 ? raw.unmapped() : raw;
  if (ip.family != network.family) return false;
  int bits = prefix_len;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != network.bytes[i]) return false;
  }
  return true;
}

Parsed<Cidr> parse_cidr(std::string_view text) {
  using R = Parsed<Cidr>;
  const std::size_t slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return R::failure(ip.error);
  Cidr c;
  c.network = *ip;
  c.prefix_len = c.network.bit_length();
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return R::failure("invalid prefix length in " + quoted(text));
    int n = 0;
    for (char ch : p) {
      if (ch < '0' || ch > '9') return R::failure("invalid prefix length in " + quoted(text));
      n = n * 10 + (ch - '0');
    }
    if (n > c.network.bit_length())
      return R::failure("prefix length /" + std::to_string(n) + " is too long for " + quoted(text));
    c.prefix_len = n;
  }
  // Clear host bits so contains() is a plain masked compare.
  for (int i = 0; i < 16; ++i) {
    const int bits = c.prefix_len - 8 * i;
    if (bits >= 8) continue;
    c.network.bytes[i] &= bits <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - bits));
  }
  return R::success(c);
}

std::string to_string(const Cidr& cidr) {
  return to_string(cidr.network) + "/" + std::to_string(cidr.prefix_len);
}

}  // namespace llmproxy::util
