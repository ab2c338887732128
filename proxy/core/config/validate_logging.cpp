// logging.request / logging.access: where each log goes (stdout, a file, or
// a database of storage.databases).
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {
namespace {

template <class Log>
void check_log_storage(const Config& c, const Log& log, const std::string& path, Context& ctx) {
  if (log.storage == "stdout") return;
  if (log.storage == "file") {
    if (log.enabled && log.file.path.empty())
      ctx.error(path + ".file.path", "required when storage is \"file\"", !ctx.present(path + ".file.path"));
    return;
  }
  check_database_ref(c, path + ".storage", log.storage, ctx);
}

}  // namespace

void validate_logging(const Config& c, Context& ctx) {
  check_log_storage(c, c.logging.request, "logging.request", ctx);
  check_log_storage(c, c.logging.access, "logging.access", ctx);
}

}  // namespace llmproxy::config::detail
