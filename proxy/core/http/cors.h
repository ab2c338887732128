// CORS (server.cors, BEHAVIOR §13; the Fetch standard's "CORS protocol"):
// which cross-origin requests the gateway allows, and the exact header lines
// it answers with. Pure; built once per config, then shared read-only by the
// workers. The per-request calls never allocate except by appending to the
// caller's (reused) output string.
//
// Judging a request (judge()):
//   - CORS disabled, or no Origin (or an empty one)           → not_cors
//   - OPTIONS with Origin and Access-Control-Request-Method   → a preflight
//   - any other request with Origin                           → an actual ("simple") request
//   An actual request is allowed when its origin is; its method and headers
//   are not judged (a browser only sends a non-safelisted one after a
//   preflight that allowed it). A preflight is allowed when its origin is,
//   its requested method is, and each of its requested headers is.
//
// Origins (allowed_origins), compared with the request's Origin value:
//   "*"                       any origin. Without credentials the answer is
//                             `Access-Control-Allow-Origin: *` for every
//                             Origin value (nothing is echoed). With
//                             allow_credentials the origin is echoed instead
//                             (browsers reject `*` with credentials), so then
//                             it must be a well-formed origin, and "null" is
//                             not covered (sandboxed documents and data: URLs
//                             of any site send "null"; list it to allow it).
//   "null"                    the opaque origin "null", and only when listed.
//   "https://app.example.com:8443"
//                             exactly that origin: scheme and host compared
//                             case-insensitively, port exactly (browsers omit
//                             a default port, so write it as they send it). A
//                             trailing "/" on the entry is ignored.
//   "https://*.example.com[:port]"
//                             any subdomain (one label or more) of
//                             example.com — not example.com itself — with
//                             that scheme and port.
//   Entries of any other shape match nothing (origin_entry_problem() says why).
//   A request Origin is well-formed when it is "null" or
//   scheme "://" host [":" port] with scheme = ALPHA *(ALPHA DIGIT + - .),
//   host = 1*(ALPHA DIGIT - . _ ~) or "[" IPv6 "]", port = 1–5 digits; only a
//   well-formed origin is ever echoed, so a value with CR, LF, NUL, spaces or
//   commas can never reach an answer.
//
// Methods (allowed_methods): the requested method must be listed, compared
//   case-sensitively as HTTP methods are (RFC 9110 §9.1; browsers upper-case
//   only DELETE GET HEAD OPTIONS POST PUT themselves), or the list holds "*".
// Headers (allowed_headers): Access-Control-Request-Headers is a comma list
//   of field names (OWS around commas, empty elements ignored); each must be
//   a token and be listed (case-insensitively), or be one of the CORS-
//   safelisted names Accept, Accept-Language, Content-Language, Content-Type,
//   or the list holds "*". A name that is not a token refuses the preflight.
//
// Answer to an allowed preflight (status 204, kPreflightAllowedStatus), in
// this order:
//   Access-Control-Allow-Origin: <echoed origin> | *
//   Access-Control-Allow-Credentials: true          (allow_credentials)
//   Access-Control-Allow-Methods: <configured list, as written, ", "-joined>
//       with "*" listed: `*`, or with credentials the requested method
//   Access-Control-Allow-Headers: <configured names, then those safelisted
//       names not configured> — with "*" listed: the requested names echoed
//       (with or without credentials: `*` does not cover Authorization, and
//       with credentials it is not a wildcard at all); omitted when the
//       request names none
//   Access-Control-Max-Age: <max_age>
//   Vary: Origin                                    (when the origin is echoed)
// A refused preflight gets no CORS header at all (the browser then blocks
// the request); the gateway answers it 403 with the OpenAI-shaped error
// `cors_preflight_refused` (kPreflightRefusedStatus), so a person with curl
// sees why. A preflight is answered by the gateway on any path, before auth
// and rate limits (browsers never send credentials on one), and is never
// forwarded upstream.
//
// Headers on actual responses (append_response_headers), for every response
// while CORS is enabled — with or without Origin, allowed or not:
//   - "*" without credentials: `Access-Control-Allow-Origin: *` and the
//     Expose-Headers line on every response, no Vary (the answer does not
//     depend on the request, which is what the Fetch standard advises so
//     that a shared cache can never hand a CORS-less copy to a browser).
//   - otherwise the answer depends on the Origin, so `Vary: Origin` is on
//     every response; when the origin is allowed it is echoed, with
//     `Access-Control-Allow-Credentials: true` when configured, and the
//     Expose-Headers line.
//   Expose-Headers lists the gateway's own headers clients read —
//   x-request-id, retry-after and the six x-ratelimit-* headers
//   (docs/rate-limits.md) — then the configured expose_headers not already
//   listed; a configured "*" without credentials makes it `*` (with
//   credentials "*" is not a wildcard and is left out).
// The caller should drop Access-Control-* headers a backend sent when CORS is
// enabled (is_cors_response_header), so a client never sees two answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Declared, not included: the request path includes this header for
// is_cors_response_header, and editing the server module's config must not
// rebuild it (the policy's users include proxy/core/config/server.h).
namespace llmproxy::config {
struct CorsConfig;
}

