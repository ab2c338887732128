#include "proxy/core/util/url.h"

#include <gtest/gtest.h>

using namespace llmproxy::util;

TEST(ParseUrl, Backends) {
  auto u = parse_url("http://localhost:8000");
  ASSERT_TRUE(u) << u.error;
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 8000);
  EXPECT_EQ(u->base_path, "");

  u = parse_url("HTTPS://API.Example.com/v1/");
  ASSERT_TRUE(u) << u.error;
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "api.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->base_path, "/v1");
  EXPECT_TRUE(u->tls());

  u = parse_url("http://[::1]:9001/base");
  ASSERT_TRUE(u) << u.error;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9001);
  EXPECT_EQ(u->to_string(), "http://[::1]:9001/base");
  EXPECT_EQ(u->authority(), "[::1]:9001");

  EXPECT_EQ(*parse_url("http://h/"), *parse_url("http://h:80"));
  EXPECT_EQ(parse_url("http://10.0.0.1")->port, 80);
}

TEST(ParseUrl, Rejects) {
  for (auto bad : {"", "localhost:8000", "ftp://h", "http://", "http://:80", "http://user:pw@h",
                   "http://h:0", "http://h:65536", "http://h:x", "http://h/p?q=1", "http://h#f",
                   "http://[::1", "http://::1:80", "http://h o", "http://[zz]:1", "http://h:80:90"})
    EXPECT_FALSE(parse_url(bad)) << bad;
}

TEST(ParseHostPort, Listen) {
  EXPECT_EQ(*parse_host_port(":8000"), (HostPort{"", 8000}));
  EXPECT_EQ(*parse_host_port("127.0.0.1:8080"), (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(*parse_host_port("[::1]:80"), (HostPort{"::1", 80}));
  EXPECT_EQ(*parse_host_port("redis:6379"), (HostPort{"redis", 6379}));
  for (auto bad : {"", "8000", "host", ":0", ":99999", "::1:80", "h o:1"})
    EXPECT_FALSE(parse_host_port(bad)) << bad;
}
