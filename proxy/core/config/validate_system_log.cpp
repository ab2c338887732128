// log (the system log): a file output needs its path.
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {

void validate_system_log(const Config& c, Context& ctx) {
  if (c.log.output == LogOutput::to_file && c.log.file.path.empty())
    ctx.error("log.file.path", "required when output is \"file\"", true);
}

}  // namespace llmproxy::config::detail
