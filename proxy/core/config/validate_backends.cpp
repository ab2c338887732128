// backends: every backend has a URL (parsed once here for the others), and
// there is at least one unless discovery may find them.
#include "proxy/core/config/validate.h"
#include "proxy/core/util/url.h"

namespace llmproxy::config::detail {

void validate_backends(Config& c, Context& ctx) {
  check_unique_names(c.backends, "backends", ctx, false);
  for (std::size_t i = 0; i < c.backends.size(); ++i) {
    auto& b = c.backends[i];
    if (b.url.empty()) {
      if (!ctx.failed(idx("backends", i) + ".url")) ctx.error(idx("backends", i), "url is required", true);
      continue;
    }
    if (auto u = util::parse_url(b.url)) b.parsed_url = *u;
  }
  if (c.backends.empty() && !c.discovery.enabled)
    ctx.error("backends", "at least one backend is required (or enable discovery)", true);
}

}  // namespace llmproxy::config::detail
