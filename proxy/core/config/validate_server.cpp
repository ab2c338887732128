// server: an enabled TLS listener needs its files.
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {

void validate_server(const Config& c, Context& ctx) {
  const auto& tls = c.server.tls;
  if (!tls.enabled) return;
  if (tls.cert_file.empty()) ctx.error("server.tls.cert_file", "required when tls is enabled", true);
  if (tls.key_file.empty()) ctx.error("server.tls.key_file", "required when tls is enabled", true);
}

}  // namespace llmproxy::config::detail
