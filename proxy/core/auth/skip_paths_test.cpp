#include "proxy/core/auth/skip_paths.h"

#include <gtest/gtest.h>

using namespace llmproxy::auth;

TEST(SkipPaths, WholeSegments) {
  const SkipPaths s({"/health", "/v1/models/"});
  EXPECT_TRUE(s.matches("/health"));
  EXPECT_TRUE(s.matches("/health/"));
  EXPECT_TRUE(s.matches("/health/x"));
  EXPECT_FALSE(s.matches("/healthz"));
  EXPECT_FALSE(s.matches("/health-x"));
  EXPECT_FALSE(s.matches("/"));
  EXPECT_FALSE(s.matches(""));
  EXPECT_TRUE(s.matches("/v1/models"));
  EXPECT_TRUE(s.matches("/v1/models/fake-model"));
  EXPECT_FALSE(s.matches("/v1/modelsx"));
  EXPECT_FALSE(s.matches("/v1/chat/completions"));
  EXPECT_FALSE(s.matches("/HEALTH"));  // paths are case-sensitive
}

TEST(SkipPaths, NoneSkipsNothingAndRootSkipsEverything) {
  EXPECT_FALSE(SkipPaths(std::vector<std::string>{}).matches("/health"));
  const SkipPaths root({"/"});
  EXPECT_TRUE(root.matches("/"));
  EXPECT_TRUE(root.matches("/v1/chat/completions"));
}

TEST(SkipPaths, APathThatCouldMeanAnotherIsNeverSkipped) {
  const SkipPaths s({"/health", "/"});
  for (auto p : {"/health/../v1/chat/completions", "/health/./x", "/health/..", "/health/%2e%2e/v1",
                 "/health%2F..%2Fv1", "/health\\..\\v1", "/./health"})
    EXPECT_FALSE(s.matches(p)) << p;
  EXPECT_TRUE(s.matches("/health/..x"));  // ".." only as a whole segment
}
