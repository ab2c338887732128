// admin: an enabled admin API needs its token.
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {

void validate_admin(const Config& c, Context& ctx) {
  if (c.admin.enabled && c.admin.token.empty())
    ctx.error("admin.token", "a token is required when admin is enabled", !ctx.present("admin.token"));
}

}  // namespace llmproxy::config::detail
