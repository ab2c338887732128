#include "proxy/core/util/did_you_mean.h"

#include <gtest/gtest.h>

#include <array>

using namespace llmproxy::util;

TEST(EditDistance, Basics) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("listne", "listen"), 1u);  // transposition
}

TEST(DidYouMean, Suggests) {
  constexpr std::array<std::string_view, 4> keys{"listen", "read_timeout", "write_timeout", "workers"};
  EXPECT_EQ(did_you_mean("listn", keys), "listen");
  EXPECT_EQ(did_you_mean("read_timout", keys), "read_timeout");
  EXPECT_EQ(did_you_mean("Workers", keys), "workers");
  EXPECT_EQ(did_you_mean("zzzzzz", keys), std::nullopt);
  EXPECT_EQ(did_you_mean("x", keys), std::nullopt);
}
