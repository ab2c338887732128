#include "proxy/core/util/env_expand.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

using llmproxy::util::EnvLookup;
using llmproxy::util::escape_dollars;
using llmproxy::util::expand_env;

namespace {
EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST(ExpandEnv, Substitutes) {
  auto env = fake_env({{"HOST", "db"}, {"EMPTY", ""}});
  EXPECT_EQ(*expand_env("postgres://${HOST}:5432", env), "postgres://db:5432");
  EXPECT_EQ(*expand_env("${MISSING:-fallback}", env), "fallback");
  EXPECT_EQ(*expand_env("${EMPTY:-x}", env), "x");
  EXPECT_EQ(*expand_env("${HOST:-x}", env), "db");
  EXPECT_EQ(*expand_env("cost $$5", env), "cost $5");
  EXPECT_EQ(*expand_env("a$b $", env), "a$b $");
  EXPECT_EQ(*expand_env("$${HOST}", env), "${HOST}");
  EXPECT_EQ(*expand_env("no dollars", env), "no dollars");
  EXPECT_EQ(*expand_env("${MISSING:-}", env), "");
}

TEST(ExpandEnv, Errors) {
  auto env = fake_env({});
  auto r = expand_env("token ${API_TOKEN}", env);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("API_TOKEN"), std::string::npos);
  EXPECT_FALSE(expand_env("${", env));
  EXPECT_FALSE(expand_env("${}", env));
  EXPECT_FALSE(expand_env("${1X}", env));
  EXPECT_FALSE(expand_env("${A B}", env));
  EXPECT_FALSE(expand_env("${X", env));
}

RC_GTEST_PROP(ExpandEnv, EscapeIsInverse, (std::string s)) {
  auto back = expand_env(escape_dollars(s), fake_env({}));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == s);
}