namespace llmproxy::http {

enum class CorsKind : std::uint8_t { not_cors, preflight_allowed, preflight_refused, simple_allowed, simple_refused };

inline constexpr int kPreflightAllowedStatus = 204;
inline constexpr int kPreflightRefusedStatus = 403;

class CorsPolicy {
 public:
  explicit CorsPolicy(const config::CorsConfig& cfg);

  bool enabled() const { return enabled_; }

  // Judges a request from its method and its Origin / Access-Control-Request-
  // Method / Access-Control-Request-Headers values ("" when absent; several
  // Access-Control-Request-Headers fields joined with "," first).
  CorsKind judge(std::string_view method, std::string_view origin, std::string_view acr_method,
                 std::string_view acr_headers) const;

  // Appends the header lines ("Name: value\r\n") answering a preflight.
  // Appends nothing unless judge("OPTIONS", origin, acr_method, acr_headers)
  // is preflight_allowed. (acr_method is needed to echo it when "*" methods
  // meet credentials.)
  void append_preflight_headers(std::string_view origin, std::string_view acr_method,
                                std::string_view acr_headers, std::string& out) const;

  // Appends the header lines for an actual response to a request with this
  // Origin ("" when absent); see the header comment. Nothing when disabled.
  void append_response_headers(std::string_view origin, std::string& out) const;

 private:
  struct Pattern {  // https://*.example.com:8443 → {"https", ".example.com", "8443"}
    std::string scheme;
    std::string host_suffix;
    std::string port;
  };
  bool origin_allowed(std::string_view origin) const;
  bool method_allowed(std::string_view method) const;
  bool headers_allowed(std::string_view acr_headers) const;
  bool echoes_origin() const { return !any_origin_ || credentials_; }

  bool enabled_ = false;
  bool credentials_ = false;
  bool any_origin_ = false;
  bool null_origin_ = false;
  bool any_method_ = false;
  bool any_header_ = false;
  std::vector<std::string> origins_;  // exact entries, compared case-insensitively
  std::vector<Pattern> patterns_;
  std::vector<std::string> methods_;
  std::vector<std::string> headers_;  // configured names plus the safelisted ones
  // Precomputed lines (each ends in CRLF; empty when not sent).
  std::string credentials_line_;
  std::string methods_line_;
  std::string headers_line_;
  std::string max_age_line_;
  std::string expose_line_;
};

// Why a configured allowed_origins entry can never match ("" when it can).
std::string origin_entry_problem(std::string_view entry);

// Access-Control-* response headers (case-insensitive): what a backend's own
// CORS answer consists of.
bool is_cors_response_header(std::string_view name);

}  // namespace llmproxy::http
