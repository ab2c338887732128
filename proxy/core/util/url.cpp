#include "proxy/core/util/url.h"

#include <cctype>

#include "proxy/core/util/cidr.h"

namespace llmproxy::util {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_hostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return h.front() != '.' && h.front() != '-';
}

// Parses a decimal port 1..65535; returns 0 on error.
std::uint16_t parse_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return 0;
  unsigned v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v >= 1 && v <= 65535 ? static_cast<std::uint16_t>(v) : 0;
}

// Splits "host:port" / "[v6]:port" / "host" into parts; error message or "".
std::string split_authority(std::string_view a, std::string& host, std::string_view& port,
                            bool& has_port) {
  has_port = false;
  if (!a.empty() && a.front() == '[') {
    const std::size_t close = a.find(']');
    if (close == std::string_view::npos) return "missing \"]\" after IPv6 address";
    const std::string_view v6 = a.substr(1, close - 1);
    auto ip = parse_ip(v6);
    if (!ip || ip->family != IpAddress::Family::v6) return "invalid IPv6 address \"" + std::string(v6) + "\"";
    host = lower(v6);
    const std::string_view rest = a.substr(close + 1);
    if (rest.empty()) return "";
    if (rest.front() != ':') return "unexpected text after \"]\"";
    port = rest.substr(1);
    has_port = true;
    return "";
  }
  const std::size_t colon = a.rfind(':');
  if (colon != std::string_view::npos && a.find(':') != colon)
    return "IPv6 addresses must be in brackets, e.g. [::1]:8000";
  if (colon != std::string_view::npos) {
    port = a.substr(colon + 1);
    has_port = true;
    a = a.substr(0, colon);
  }
  host = lower(a);
  return "";
}

}  // namespace

std::string Url::authority() const {
  return (host_is_ipv6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::to_string() const { return scheme + "://" + authority() + base_path; }

Parsed<Url> parse_url(std::string_view text) {
  using R = Parsed<Url>;
  const std::string q = quoted(text);
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos)
    return R::failure("invalid URL " + q + " (expected http://host:port or https://host:port)");
  Url u;
  u.scheme = lower(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https")
    return R::failure("unsupported URL scheme in " + q + " (use http or https)");
  std::string_view rest = text.substr(sep + 3);
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return R::failure("URL " + q + " contains a space or control character");
  }
  const std::size_t end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos)
    return R::failure("URL " + q + " has user info; put credentials in headers instead");
  if (path.find_first_of("?#") != std::string_view::npos)
    return R::failure("URL " + q + " has a query or fragment; only a base path is allowed");
  std::string_view port_text;
  bool has_port = false;
  const std::string err = split_authority(authority, u.host, port_text, has_port);
  if (!err.empty()) return R::failure("invalid URL " + q + ": " + err);
  if (!u.host_is_ipv6() && !is_hostname(u.host))
    return R::failure("invalid host in URL " + q);
  if (has_port) {
    u.port = parse_port(port_text);
    if (u.port == 0) return R::failure("invalid port in URL " + q + " (1..65535)");
  } else {
    u.port = u.tls() ? 443 : 80;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  u.base_path = std::string(path);
  return R::success(std::move(u));
}

Parsed<HostPort> parse_host_port(std::string_view text) {
  using R = Parsed<HostPort>;
  const std::string q = quoted(text);
  HostPort hp;
  std::string_view port_text;
  bool has_port = false;
  const std::string err = split_authority(text, hp.host, port_text, has_port);
  if (!err.empty()) return R::failure("invalid address " + q + ": " + err);
  if (!has_port) return R::failure("missing port in address " + q + " (expected host:port or :port)");
  if (!hp.host.empty() && hp.host.find(':') == std::string::npos && !is_hostname(hp.host))
    return R::failure("invalid host in address " + q);
  hp.port = parse_port(port_text);
  if (hp.port == 0) return R::failure("invalid port in address " + q + " (1..65535)");
  return R::success(std::move(hp));
}

}  // namespace llmproxy::util
