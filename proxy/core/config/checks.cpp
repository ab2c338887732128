#include "proxy/core/config/checks.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

#include "proxy/core/util/cidr.h"
#include "proxy/core/util/timestamp.h"
#include "proxy/core/util/url.h"

namespace llmproxy::config::check {
namespace {

// RFC 9110 §5.6.2: the characters of a token (header names, methods).
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Controls other than tab end or corrupt a header line (RFC 9110 §5.5).
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

// The offending character as an operator would look for it in the file.
std::string describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (c == '\r' || c == '\n') return "a line break (CR/LF)";
  if (c == ' ') return "a space";
  if (c == '\t') return "a tab";
  if (u == 0) return "a control character (NUL)";
  if (u == 0x7f) return "a control character (DEL)";
  if (u < 0x20) {
    constexpr const char* kHex = "0123456789ABCDEF";
    return std::string("a control character (0x") + kHex[u >> 4] + kHex[u & 15] + ")";
  }
  if (u >= 0x80) return "a non-ASCII character";
  return "'" + std::string(1, c) + "'";
}

// "" when s is a token, else what is wrong with it; `what` names the field.
std::string token(const std::string& s, std::string_view what) {
  const std::string w(what);
  if (s.empty()) return w + " must not be empty";
  // A line break is the dangerous case: name it even when it is not first.
  std::size_t bad = s.find_first_of("\r\n");
  if (bad == std::string::npos)
    bad = static_cast<std::size_t>(std::find_if_not(s.begin(), s.end(), is_tchar) - s.begin());
  if (bad == s.size()) return "";
  return w + " contains " + describe(s[bad]) + "; " + w + "s may use only letters, digits and !#$%&'*+-.^_`|~";
}

// The list checks' style: "[i]: reason" for the first item that fails.
template <class Check>
std::string first_failing(const std::vector<std::string>& v, Check check) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string reason = check(v[i]);
    if (!reason.empty()) return "[" + std::to_string(i) + "]: " + reason;
  }
  return "";
}

}  // namespace

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
  if (s.empty()) return "";  // null: never
  auto r = util::parse_timestamp(s);
  return r ? "" : r.error;
}

std::string ascending_positive(const std::vector<double>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!(v[i] > 0)) return "buckets must be greater than 0";
    if (i > 0 && !(v[i] > v[i - 1])) return "buckets must be in strictly ascending order";
  }
  return "";
}

std::string non_empty(const std::string& s) { return s.empty() ? "must not be empty" : ""; }

std::string header_name(const std::string& s) { return token(s, "header name"); }

std::string header_value(const std::string& s) {
  const std::size_t br = s.find_first_of("\r\n");
  if (br != std::string::npos) {
    // Usually a secret file's trailing newline, brought in by ${VAR}.
    if (s.find_first_not_of("\r\n", br) == std::string::npos)
      return "value ends with a line break (CR/LF), as text read from a file often does; "
             "header values must be one line";
    return "value contains a line break (CR/LF); header values must be one line";
  }
  for (char c : s)
    if (is_control(c))
      return "value contains " + describe(c) + "; header values may hold only visible characters, spaces and tabs";
  return "";
}

std::string header_name_list(const std::vector<std::string>& v) { return first_failing(v, header_name); }
std::string header_value_list(const std::vector<std::string>& v) { return first_failing(v, header_value); }
std::string method_token_list(const std::vector<std::string>& v) {
  return first_failing(v, [](const std::string& s) { return token(s, "method"); });
}

}  // namespace llmproxy::config::check
