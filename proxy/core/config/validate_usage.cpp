// usage: each reporter's type and what its type requires.
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {

void validate_usage(const Config& c, Context& ctx) {
  check_unique_names(c.usage.reporters, "usage.reporters", ctx, false);
  for (std::size_t i = 0; i < c.usage.reporters.size(); ++i) {
    const auto& u = c.usage.reporters[i];
    const std::string p = idx("usage.reporters", i);
    if (u.type == ReporterType::unset)
      ctx.error(p + ".type", "type is required (webhook or database)", !ctx.present(p + ".type"));
    if (u.type == ReporterType::webhook && u.enabled) check_required(u.webhook.url, p + ".webhook.url", "url", ctx);
    if (u.type == ReporterType::database) check_database_ref(c, p + ".database.storage", u.database.storage, ctx);
  }
}

}  // namespace llmproxy::config::detail
