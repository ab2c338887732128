#include "proxy/stores/sql/mysql_dsn.h"

#include <charconv>

namespace llmproxy::stores::sql {
namespace {

std::optional<std::string> unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int v = 0;
    const auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || end != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

// "host", "host:port", "[v6]:port" into t.
bool host_port(std::string_view hp, MysqlTarget& t, std::string& error) {
  std::string_view host = hp, port;
  if (!hp.empty() && hp.front() == '[') {
    const std::size_t close = hp.find(']');
    if (close == std::string_view::npos) return error = "unclosed [ in host", false;
    host = hp.substr(1, close - 1);
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return error = "expected :port after ]", false;
      port = rest.substr(1);
    }
  } else if (const std::size_t colon = hp.rfind(':'); colon != std::string_view::npos) {
    host = hp.substr(0, colon);
    port = hp.substr(colon + 1);
  }
  if (!host.empty()) t.host = std::string(host);
  if (!port.empty()) {
    int p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535)
      return error = "port must be 1-65535", false;
    t.port = p;
  }
  return true;
}

// "user[:password]" into t.
bool credentials(std::string_view up, MysqlTarget& t, std::string& error) {
  const std::size_t colon = up.find(':');
  auto user = unescape(up.substr(0, colon));
  auto pass = colon == std::string_view::npos ? std::optional<std::string>("") : unescape(up.substr(colon + 1));
  if (!user || !pass) return error = "bad %-escape in user or password", false;
  t.user = std::move(*user);
  t.password = std::move(*pass);
  return true;
}

}  // namespace

std::optional<MysqlTarget> parse_mysql_dsn(std::string_view dsn, std::string& error) {
  MysqlTarget t;
  if (const std::size_t q = dsn.find('?'); q != std::string_view::npos) dsn = dsn.substr(0, q);
  const bool url = dsn.starts_with("mysql://") || dsn.starts_with("mariadb://");
  if (url) dsn.remove_prefix(dsn.find("://") + 3);
  // user:password@… — the last @ ends the credentials (a password may hold one).
  const std::size_t at = dsn.rfind('@');
  if (at != std::string_view::npos) {
    if (!credentials(dsn.substr(0, at), t, error)) return std::nullopt;
    dsn.remove_prefix(at + 1);
  }
  const std::size_t slash = dsn.find('/');
  std::string_view where = dsn.substr(0, slash);
  if (slash != std::string_view::npos) t.database = std::string(dsn.substr(slash + 1));
  if (!url) {
    // Go form: tcp(host:port), or nothing (local default).
    if (!where.empty()) {
      if (!where.starts_with("tcp(") || !where.ends_with(")")) {
        error = "expected tcp(host:port) before /database";
        return std::nullopt;
      }
      where = where.substr(4, where.size() - 5);
    }
  }
  if (!host_port(where, t, error)) return std::nullopt;
  if (t.database.find('/') != std::string::npos) {
    error = "database name must not contain /";
    return std::nullopt;
  }
  return t;
}

}  // namespace llmproxy::stores::sql
