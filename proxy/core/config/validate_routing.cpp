// routing: retry and circuit-breaker bounds, and fallback entries that name
// backends (of `backends:` or of discovery's static sources).
#include "proxy/core/config/validate.h"
#include "proxy/core/util/url.h"

namespace llmproxy::config::detail {
namespace {

// The backends a fallback entry may name now; nullopt when discovery may add
// backends we cannot see now (then any entry may match one later).
std::optional<std::vector<const BackendConfig*>> known_backends(const Config& c) {
  std::vector<const BackendConfig*> known;
  for (const auto& b : c.backends) known.push_back(&b);
  if (!c.discovery.enabled) return known;
  for (const auto& s : c.discovery.sources) {
    if (!s.enabled) continue;
    if (s.type != SourceType::static_list) return std::nullopt;
    for (const auto& b : s.static_list.backends) known.push_back(&b);
  }
  return known;
}

// By name or by URL (parsed, so "http://h:1/v1/" is "http://h:1/v1").
bool backend_matches(const std::vector<const BackendConfig*>& known, const std::string& ref) {
  auto url = util::parse_url(ref);
  for (const BackendConfig* b : known) {
    if (!b->name.empty() && b->name == ref) return true;
    if (url && !b->url.empty() && b->parsed_url == *url) return true;
  }
  return false;
}

void check_fallback(const FallbackRule& rule, const std::string& p,
                    const std::optional<std::vector<const BackendConfig*>>& known, Context& ctx) {
  if (rule.primary.empty()) {
    ctx.error(p + ".primary", "primary is required", !ctx.present(p + ".primary"));
  } else if (known && !backend_matches(*known, rule.primary)) {
    ctx.error(p + ".primary", "'" + rule.primary + "' matches no backend (by name or URL)");
  }
  if (rule.fallback.empty()) ctx.error(p + ".fallback", "at least one fallback is required", true);
  for (std::size_t j = 0; j < rule.fallback.size(); ++j)
    if (known && !backend_matches(*known, rule.fallback[j]))
      ctx.error(idx(p + ".fallback", j), "'" + rule.fallback[j] + "' matches no backend (by name or URL)");
}

}  // namespace

void validate_routing(const Config& c, Context& ctx) {
  const auto& r = c.routing;
  if (r.retry.initial_wait > r.retry.max_wait)
    ctx.error("routing.retry.max_wait", "must not be less than initial_wait");
  if (r.circuit_breaker.cool_down > r.circuit_breaker.max_cool_down)
    ctx.error("routing.circuit_breaker.max_cool_down", "must not be less than cool_down");
  const auto known = known_backends(c);
  for (std::size_t i = 0; i < r.fallback.size(); ++i)
    check_fallback(r.fallback[i], idx("routing.fallback", i), known, ctx);
}

}  // namespace llmproxy::config::detail
