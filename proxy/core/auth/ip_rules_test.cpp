#include "proxy/core/auth/ip_rules.h"

#include <gtest/gtest.h>

using namespace llmproxy;
using namespace llmproxy::auth;

namespace {
IpRules rules(std::vector<std::string> allow, std::vector<std::string> deny) {
  auto r = IpRules::parse(allow, deny);
  EXPECT_TRUE(r.ok()) << r.error;
  return r.ok() ? *r : IpRules{};
}
bool permits(const IpRules& r, std::string_view ip) {
  auto a = util::parse_ip(ip);
  EXPECT_TRUE(a.ok()) << ip;
  return r.permits(a.value);
}
}  // namespace

TEST(IpRules, EmptyAllowsAnyoneEvenUnknown) {
  const IpRules r;
  EXPECT_TRUE(permits(r, "10.1.2.3"));
  EXPECT_TRUE(permits(r, "2001:db8::1"));
  EXPECT_TRUE(r.permits(std::nullopt));
}

TEST(IpRules, AllowListLetsOnlyItsBlocksIn) {
  const auto r = rules({"10.0.0.0/8", "2001:db8::/32", "192.168.1.7"}, {});
  EXPECT_TRUE(permits(r, "10.255.0.1"));
  EXPECT_TRUE(permits(r, "192.168.1.7"));
  EXPECT_FALSE(permits(r, "192.168.1.8"));
  EXPECT_TRUE(permits(r, "2001:db8:ffff::1"));
  EXPECT_FALSE(permits(r, "2001:db9::1"));
  EXPECT_FALSE(permits(r, "11.0.0.1"));
  EXPECT_TRUE(permits(r, "::ffff:10.0.0.1"));  // dual-stack socket's IPv4 peer
}

TEST(IpRules, DenyWins) {
  const auto r = rules({"10.0.0.0/8"}, {"10.1.0.0/16"});
  EXPECT_TRUE(permits(r, "10.2.0.1"));
  EXPECT_FALSE(permits(r, "10.1.0.1"));
  EXPECT_FALSE(permits(r, "::ffff:10.1.0.1"));
  const auto same = rules({"10.0.0.0/8"}, {"10.0.0.0/8"});
  EXPECT_FALSE(permits(same, "10.0.0.1"));
}

TEST(IpRules, DenyOnlyLetsTheRestIn) {
  const auto r = rules({}, {"::1", "127.0.0.0/8"});
  EXPECT_FALSE(permits(r, "::1"));
  EXPECT_FALSE(permits(r, "127.0.0.1"));
  EXPECT_TRUE(permits(r, "10.0.0.1"));
  EXPECT_TRUE(permits(r, "::2"));
}

TEST(IpRules, AnUnknownClientIsRefusedWhenThereIsARule) {
  EXPECT_FALSE(rules({"0.0.0.0/0"}, {}).permits(std::nullopt));
  EXPECT_FALSE(rules({}, {"10.0.0.0/8"}).permits(std::nullopt));
}

TEST(IpRules, ParseNamesTheBadEntry) {
  auto r = IpRules::parse({"10.0.0.0/8", "nonsense"}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error.rfind("allowed_ips[1]: ", 0), 0u) << r.error;
  r = IpRules::parse({}, {"10.0.0.0/33"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error.rfind("denied_ips[0]: ", 0), 0u) << r.error;
}
