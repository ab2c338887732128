#include "proxy/core/config/checks.h"

#include <cctype>
#include <charconv>

#include "proxy/core/util/cidr.h"
#include "proxy/core/util/url.h"

namespace llmproxy::config::check {

std::string number_text(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string url(const std::string& s) {
  if (s.empty()) return "";
  auto r = util::parse_url(s);
  return r ? "" : r.error;
}

std::string listen_address(const std::string& s) {
  if (s.empty()) return "";
  auto r = util::parse_host_port(s);
  return r ? "" : r.error;
}

std::string host_port(const std::string& s) { return listen_address(s); }

std::string http_method(const std::string& s) {
  if (s.empty()) return "must not be empty";
  for (char c : s)
    if (c < 'A' || c > 'Z') return "invalid HTTP method \"" + s + "\" (upper-case letters, e.g. GET)";
  return "";
}

std::string url_path(const std::string& s) {
  if (s.empty() || s.front() != '/') return "must be a path starting with \"/\"";
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '?' || c == '#' || c == 0x7f)
      return "invalid character in path \"" + s + "\"";
  return "";
}

std::string cidr_list(const std::vector<std::string>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto r = util::parse_cidr(v[i]);
    if (!r) return "[" + std::to_string(i) + "]: " + r.error;
  }
  return "";
}

std::string url_list(const std::vector<std::string>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto r = util::parse_url(v[i]);
    if (!r) return "[" + std::to_string(i) + "]: " + r.error;
  }
  return "";
}

std::string timestamp(const std::string& s) {
  if (s.empty()) return "";
  bool digits = true;
  for (char c : s) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits && s.size() <= 12) return "";
  // RFC 3339: 2006-01-02T15:04:05Z or with offset / fraction.
  auto d = [&](std::size_t i) { return i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); };
  const bool date_ok = s.size() >= 20 && d(0) && d(1) && d(2) && d(3) && s[4] == '-' && d(5) && d(6) &&
                       s[7] == '-' && d(8) && d(9) && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') && d(11) &&
                       d(12) && s[13] == ':' && d(14) && d(15) && s[16] == ':' && d(17) && d(18);
  if (date_ok) {
    std::size_t i = 19;
    if (s[i] == '.') {
      ++i;
      while (d(i)) ++i;
    }
    const std::string_view zone = std::string_view(s).substr(i);
    if (zone == "Z" || zone == "z") return "";
    if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && d(i + 1) && d(i + 2) && zone[3] == ':' &&
        d(i + 4) && d(i + 5))
      return "";
  }
  return "invalid time \"" + s + "\" (RFC 3339, e.g. 2026-01-31T00:00:00Z, or unix seconds)";
}

std::string ascending_positive(const std::vector<double>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!(v[i] > 0)) return "buckets must be greater than 0";
    if (i > 0 && !(v[i] > v[i - 1])) return "buckets must be in strictly ascending order";
  }
  return "";
}

std::string non_empty(const std::string& s) { return s.empty() ? "must not be empty" : ""; }

}  // namespace llmproxy::config::check
