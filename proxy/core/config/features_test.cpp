#include "proxy/core/config/features.h"

#include <gtest/gtest.h>

#include <set>

using namespace llmproxy::config;

TEST(Features, EveryFeatureHasExactlyOneRow) {
  std::set<Feature> seen;
  for (const auto& f : feature_table()) {
    EXPECT_TRUE(seen.insert(f.feature).second) << f.name;
    EXPECT_FALSE(f.name.empty());
    EXPECT_FALSE(f.reference.empty());
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(Feature::admin) + 1);
  for (int i = 0; i <= static_cast<int>(Feature::admin); ++i)
    EXPECT_EQ(feature_info(static_cast<Feature>(i)).feature, static_cast<Feature>(i));
}

TEST(Features, NothingOptionalIsBuiltYet) {
  // Update with the table when a module lands.
  for (const auto& f : feature_table()) EXPECT_FALSE(f.built) << f.name;
}
