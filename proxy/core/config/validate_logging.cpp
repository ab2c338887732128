// logging.request / logging.access: where each log goes (stdout, a file, or
// a database of storage.databases).
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {
namespace {

template <class Log>
void check_log_storage(const Config& c, const Log& log, const std::string& path, Context& ctx) {
  // A file block under another storage would be read and never used: the
  // log would go to stdout (or the database) while the operator looks for
  // the file. (Compared with the defaults, not by presence: the printer
  // writes every key, so a printed config has a default block everywhere.)
  if (log.storage != "file" && log.file != LogFileConfig{})
    ctx.error(path + ".file", "set, but " + path + ".storage is \"" + log.storage +
                                  "\", so it would be ignored (set storage: file)", true);
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
