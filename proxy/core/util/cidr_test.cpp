#include "proxy/core/util/cidr.h"

#include <gtest/gtest.h>

using namespace llmproxy::util;

namespace {
IpAddress ip(std::string_view s) {
  auto r = parse_ip(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.error;
  return r.ok() ? *r : IpAddress{};
}
Cidr cidr(std::string_view s) {
  auto r = parse_cidr(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.error;
  return r.ok() ? *r : Cidr{};
}
}  // namespace

TEST(ParseIp, V4AndV6) {
  EXPECT_EQ(to_string(ip("10.1.2.3")), "10.1.2.3");
  EXPECT_EQ(to_string(ip("::1")), "::1");
  EXPECT_EQ(to_string(ip("2001:DB8:0:0:0:0:0:1")), "2001:db8::1");
  EXPECT_EQ(to_string(ip("::")), "::");
  EXPECT_EQ(to_string(ip("1::")), "1::");
  EXPECT_EQ(to_string(ip("::ffff:10.0.0.1")), "::ffff:a00:1");
  EXPECT_EQ(to_string(ip("1:2:3:4:5:6:7:8")), "1:2:3:4:5:6:7:8");
  EXPECT_EQ(ip("::ffff:10.0.0.1").unmapped(), ip("10.0.0.1"));
  for (auto bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.1.1.1", "1..2.3", ":::", "1:2:3:4:5:6:7:8:9",
                   "1::2::3", "12345::", "fe80::1%eth0", "g::1", ":1", "1:", "1:2:3:4:5:6:7:8::", "::1.2.3"})
    EXPECT_FALSE(parse_ip(bad)) << bad;
}

TEST(Cidr, Contains) {
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(ip("10.200.3.4")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(ip("::ffff:10.9.9.9")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(ip("::1")));
  EXPECT_TRUE(cidr("::1").contains(ip("::1")));
  EXPECT_FALSE(cidr("::1").contains(ip("::2")));
  EXPECT_TRUE(cidr("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(cidr("2001:db8::/32").contains(ip("2001:db9::1")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("1.2.3.4")));
  EXPECT_TRUE(cidr("192.168.1.7").contains(ip("192.168.1.7")));
  EXPECT_FALSE(cidr("192.168.1.7").contains(ip("192.168.1.8")));
  EXPECT_TRUE(cidr("10.1.2.3/9").contains(ip("10.127.0.1")));
  EXPECT_FALSE(cidr("10.1.2.3/9").contains(ip("10.128.0.1")));
  EXPECT_EQ(to_string(cidr("10.1.2.3/8")), "10.0.0.0/8");
  EXPECT_EQ(cidr("1.2.3.4").prefix_len, 32);
  EXPECT_EQ(cidr("::1").prefix_len, 128);
}

TEST(Cidr, Rejects) {
  for (auto bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/8/8", "/8", "x/8"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
}
