// metrics: the scrape path must not shadow the gateway's own routes, and
// custom labels are the ones the gateway can fill (bounded cardinality).
#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {

void validate_metrics(const Config& c, Context& ctx) {
  const auto& m = c.metrics;
  const std::string_view path = m.path;
  if (path == "/health" || path == "/ready" || path.starts_with("/v1/") || path == "/v1" ||
      path == "/admin" || path.starts_with("/admin/"))
    ctx.error("metrics.path", "'" + m.path + "' is one of the gateway's own routes");
  for (std::size_t i = 0; i < m.custom_labels.size(); ++i) {
    const std::string& l = m.custom_labels[i];
    if (l == "model") continue;
    if (l == "api_key" || l == "user_id") {
      if (m.enabled)
        ctx.not_implemented(idx("metrics.custom_labels", i), "metrics.custom_labels: " + l,
                            Feature::key_metric_labels);
      continue;
    }
    ctx.error(idx("metrics.custom_labels", i), "unknown label '" + l + "': one of model, api_key, user_id");
  }
}

}  // namespace llmproxy::config::detail
