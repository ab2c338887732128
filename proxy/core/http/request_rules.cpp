#include "proxy/core/http/request_rules.h"

#include <array>

namespace llmproxy::http {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }


bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "/a/b/" and "/a/b" name the same resource.
std::string_view trim_trailing_slash(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  return p;
}

RouteMatch exact(Route r, std::string_view method, std::string_view allowed,
                 std::string_view allow_header) {
  RouteMatch m;
  m.route = r;
  // `allowed` is a space-separated list of methods.
  m.method_allowed = false;
  std::size_t i = 0;
  while (i < allowed.size()) {
    auto j = allowed.find(' ', i);
    if (j == std::string_view::npos) j = allowed.size();
    if (allowed.substr(i, j - i) == method) m.method_allowed = true;
    i = j + 1;
  }
  m.allow = allow_header;
  return m;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

const char* route_name(Route r) {
  switch (r) {
    case Route::chat_completions: return "chat_completions";
    case Route::completions: return "completions";
    case Route::embeddings: return "embeddings";
    case Route::models: return "models";
    case Route::v1_passthrough: return "v1_passthrough";
    case Route::health: return "health";
    case Route::ready: return "ready";
    case Route::metrics: return "metrics";
    case Route::admin: return "admin";
    case Route::not_found: return "not_found";
  }
  return "not_found";
}

RouteMatch classify(std::string_view method, std::string_view path, std::string_view metrics_path) {
  const std::string_view p = trim_trailing_slash(path);
  if (p == "/v1/chat/completions") return exact(Route::chat_completions, method, "POST", "POST");
  if (p == "/v1/completions") return exact(Route::completions, method, "POST", "POST");
  if (p == "/v1/embeddings") return exact(Route::embeddings, method, "POST", "POST");
  if (p == "/v1/models" || starts_with(p, "/v1/models/"))
    return exact(Route::models, method, "GET HEAD", "GET, HEAD");
  if (starts_with(p, "/v1/")) return RouteMatch{Route::v1_passthrough, true, {}};
  if (p == "/health") return exact(Route::health, method, "GET HEAD", "GET, HEAD");
  if (p == "/ready") return exact(Route::ready, method, "GET HEAD", "GET, HEAD");
  if (!metrics_path.empty() && p == trim_trailing_slash(metrics_path))
    return exact(Route::metrics, method, "GET HEAD", "GET, HEAD");
  if (p == "/admin" || starts_with(p, "/admin/")) return RouteMatch{Route::admin, true, {}};
  return RouteMatch{};
}

bool is_proxied(Route r) {
  return r == Route::chat_completions || r == Route::completions || r == Route::embeddings ||
         r == Route::models || r == Route::v1_passthrough;
}

bool needs_json_body(Route r) {
  return r == Route::chat_completions || r == Route::completions || r == Route::embeddings;
}

void join_list(std::string_view& list, std::string_view value, std::string& scratch) {
  if (list.data() == nullptr) {
    list = value;
    return;
  }
  if (list.data() != scratch.data()) scratch.assign(list);
  scratch += ", ";
  scratch += value;
  list = scratch;
}

bool is_hop_by_hop(std::string_view name, std::string_view connection_header) {
  static constexpr std::array<std::string_view, 9> kFixed = {
      "connection", "keep-alive", "proxy-connection", "te", "trailer",
      "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization"};
  for (auto f : kFixed)
    if (iequals(name, f)) return true;
  // Tokens of the Connection header, comma separated, optional whitespace.
  std::size_t i = 0;
  while (i < connection_header.size()) {
    auto j = connection_header.find(',', i);
    if (j == std::string_view::npos) j = connection_header.size();
    std::string_view tok = connection_header.substr(i, j - i);
    while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
    while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
    if (!tok.empty() && iequals(tok, name)) return true;
    i = j + 1;
  }
  return false;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

std::string generate_request_id(Rng& rng) {
  std::string s;
  generate_request_id(rng, s);
  return s;
}

void generate_request_id(Rng& rng, std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  s.assign(32, '0');
  std::uint64_t a = rng.next(), b = rng.next();
  for (int i = 0; i < 16; ++i) {
    s[static_cast<std::size_t>(i)] = kHex[(a >> (i * 4)) & 15];
    s[static_cast<std::size_t>(16 + i)] = kHex[(b >> (i * 4)) & 15];
  }
}

void append_forwarded_for(std::string& out, std::string_view incoming, std::string_view peer_ip) {
  auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!incoming.empty() && (is_ows(incoming.front()) || incoming.front() == ',')) incoming.remove_prefix(1);
  while (!incoming.empty() && (is_ows(incoming.back()) || incoming.back() == ',')) incoming.remove_suffix(1);
  bool usable = !incoming.empty();
  for (unsigned char c : incoming)
    if ((c < 0x20 && c != '\t') || c >= 0x7f) usable = false;
  if (usable) {
    out.append(incoming);
    out.append(", ");
  }
  out.append(peer_ip);
}

}  // namespace llmproxy::http
