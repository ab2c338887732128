// What must hold for every CorsPolicy answer, whatever the config and the
// request values (shared by cors_property_test.cpp and fuzz/cors so the two
// check the same thing). Test support; production code does not include it.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <string_view>

#include "proxy/core/config/server.h"
#include "proxy/core/http/cors.h"

namespace llmproxy::http::testing {

// Header lines "Name: value\r\n" → name → value (lower-cased names); "" in
// `problem` when every line is well-formed: a token name, one space, a value
// of visible characters, spaces and tabs (no CR, LF, NUL or other controls),
// each name once.
struct ParsedLines {
  std::map<std::string, std::string> fields;
  std::string problem;
};

inline ParsedLines parse_header_lines(std::string_view text) {
  ParsedLines r;
  auto tchar = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  while (!text.empty()) {
    const auto end = text.find("\r\n");
    if (end == std::string_view::npos) {
      r.problem = "output does not end in CRLF";
      return r;
    }
    const auto line = text.substr(0, end);
    text.remove_prefix(end + 2);
    const auto colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0) {
      r.problem = "line without \"Name: \": " + std::string(line);
      return r;
    }
    const auto name = line.substr(0, colon);
    const auto value = line.substr(colon + 2);
    if (!std::all_of(name.begin(), name.end(), tchar)) {
      r.problem = "name is not a token: " + std::string(line);
      return r;
    }
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        r.problem = "control character in a value: " + std::string(line);
        return r;
      }
    }
    std::string key(name);
    std::transform(key.begin(), key.end(), key.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
    if (!r.fields.emplace(key, value).second) {
      r.problem = "header sent twice: " + key;
      return r;
    }
  }
  return r;
}

// "" when every invariant holds for this config and request, else which failed.
inline std::string cors_violation(const config::CorsConfig& cfg, const CorsPolicy& p, std::string_view method,
                                  std::string_view origin, std::string_view acr_method,
                                  std::string_view acr_headers) {
  const CorsKind kind = p.judge(method, origin, acr_method, acr_headers);
  const CorsKind as_preflight = p.judge("OPTIONS", origin, acr_method, acr_headers);
  std::string pre, resp;
  p.append_preflight_headers(origin, acr_method, acr_headers, pre);
  p.append_response_headers(origin, resp);

  if (!cfg.enabled || origin.empty()) {
    if (kind != CorsKind::not_cors) return "judged CORS while disabled or without Origin";
    if (!pre.empty()) return "preflight answer while disabled or without Origin";
  }
  if (!cfg.enabled && !resp.empty()) return "response headers while disabled";
  const bool is_preflight = cfg.enabled && !origin.empty() && method == "OPTIONS" && !acr_method.empty();
  if (is_preflight != (kind == CorsKind::preflight_allowed || kind == CorsKind::preflight_refused))
    return "preflight classification";
  if ((as_preflight == CorsKind::preflight_allowed) != !pre.empty())
    return "preflight answer present exactly when allowed";

  const bool credentials = cfg.allow_credentials;
  const bool any_origin =
      std::find(cfg.allowed_origins.begin(), cfg.allowed_origins.end(), "*") != cfg.allowed_origins.end();
  for (const auto* text : {&pre, &resp}) {
    if (text->find('\0') != std::string::npos) return "NUL in output";
    const auto parsed = parse_header_lines(*text);
    if (!parsed.problem.empty()) return parsed.problem;
    const auto& f = parsed.fields;
    const auto acao = f.find("access-control-allow-origin");
    const auto vary = f.find("vary");
    if (acao != f.end()) {
      if (credentials && acao->second == "*") return "Allow-Origin * with credentials";
      if (acao->second != "*") {
        if (acao->second != origin) return "Allow-Origin is neither * nor the request's origin";
        if (vary == f.end() || vary->second != "Origin") return "echoed origin without Vary: Origin";
      }
    }
    if (f.count("access-control-allow-credentials") != 0 &&
        (!credentials || acao == f.end() || acao->second == "*"))
      return "Allow-Credentials without an echoed origin";
    if (credentials && acao != f.end() && f.count("access-control-allow-credentials") == 0)
      return "credentials configured but not announced";
    if (text == &resp && cfg.enabled && (credentials || !any_origin) &&
        (vary == f.end() || vary->second != "Origin"))
      return "origin-dependent answer without Vary: Origin";
  }
  const auto resp_fields = parse_header_lines(resp).fields;
  const bool resp_allows = resp_fields.count("access-control-allow-origin") != 0;
  if (kind == CorsKind::simple_refused && resp_allows) return "refused request got Allow-Origin";
  if (kind == CorsKind::simple_allowed && !resp_allows) return "allowed request got no Allow-Origin";
  if (kind == CorsKind::preflight_refused && !pre.empty()) return "refused preflight got CORS headers";
  return {};
}

}  // namespace llmproxy::http::testing
