// CorsPolicy never crashes and its answers keep the invariants of
// cors_invariants.h for any config shape and any request values.
//
// Input: byte 0 picks the config (bit 0 enabled, 1 credentials, 2 "*"
// origin, 3 "null" origin, 4 wildcard pattern, 5 "*" methods, 6 "*" headers,
// 7 "*" expose); then up to five length-prefixed fields (one length byte,
// then that many bytes, cut short at the end of the input): method, origin,
// Access-Control-Request-Method, Access-Control-Request-Headers, and one
// more allowed_origins entry taken as configured.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/core/config/server.h"
#include "proxy/core/http/cors.h"
#include "proxy/core/http/cors_invariants.h"

namespace {

std::string_view take_field(std::string_view& in) {
  if (in.empty()) return {};
  const std::size_t n = static_cast<unsigned char>(in.front());
  in.remove_prefix(1);
  const auto field = in.substr(0, n);
  in.remove_prefix(field.size());
  return field;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmproxy;
  if (size == 0) return 0;
  const unsigned flags = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto method = take_field(in);
  const auto origin = take_field(in);
  const auto acr_method = take_field(in);
  const auto acr_headers = take_field(in);
  const auto extra_origin = take_field(in);

  config::CorsConfig cfg;
  cfg.enabled = (flags & 1) != 0;
  cfg.allow_credentials = (flags & 2) != 0;
  cfg.allowed_origins = {"https://a.example", "http://localhost:3000"};
  if (flags & 4) cfg.allowed_origins.push_back("*");
  if (flags & 8) cfg.allowed_origins.push_back("null");
  if (flags & 16) cfg.allowed_origins.push_back("https://*.b.example");
  if (!extra_origin.empty()) cfg.allowed_origins.emplace_back(extra_origin);
  if (flags & 32) cfg.allowed_methods.push_back("*");
  if (flags & 64) cfg.allowed_headers.push_back("*");
  cfg.expose_headers = {"X-Custom"};
  if (flags & 128) cfg.expose_headers.push_back("*");

  const http::CorsPolicy policy(cfg);
  (void)http::origin_entry_problem(extra_origin);
  const auto violation = http::testing::cors_violation(cfg, policy, method, origin, acr_method, acr_headers);
  if (!violation.empty()) {
    std::fprintf(stderr, "cors invariant violated: %s\n", violation.c_str());
    std::abort();
  }
  return 0;
}
