#include "proxy/core/util/size.h"

#include <gtest/gtest.h>

using llmproxy::util::parse_size;

TEST(ParseSize, Units) {
  EXPECT_EQ(*parse_size("10485760"), 10485760u);
  EXPECT_EQ(*parse_size("10MB"), 10'000'000u);
  EXPECT_EQ(*parse_size("1MiB"), 1048576u);
  EXPECT_EQ(*parse_size("512KB"), 512'000u);
  EXPECT_EQ(*parse_size("512kib"), 512u * 1024);
  EXPECT_EQ(*parse_size("3 GB"), 3'000'000'000u);
  EXPECT_EQ(*parse_size("0"), 0u);
  EXPECT_EQ(*parse_size("7B"), 7u);
  EXPECT_EQ(*parse_size("1TiB"), 1ULL << 40);
}

TEST(ParseSize, Rejects) {
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("MB"));
  EXPECT_FALSE(parse_size("1.5MB"));
  EXPECT_FALSE(parse_size("10 XB"));
  EXPECT_FALSE(parse_size("10  MB"));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("99999999999999999999"));
  EXPECT_FALSE(parse_size("20000000TiB"));
}
