#include "proxy/core/routing/fallback_chains.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmproxy::routing {
namespace {

using Idx = std::vector<std::size_t>;

Idx vec(std::span<const std::size_t> s) { return Idx(s.begin(), s.end()); }

config::FallbackRule rule(std::string primary, std::vector<std::string> fallback,
                          std::vector<std::string> models = {}) {
  config::FallbackRule r;
  r.primary = std::move(primary);
  r.fallback = std::move(fallback);
  r.models = std::move(models);
  return r;
}

const std::vector<std::string> kNames{"a", "b", "", "d"};
const std::vector<std::string> kUrls{"http://a:8000", "http://b:8000/v1", "http://c:8000", "https://d"};

std::vector<std::uint8_t> standby_of(const FallbackChains& fc, std::string_view model) {
  std::vector<std::uint8_t> s(kNames.size(), 0);
  fc.standbys(model, s);
  return s;
}

TEST(ModelMatches, ExactPrefixAndEmpty) {
  const std::vector<std::string> none;
  EXPECT_TRUE(model_matches(none, "anything"));
  const std::vector<std::string> p{"gpt-4o", "llama-*"};
  EXPECT_TRUE(model_matches(p, "gpt-4o"));
  EXPECT_FALSE(model_matches(p, "gpt-4o-mini"));
  EXPECT_FALSE(model_matches(p, "gpt-4"));
  EXPECT_TRUE(model_matches(p, "llama-3"));
  EXPECT_TRUE(model_matches(p, "llama-"));
  EXPECT_FALSE(model_matches(p, "llama"));
  EXPECT_FALSE(model_matches(p, "LLAMA-3"));
  const std::vector<std::string> star{"*"};
  EXPECT_TRUE(model_matches(star, ""));
  EXPECT_TRUE(model_matches(star, "x"));
}

TEST(FallbackChains, EmptyByDefault) {
  FallbackChains fc;
  EXPECT_TRUE(fc.empty());
  EXPECT_TRUE(fc.fallbacks_of(0, "m").empty());
  EXPECT_TRUE(fc.first_fallbacks("m").empty());
}

TEST(FallbackChains, ResolvesNamesAndNormalisedUrls) {
  const std::vector<config::FallbackRule> rules{
      rule("a", {"http://B:8000/v1/", "HTTP://c:8000", "https://d:443/"}),
  };
  FallbackChains fc(rules, kNames, kUrls);
  EXPECT_FALSE(fc.empty());
  EXPECT_EQ(vec(fc.fallbacks_of(0, "m")), (Idx{1, 2, 3}));
  EXPECT_TRUE(fc.fallbacks_of(1, "m").empty());
  EXPECT_EQ(vec(fc.first_fallbacks("m")), (Idx{1, 2, 3}));
  EXPECT_EQ(standby_of(fc, "m"), (std::vector<std::uint8_t>{0, 1, 1, 1}));
}

TEST(FallbackChains, UnknownSelfAndDuplicateReferencesAreDropped) {
  const std::vector<config::FallbackRule> rules{
      rule("nobody", {"b"}),
      rule("a", {"zzz", "a", "b", "http://b:8000/v1", "d"}),
  };
  FallbackChains fc(rules, kNames, kUrls);
  EXPECT_EQ(vec(fc.fallbacks_of(0, "m")), (Idx{1, 3}));
  EXPECT_EQ(vec(fc.first_fallbacks("m")), (Idx{1, 3}));
}

TEST(FallbackChains, ModelScopedRulesInConfigOrder) {
  const std::vector<config::FallbackRule> rules{
      rule("a", {"b"}, {"gpt-*"}),
      rule("a", {"d"}),
      rule("http://c:8000", {"d", "b"}, {"llama-3"}),
  };
  FallbackChains fc(rules, kNames, kUrls);
  EXPECT_EQ(vec(fc.fallbacks_of(0, "gpt-4o")), (Idx{1}));  // first applicable rule wins
  EXPECT_EQ(vec(fc.fallbacks_of(0, "llama-3")), (Idx{3}));
  EXPECT_EQ(vec(fc.fallbacks_of(2, "llama-3")), (Idx{3, 1}));
  EXPECT_TRUE(fc.fallbacks_of(2, "gpt-4o").empty());
  EXPECT_EQ(vec(fc.first_fallbacks("gpt-4o")), (Idx{1}));
  EXPECT_EQ(vec(fc.first_fallbacks("mistral")), (Idx{3}));
  EXPECT_EQ(standby_of(fc, "gpt-4o"), (std::vector<std::uint8_t>{0, 1, 0, 1}));
  EXPECT_EQ(standby_of(fc, "llama-3"), (std::vector<std::uint8_t>{0, 1, 0, 1}));
  EXPECT_EQ(standby_of(fc, "mistral"), (std::vector<std::uint8_t>{0, 0, 0, 1}));
}

TEST(FallbackChains, PrimaryOfAnApplicableRuleIsNotAStandby) {
  const std::vector<config::FallbackRule> rules{
      rule("a", {"b"}),
      rule("b", {"d"}),
      rule("d", {"a"}, {"only-this"}),
  };
  FallbackChains fc(rules, kNames, kUrls);
  // b is a's fallback but also the primary of an applicable rule.
  EXPECT_EQ(standby_of(fc, "m"), (std::vector<std::uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(standby_of(fc, "only-this"), (std::vector<std::uint8_t>{0, 0, 0, 0}));
  // standbys() only marks; it never clears what the caller set.
  std::vector<std::uint8_t> s{0, 0, 1, 0};
  fc.standbys("m", s);
  EXPECT_EQ(s, (std::vector<std::uint8_t>{0, 0, 1, 1}));
}

}  // namespace
}  // namespace llmproxy::routing
