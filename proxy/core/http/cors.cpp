#include "proxy/core/http/cors.h"

#include <algorithm>
#include <optional>

#include "proxy/core/config/server.h"
#include "proxy/core/http/request_rules.h"
#include "proxy/core/util/ows.h"

namespace llmproxy::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// The names a browser may send without the server's leave (Fetch, "CORS-
// safelisted request-header"); it still lists them in a preflight when their
// value is not safelisted (Content-Type: application/json), so they are
// always allowed and always answered.
constexpr std::string_view kSafelistedRequestHeaders[] = {"Accept", "Accept-Language", "Content-Language",
                                                          "Content-Type"};

// The gateway's own response headers a browser client reads (the OpenAI SDKs
// read the request id, the rate-limit state and Retry-After); none of them
// is CORS-safelisted, so without listing them a script cannot see them.
constexpr std::string_view kGatewayExposedHeaders[] = {
    "x-request-id",
    "retry-after",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool is_host_char(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

bool is_host(std::string_view h) {
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    const auto inner = h.substr(1, h.size() - 2);
    return !inner.empty() &&
           std::all_of(inner.begin(), inner.end(), [](char c) { return is_hex(c) || c == ':' || c == '.'; });
  }
  return !h.empty() && std::all_of(h.begin(), h.end(), is_host_char);
}

bool is_port(std::string_view p) {
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), is_digit)) return false;
  unsigned v = 0;
  for (char c : p) v = v * 10 + static_cast<unsigned>(c - '0');
  return v <= 65535;
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

// A serialized tuple origin, as views into the text it was parsed from.
struct OriginParts {
  std::string_view scheme;
  std::string_view host;  // "*.example.com" for a pattern
  std::string_view port;  // "" when absent
};

// scheme "://" host [":" port]; with `pattern`, the host must instead be
// "*." followed by a host.
std::optional<OriginParts> parse_origin(std::string_view s, bool pattern) {
  const auto sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  OriginParts o;
  o.scheme = s.substr(0, sep);
  if (!is_alpha(o.scheme.front()) ||
      !std::all_of(o.scheme.begin(), o.scheme.end(),
                   [](char c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'; }))
    return std::nullopt;
  std::string_view rest = s.substr(sep + 3);
  // The port is after the last ':' that follows an IPv6 literal's ']'.
  const auto bracket = rest.rfind(']');
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    o.port = rest.substr(colon + 1);
    if (!is_port(o.port)) return std::nullopt;
    rest = rest.substr(0, colon);
  }
  o.host = rest;
  if (pattern) {
    if (o.host.size() < 3 || o.host.substr(0, 2) != "*.") return std::nullopt;
    const auto base = o.host.substr(2);
    if (base.front() == '[' || base.front() == '.' || !is_host(base)) return std::nullopt;
  } else if (!is_host(o.host)) {
    return std::nullopt;
  }
  return o;
}

// Calls f(name) for each non-empty element of a comma-separated list, with
// optional whitespace around elements removed; stops when f returns false.
template <class F>
bool for_each_element(std::string_view list, F f) {
  std::size_t i = 0;
  while (i <= list.size()) {
    auto j = list.find(',', i);
    if (j == std::string_view::npos) j = list.size();
    const auto element = util::trim_ows(list.substr(i, j - i));
    if (!element.empty() && !f(element)) return false;
    i = j + 1;
  }
  return true;
}

bool contains_exact(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool contains_icase(const std::vector<std::string>& v, std::string_view s) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& e) { return iequals(e, s); });
}

std::string header_line(std::string_view name, const std::vector<std::string>& values) {
  std::string line(name);
  line += ": ";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) line += ", ";
    line += values[i];
  }
  line += kCrlf;
  return line;
}

std::string_view without_trailing_slash(std::string_view entry) {
  if (!entry.empty() && entry.back() == '/') entry.remove_suffix(1);
  return entry;
}

}  // namespace

CorsPolicy::CorsPolicy(const config::CorsConfig& cfg)
    : enabled_(cfg.enabled), credentials_(cfg.allow_credentials) {
  for (const auto& raw : cfg.allowed_origins) {
    const auto entry = without_trailing_slash(raw);
    if (entry == "*") {
      any_origin_ = true;
    } else if (iequals(entry, "null")) {
      null_origin_ = true;
    } else if (const auto p = parse_origin(entry, true)) {
      patterns_.push_back({std::string(p->scheme), std::string(p->host.substr(1)), std::string(p->port)});
    } else if (parse_origin(entry, false)) {
      origins_.emplace_back(entry);
    }
  }

  for (const auto& m : cfg.allowed_methods) {
    if (m == "*") any_method_ = true;
    else if (!contains_exact(methods_, m)) methods_.push_back(m);
  }
  if (!methods_.empty()) methods_line_ = header_line("Access-Control-Allow-Methods", methods_);

  for (const auto& h : cfg.allowed_headers) {
    if (h == "*") any_header_ = true;
    else if (!contains_icase(headers_, h)) headers_.push_back(h);
  }
  for (const auto h : kSafelistedRequestHeaders)
    if (!contains_icase(headers_, h)) headers_.emplace_back(h);
  headers_line_ = header_line("Access-Control-Allow-Headers", headers_);

  if (credentials_) credentials_line_ = "Access-Control-Allow-Credentials: true\r\n";
  max_age_line_ = "Access-Control-Max-Age: " + std::to_string(cfg.max_age) + "\r\n";

  const bool expose_all =
      !credentials_ && std::find(cfg.expose_headers.begin(), cfg.expose_headers.end(), "*") != cfg.expose_headers.end();
  if (expose_all) {
    expose_line_ = "Access-Control-Expose-Headers: *\r\n";
  } else {
    std::vector<std::string> expose(std::begin(kGatewayExposedHeaders), std::end(kGatewayExposedHeaders));
    for (const auto& h : cfg.expose_headers)
      if (h != "*" && !contains_icase(expose, h)) expose.push_back(h);
    expose_line_ = header_line("Access-Control-Expose-Headers", expose);
  }
}

