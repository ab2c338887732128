// admin: an enabled admin API needs its token and, for its key store, the
// SQLite file db_path; a listener of its own is not built yet (the API is
// served under /admin/ on the main listener).
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {

void validate_admin(const Config& c, Context& ctx) {
  if (!c.admin.enabled) return;
  if (c.admin.token.empty())
    ctx.error("admin.token", "a token is required when admin is enabled", !ctx.present("admin.token"));
  if (c.admin.db_path.empty())
    ctx.error("admin.db_path", "the key store's SQLite file is required when admin is enabled",
              !ctx.present("admin.db_path"));
  if (!c.admin.listen.empty()) ctx.not_implemented("admin.listen", "admin.listen", Feature::admin_listen);
}

}  // namespace llmproxy::config::detail
