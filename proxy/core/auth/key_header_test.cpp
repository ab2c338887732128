#include "proxy/core/auth/key_header.h"

#include <gtest/gtest.h>

#include <map>

using namespace llmproxy::auth;

namespace {
std::optional<std::string> key(std::string_view value, bool bearer) {
  auto k = key_in_value(value, bearer);
  return k ? std::optional<std::string>(std::string(*k)) : std::nullopt;
}
}  // namespace

TEST(KeyHeader, NamesAreLowerCasedAndAuthorizationReadsBearer) {
  const auto h = key_headers({"Authorization", "X-API-Key", "AUTHORIZATION"});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].name, "authorization");
  EXPECT_TRUE(h[0].bearer);
  EXPECT_EQ(h[1].name, "x-api-key");
  EXPECT_FALSE(h[1].bearer);
  EXPECT_TRUE(h[2].bearer);
}

TEST(KeyHeader, BearerScheme) {
  EXPECT_EQ(key("Bearer sk-1", true), "sk-1");
  EXPECT_EQ(key("bearer sk-1", true), "sk-1");
  EXPECT_EQ(key("BEARER\tsk-1", true), "sk-1");
  EXPECT_EQ(key("  Bearer   sk-1  ", true), "sk-1");
  EXPECT_EQ(key("Bearer sk-1", false), "Bearer sk-1");  // not Authorization: the value as it is
  for (auto none : {"", "Bearer", "Bearer ", "Bearer   ", "Bearersk-1", "Basic c2s6MQ==", "sk-1", "Bearer a b",
                    "Bearer a\tb", "Token sk-1", "Bearer\x01sk-1"})
    EXPECT_FALSE(key(none, true)) << '"' << none << '"';
}

TEST(KeyHeader, OtherHeadersTakeTheTrimmedValue) {
  EXPECT_EQ(key("sk-1", false), "sk-1");
  EXPECT_EQ(key(" \tsk-1 ", false), "sk-1");
  EXPECT_FALSE(key("", false));
  EXPECT_FALSE(key(" \t ", false));
}

TEST(KeyHeader, FirstHeaderInOrderThatCarriesAKey) {
  const auto headers = key_headers({"Authorization", "X-API-Key"});
  std::map<std::string, std::string> req;
  auto value_of = [&](std::string_view name) -> std::string_view {
    auto it = req.find(std::string(name));
    return it == req.end() ? std::string_view() : std::string_view(it->second);
  };
  EXPECT_FALSE(extract_key(headers, value_of));
  req["x-api-key"] = "sk-x";
  EXPECT_EQ(extract_key(headers, value_of), "sk-x");
  req["authorization"] = "Bearer sk-a";
  EXPECT_EQ(extract_key(headers, value_of), "sk-a");
  req["authorization"] = "Basic dXNlcjpwdw==";  // no key in it: the next header decides
  EXPECT_EQ(extract_key(headers, value_of), "sk-x");
  req.erase("x-api-key");
  EXPECT_FALSE(extract_key(headers, value_of));
}
