#include "proxy/core/routing/fallback_chains.h"

#include <algorithm>
#include <optional>

#include "proxy/core/util/url.h"

namespace llmproxy::routing {

bool model_matches(std::span<const std::string> patterns, std::string_view model) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (model.starts_with(std::string_view(p).substr(0, p.size() - 1))) return true;
    } else if (model == p) {
      return true;
    }
  }
  return false;
}

namespace {

constexpr std::size_t kUnknown = static_cast<std::size_t>(-1);

// A reference is a backend name, or a URL that equals a backend's URL after
// normalisation (scheme/host case, default port, trailing slash) — the same
// rule the config check applies.
std::size_t resolve(const std::string& ref, std::span<const std::string> names,
                    std::span<const std::optional<util::Url>> urls) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (!names[i].empty() && names[i] == ref) return i;
  const auto url = util::parse_url(ref);
  if (!url) return kUnknown;
  for (std::size_t i = 0; i < urls.size(); ++i)
    if (urls[i] && *urls[i] == *url) return i;
  return kUnknown;
}

}  // namespace

FallbackChains::FallbackChains(const std::vector<config::FallbackRule>& rules,
                               std::span<const std::string> names, std::span<const std::string> urls) {
  std::vector<std::optional<util::Url>> parsed;
  parsed.reserve(urls.size());
  for (const std::string& u : urls) {
    auto p = util::parse_url(u);
    parsed.push_back(p.value);
  }
  for (const config::FallbackRule& r : rules) {
    Rule rule;
    rule.primary = resolve(r.primary, names, parsed);
    if (rule.primary == kUnknown) continue;
    for (const std::string& f : r.fallback) {
      const std::size_t i = resolve(f, names, parsed);
      // Unknown, the primary itself, or listed twice: trying it again in the
      // same chain could only repeat a failure.
      if (i == kUnknown || i == rule.primary) continue;
      if (std::find(rule.fallback.begin(), rule.fallback.end(), i) != rule.fallback.end()) continue;
      rule.fallback.push_back(i);
    }
    rule.models = r.models;
    rules_.push_back(std::move(rule));
  }
}

void FallbackChains::standbys(std::string_view model, std::span<std::uint8_t> standby) const {
  for (const Rule& r : rules_) {
    if (!model_matches(r.models, model)) continue;
    for (std::size_t f : r.fallback) {
      if (f >= standby.size()) continue;
      const bool is_primary = std::any_of(rules_.begin(), rules_.end(), [&](const Rule& other) {
        return other.primary == f && model_matches(other.models, model);
      });
      if (!is_primary) standby[f] = 1;
    }
  }
}

std::span<const std::size_t> FallbackChains::fallbacks_of(std::size_t backend, std::string_view model) const {
  for (const Rule& r : rules_)
    if (r.primary == backend && model_matches(r.models, model)) return r.fallback;
  return {};
}

std::span<const std::size_t> FallbackChains::first_fallbacks(std::string_view model) const {
  for (const Rule& r : rules_)
    if (model_matches(r.models, model)) return r.fallback;
  return {};
}

}  // namespace llmproxy::routing
