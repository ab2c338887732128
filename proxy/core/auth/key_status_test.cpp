#include "proxy/core/auth/key_status.h"

#include <gtest/gtest.h>

using namespace llmproxy::auth;

TEST(KeyStatus, WordsAndTheOriginalNumbers) {
  EXPECT_EQ(parse_key_status("enabled"), KeyStatus::active);
  EXPECT_EQ(parse_key_status("active"), KeyStatus::active);
  EXPECT_EQ(parse_key_status("Enabled"), KeyStatus::active);
  EXPECT_EQ(parse_key_status("0"), KeyStatus::active);
  EXPECT_EQ(parse_key_status("disabled"), KeyStatus::disabled);
  EXPECT_EQ(parse_key_status("DISABLED"), KeyStatus::disabled);
  EXPECT_EQ(parse_key_status("1"), KeyStatus::disabled);
  EXPECT_EQ(parse_key_status("quota_exceeded"), KeyStatus::quota_exceeded);
  EXPECT_EQ(parse_key_status("2"), KeyStatus::quota_exceeded);
  EXPECT_EQ(parse_key_status("expired"), KeyStatus::expired);
  EXPECT_EQ(parse_key_status("3"), KeyStatus::expired);
}

TEST(KeyStatus, NothingElse) {
  for (auto bad : {"", " enabled", "enabled ", "4", "-1", "00", "01", "true", "on", "quota-exceeded", "enable"})
    EXPECT_FALSE(parse_key_status(bad)) << '"' << bad << '"';
}
