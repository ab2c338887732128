// server: TLS needs its files, and every CORS allowed_origins entry must be
// one the CORS policy can match. The policy's own rule decides
// (http::origin_entry_problem), so check-config and the running gateway never
// disagree about an entry; one that matches nothing would otherwise refuse
// every browser of that origin in silence.
#include "proxy/core/config/validate.h"
#include "proxy/core/http/cors.h"

namespace llmproxy::config::detail {
namespace {

void check_tls(const TlsConfig& tls, Context& ctx) {
  if (!tls.enabled) return;
  if (tls.cert_file.empty()) ctx.error("server.tls.cert_file", "required when tls is enabled", true);
  if (tls.key_file.empty()) ctx.error("server.tls.key_file", "required when tls is enabled", true);
}

void check_cors_origins(const CorsConfig& cors, Context& ctx) {
  for (std::size_t i = 0; i < cors.allowed_origins.size(); ++i) {
    const std::string& entry = cors.allowed_origins[i];
    const std::string problem = http::origin_entry_problem(entry);
    if (!problem.empty())
      ctx.error(idx("server.cors.allowed_origins", i), "'" + entry + "' can never match: " + problem);
  }
}

}  // namespace

void validate_server(const Config& c, Context& ctx) {
  check_tls(c.server.tls, ctx);
  check_cors_origins(c.server.cors, ctx);
}

}  // namespace llmproxy::config::detail
