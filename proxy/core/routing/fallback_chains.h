// Fallback rules (routing.fallback) resolved against the backend list.
//
// Semantics (docs/routing.md): for a request for model m, the rules that
// apply are those whose `models` match m (an empty list matches every model).
// A backend named in the `fallback` list of an applicable rule, and not the
// primary of one, is a standby: the balancer does not pick it for new
// requests. The chain of a request is the picked backend followed by the
// fallbacks of the applicable rule whose primary it is, in config order.
// When no non-standby backend is routable, the chain is the first applicable
// rule's fallbacks (the primary being down counts as failed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/config/routing.h"

namespace llmproxy::routing {

// Exact names or "prefix*" patterns; an empty list matches every model.
bool model_matches(std::span<const std::string> patterns, std::string_view model);

class FallbackChains {
 public:
  FallbackChains() = default;
  // names[i] and urls[i] identify backend i; a rule may reference either.
  // References to unknown backends are ignored (the config check rejects them).
  FallbackChains(const std::vector<config::FallbackRule>& rules,
                 std::span<const std::string> names, std::span<const std::string> urls);

  bool empty() const { return rules_.empty(); }

  // Marks standby[i] = 1 for every backend that is a standby for model m
  // (see above). standby.size() must equal the number of backends.
  void standbys(std::string_view model, std::span<std::uint8_t> standby) const;

  // Fallbacks of the first applicable rule whose primary is `backend`, in
  // order; empty when none.
  std::span<const std::size_t> fallbacks_of(std::size_t backend, std::string_view model) const;

  // Fallbacks of the first applicable rule (used when no primary is routable).
  std::span<const std::size_t> first_fallbacks(std::string_view model) const;

 private:
  struct Rule {
    std::size_t primary;
    std::vector<std::size_t> fallback;
    std::vector<std::string> models;
  };
  std::vector<Rule> rules_;
};

}  // namespace llmproxy::routing
