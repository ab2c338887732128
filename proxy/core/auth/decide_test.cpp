#include <gtest/gtest.h>

#include "proxy/core/auth/key_record.h"

using namespace llmproxy;
using namespace llmproxy::auth;
using openai::ErrorId;
using std::chrono::seconds;

namespace {

const WallTime kNow{seconds(1'767'225'600)};

std::optional<util::IpAddress> ip(std::string_view s) { return util::parse_ip(s).value; }

KeyRecord with_ips(std::vector<std::string> allow, std::vector<std::string> deny) {
  KeyRecord k;
  k.ips = *IpRules::parse(allow, deny);
  return k;
}

std::optional<ErrorId> verdict(const KeyRecord& k, std::string_view client = "10.0.0.1",
                               WallTime now = kNow) {
  return decide(k, ip(client), now).error;
}

}  // namespace

TEST(Decide, AnActiveKeyWithoutLimitsIsAllowed) {
  EXPECT_TRUE(decide(KeyRecord{}, ip("10.0.0.1"), kNow).allowed());
  EXPECT_TRUE(decide(KeyRecord{}, std::nullopt, kNow).allowed());
}

TEST(Decide, Status) {
  KeyRecord k;
  k.status = KeyStatus::disabled;
  EXPECT_EQ(verdict(k), ErrorId::key_disabled);
  k.status = KeyStatus::expired;
  EXPECT_EQ(verdict(k), ErrorId::key_expired);
  k.status = KeyStatus::quota_exceeded;
  EXPECT_EQ(verdict(k), ErrorId::quota_exceeded);
}

TEST(Decide, WindowBoundsAreExact) {
  KeyRecord k;
  k.starts_at = kNow;
  k.expires_at = kNow + seconds(10);
  EXPECT_EQ(verdict(k, "10.0.0.1", kNow - std::chrono::nanoseconds(1)), ErrorId::key_not_yet_valid);
  EXPECT_FALSE(verdict(k, "10.0.0.1", kNow));
  EXPECT_FALSE(verdict(k, "10.0.0.1", kNow + seconds(10) - std::chrono::nanoseconds(1)));
  EXPECT_EQ(verdict(k, "10.0.0.1", kNow + seconds(10)), ErrorId::key_expired);
}

TEST(Decide, Addresses) {
  EXPECT_EQ(verdict(with_ips({"192.168.0.0/16"}, {})), ErrorId::ip_not_allowed);
  EXPECT_FALSE(verdict(with_ips({"10.0.0.0/8"}, {})));
  EXPECT_EQ(verdict(with_ips({"10.0.0.0/8"}, {"10.0.0.1"})), ErrorId::ip_not_allowed);
  EXPECT_EQ(decide(with_ips({}, {"10.0.0.0/8"}), std::nullopt, kNow).error, ErrorId::ip_not_allowed);
}

TEST(Decide, StatusThenWindowThenAddress) {
  KeyRecord k = with_ips({}, {"10.0.0.0/8"});
  k.expires_at = kNow - seconds(1);
  EXPECT_EQ(verdict(k), ErrorId::key_expired);
  k.status = KeyStatus::disabled;
  EXPECT_EQ(verdict(k), ErrorId::key_disabled);
  k.status = KeyStatus::active;
  k.expires_at.reset();
  k.starts_at = kNow + seconds(1);
  EXPECT_EQ(verdict(k), ErrorId::key_not_yet_valid);
}
