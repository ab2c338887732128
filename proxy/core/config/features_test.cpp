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
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(Feature::admin_listen) + 1);
  for (int i = 0; i <= static_cast<int>(Feature::admin_listen); ++i)
    EXPECT_EQ(feature_info(static_cast<Feature>(i)).feature, static_cast<Feature>(i));
}

TEST(Features, BuiltFeaturesAreTheOnesThatLanded) {
  // Update with the table when a module lands.
  const std::set<Feature> built{Feature::load_balance_strategies, Feature::retry, Feature::fallback,
                                Feature::circuit_breaker,         Feature::request_timeout,
                                Feature::backend_models,          Feature::health_check,
                                Feature::server_cors,             Feature::log_file_output,
                                Feature::metrics,
                                Feature::rate_limit,              Feature::auth,
                                Feature::api_keys,                Feature::admin,
                                Feature::admin_listen,            Feature::key_metric_labels,
                                Feature::key_quota};
  for (const auto& f : feature_table()) EXPECT_EQ(f.built, built.count(f.feature) == 1) << f.name;
}