bool CorsPolicy::origin_allowed(std::string_view origin) const {
  if (any_origin_ && !credentials_) return true;  // answered `*`: nothing of it is echoed
  if (origin == "null") return null_origin_;
  const auto o = parse_origin(origin, false);
  if (!o) return false;
  if (any_origin_) return true;
  if (std::any_of(origins_.begin(), origins_.end(), [&](const std::string& e) { return iequals(e, origin); }))
    return true;
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const Pattern& p) {
    // The subdomain part before the suffix must be a non-empty label run.
    return iequals(o->scheme, p.scheme) && o->port == p.port && o->host.size() > p.host_suffix.size() &&
           iends_with(o->host, p.host_suffix) && o->host[o->host.size() - p.host_suffix.size() - 1] != '.';
  });
}

bool CorsPolicy::method_allowed(std::string_view method) const {
  return is_token(method) && (any_method_ || contains_exact(methods_, method));
}

bool CorsPolicy::headers_allowed(std::string_view acr_headers) const {
  return for_each_element(acr_headers, [&](std::string_view name) {
    return is_token(name) && (any_header_ || contains_icase(headers_, name));
  });
}

CorsKind CorsPolicy::judge(std::string_view method, std::string_view origin, std::string_view acr_method,
                           std::string_view acr_headers) const {
  if (!enabled_ || origin.empty()) return CorsKind::not_cors;
  if (method != "OPTIONS" || acr_method.empty())
    return origin_allowed(origin) ? CorsKind::simple_allowed : CorsKind::simple_refused;
  if (origin_allowed(origin) && method_allowed(acr_method) && headers_allowed(acr_headers))
    return CorsKind::preflight_allowed;
  return CorsKind::preflight_refused;
}

void CorsPolicy::append_preflight_headers(std::string_view origin, std::string_view acr_method,
                                          std::string_view acr_headers, std::string& out) const {
  if (judge("OPTIONS", origin, acr_method, acr_headers) != CorsKind::preflight_allowed) return;
  out += "Access-Control-Allow-Origin: ";
  out += echoes_origin() ? origin : std::string_view("*");
  out += kCrlf;
  out += credentials_line_;
  if (any_method_) {
    // With credentials `*` is a literal method name to a browser.
    out += "Access-Control-Allow-Methods: ";
    out += credentials_ ? acr_method : std::string_view("*");
    out += kCrlf;
  } else {
    out += methods_line_;
  }
  if (any_header_) {
    bool first = true;
    for_each_element(acr_headers, [&](std::string_view name) {
      out += first ? "Access-Control-Allow-Headers: " : ", ";
      out += name;
      first = false;
      return true;
    });
    if (!first) out += kCrlf;
  } else {
    out += headers_line_;
  }
  out += max_age_line_;
  if (echoes_origin()) out += "Vary: Origin\r\n";
}

void CorsPolicy::append_response_headers(std::string_view origin, std::string& out) const {
  if (!enabled_) return;
  if (!echoes_origin()) {
    out += "Access-Control-Allow-Origin: *\r\n";
    out += expose_line_;
    return;
  }
  if (!origin.empty() && origin_allowed(origin)) {
    out += "Access-Control-Allow-Origin: ";
    out += origin;
    out += kCrlf;
    out += credentials_line_;
    out += expose_line_;
  }
  out += "Vary: Origin\r\n";
}

std::string origin_entry_problem(std::string_view entry) {
  entry = without_trailing_slash(entry);
  if (entry == "*" || iequals(entry, "null") || parse_origin(entry, true) || parse_origin(entry, false)) return {};
  if (entry.find('*') != std::string_view::npos)
    return "a wildcard origin must be scheme://*.domain[:port], e.g. https://*.example.com";
  if (entry.find("://") == std::string_view::npos) return "an origin needs a scheme, e.g. https://app.example.com";
  return "not an origin: scheme://host[:port] with no path, query or user info";
}

bool is_cors_response_header(std::string_view name) { return istarts_with(name, "access-control-"); }

}  // namespace llmproxy::http
