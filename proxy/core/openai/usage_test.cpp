#include "proxy/core/openai/usage.h"

#include <gtest/gtest.h>

namespace llmproxy::openai {
namespace {

TEST(Usage, FromNonStreamBody) {
  const auto u = extract_usage_from_body(
      R"({"id":"cmpl-1","object":"chat.completion","choices":[{"index":0,"message":)"
      R"({"role":"assistant","content":"hi \"usage\""}}],)"
      R"("usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,)"
      R"("prompt_tokens_details":{"cached_tokens":0}}})");
  EXPECT_EQ(u, (Usage{12, 5, 17, true}));
}

TEST(Usage, InvalidUtf8ElsewhereDoesNotHideUsage) {
  EXPECT_EQ(extract_usage_from_body("{\"choices\":[{\"text\":\"\xff\"}],\"usage\":{\"prompt_tokens\":1,"
                                    "\"completion_tokens\":1}}"),
            (Usage{1, 1, 2, true}));
}

TEST(Usage, MissingTotalIsTheSum) {
  EXPECT_EQ(extract_usage_from_body(R"({"usage":{"prompt_tokens":3,"completion_tokens":4}})"),
            (Usage{3, 4, 7, true}));
}

TEST(Usage, AbsentNullOrInvalid) {
  EXPECT_FALSE(extract_usage_from_body(R"({"choices":[]})").present);
  EXPECT_FALSE(extract_usage_from_body(R"({"usage":null})").present);
  EXPECT_FALSE(extract_usage_from_body(R"({"usage":{"prompt_tokens":1})").present);
  EXPECT_FALSE(extract_usage_from_body("[1]").present);
  EXPECT_FALSE(extract_usage_from_body("").present);
}

TEST(Usage, BadCountsReadAsZero) {
  EXPECT_EQ(extract_usage_from_body(
                R"({"usage":{"prompt_tokens":-5,"completion_tokens":"7","total_tokens":2.5}})"),
            (Usage{0, 0, 0, true}));
}

TEST(Usage, LastUsageMemberWins) {
  EXPECT_EQ(extract_usage_from_event(
                R"({"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2,"total_tokens":2}})"),
            (Usage{2, 0, 2, true}));
}

TEST(Usage, InspectChunk) {
  const auto usage_only = inspect_chunk(
      R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],)"
      R"("usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}})");
  EXPECT_TRUE(usage_only.valid_json);
  EXPECT_TRUE(usage_only.usage_only);
  EXPECT_EQ(usage_only.usage, (Usage{9, 2, 11, true}));

  const auto content = inspect_chunk(
      R"({"id":"c","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null})");
  EXPECT_TRUE(content.valid_json);
  EXPECT_FALSE(content.usage_only);
  EXPECT_FALSE(content.usage.present);

  // Continuous usage stats: usage on a content chunk is captured but not stripped.
  const auto both = inspect_chunk(R"({"choices":[{"index":0}],"usage":{"prompt_tokens":1}})");
  EXPECT_FALSE(both.usage_only);
  EXPECT_TRUE(both.usage.present);

  EXPECT_FALSE(inspect_chunk(R"({"choices":[ ],"usage":null})").usage_only);
  EXPECT_FALSE(inspect_chunk(R"({"usage":{"prompt_tokens":1}})").usage_only);
  EXPECT_TRUE(inspect_chunk(R"( { "choices" : [ ] , "usage" : { } } )").usage_only);
  EXPECT_FALSE(inspect_chunk(R"({"choices":[],"usage":{}, "choices":[1]})").usage_only);
  EXPECT_FALSE(inspect_chunk(R"({"choices":[],"usage":{})").valid_json);
  EXPECT_TRUE(inspect_chunk("42").valid_json);
  EXPECT_FALSE(inspect_chunk("[DONE").valid_json);
}

}  // namespace
}  // namespace llmproxy::openai
