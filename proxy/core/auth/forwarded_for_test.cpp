// The client address behind trusted proxies.
#include "proxy/core/auth/forwarded_for.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace llmproxy;

std::vector<util::Cidr> blocks(std::initializer_list<const char*> texts) {
  std::vector<util::Cidr> out;
  for (const char* t : texts) out.push_back(*util::parse_cidr(t).value);
  return out;
}

std::string address(std::string_view peer, std::vector<std::string_view> xff,
                    const std::vector<util::Cidr>& trusted) {
  const auto ip = auth::client_address(peer, xff, trusted);
  return ip ? util::to_string(*ip) : "unknown";
}

const auto kProxies = blocks({"10.0.0.0/8", "fd00::/8"});

TEST(ForwardedFor, AnUntrustedPeerIsTheClientWhateverItClaims) {
  EXPECT_EQ(address("203.0.113.7", {"198.51.100.1"}, kProxies), "203.0.113.7");
  EXPECT_EQ(address("203.0.113.7", {"not an address"}, kProxies), "203.0.113.7");
  EXPECT_EQ(address("10.1.1.1", {"198.51.100.1"}, {}), "10.1.1.1");  // none trusted
}

TEST(ForwardedFor, TheRightMostUntrustedEntryIsTheClient) {
  // client, a spoofed entry it sent, then two of our proxies.
  EXPECT_EQ(address("10.0.0.2", {"192.0.2.66, 198.51.100.9, 10.0.0.1"}, kProxies), "198.51.100.9");
  // Several header lines read as one list, in order.
  EXPECT_EQ(address("10.0.0.2", {"192.0.2.66", " 198.51.100.9 ,10.9.9.9"}, kProxies), "198.51.100.9");
  EXPECT_EQ(address("fd00::1", {"2001:db8::5"}, kProxies), "2001:db8::5");
  // An IPv4 peer on a dual-stack socket.
  EXPECT_EQ(address("::ffff:10.0.0.2", {"198.51.100.9"}, kProxies), "198.51.100.9");
}

TEST(ForwardedFor, AllTrustedMeansTheLeftMost) {
  EXPECT_EQ(address("10.0.0.2", {"10.5.5.5, 10.0.0.1"}, kProxies), "10.5.5.5");
}

TEST(ForwardedFor, AnythingUnreadableLeavesTheClientUnknown) {
  EXPECT_EQ(address("10.0.0.2", {}, kProxies), "unknown");
  EXPECT_EQ(address("10.0.0.2", {"198.51.100.9, unknown"}, kProxies), "unknown");
  EXPECT_EQ(address("10.0.0.2", {"198.51.100.9:443"}, kProxies), "unknown");
  EXPECT_EQ(address("10.0.0.2", {"198.51.100.9,,10.0.0.1"}, kProxies), "unknown");
  EXPECT_EQ(address("10.0.0.2", {""}, kProxies), "unknown");
  EXPECT_EQ(address("garbage", {"198.51.100.9"}, kProxies), "unknown");
  // ...but what lies left of the first untrusted entry is never read.
  EXPECT_EQ(address("10.0.0.2", {"junk, 198.51.100.9"}, kProxies), "198.51.100.9");
}

}  // namespace
