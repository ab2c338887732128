#include "fake_backends/openai_request.h"

#include <gtest/gtest.h>

namespace llmproxy::fake {
namespace {

InferenceRequest parse_ok(Endpoint e, std::string_view body) {
  InferenceRequest r;
  ApiError err;
  EXPECT_TRUE(parse_inference_request(e, body, r, err)) << body << ": " << err.message;
  return r;
}

ApiError parse_err(Endpoint e, std::string_view body) {
  InferenceRequest r;
  ApiError err;
  EXPECT_FALSE(parse_inference_request(e, body, r, err)) << body;
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.type, "invalid_request_error");
  return err;
}

TEST(ClassifyTarget, Routes) {
  EXPECT_EQ(classify_target("/v1/chat/completions"), Endpoint::chat);
  EXPECT_EQ(classify_target("/v1/chat/completions?x=1"), Endpoint::chat);
  EXPECT_EQ(classify_target("/v1/completions"), Endpoint::completions);
  EXPECT_EQ(classify_target("/v1/embeddings"), Endpoint::embeddings);
  EXPECT_EQ(classify_target("/v1/models"), Endpoint::models);
  EXPECT_EQ(classify_target("/health"), Endpoint::health);
  EXPECT_EQ(classify_target("/v1/health"), Endpoint::health);
  EXPECT_EQ(classify_target("/v1/chat/completions/"), Endpoint::unknown);
  EXPECT_EQ(classify_target("/"), Endpoint::unknown);
  EXPECT_TRUE(method_allowed(Endpoint::chat, "POST"));
  EXPECT_FALSE(method_allowed(Endpoint::chat, "GET"));
  EXPECT_TRUE(method_allowed(Endpoint::health, "GET"));
  EXPECT_FALSE(method_allowed(Endpoint::models, "POST"));
  EXPECT_FALSE(method_allowed(Endpoint::unknown, "GET"));
}

TEST(CountWords, Whitespace) {
  EXPECT_EQ(count_words(""), 0u);
  EXPECT_EQ(count_words("   "), 0u);
  EXPECT_EQ(count_words("hello"), 1u);
  EXPECT_EQ(count_words("  hello \t world\n\nagain "), 3u);
}

TEST(ParseChat, Fields) {
  const auto r = parse_ok(Endpoint::chat, R"({"model":"m","messages":[
      {"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"say hi now"},{"type":"image_url","image_url":{"url":"x"}}]},
      {"role":"assistant","content":null}],
      "stream":true,"stream_options":{"include_usage":true},"max_tokens":5})");
  EXPECT_EQ(r.model, "m");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.max_tokens, 5u);
  EXPECT_EQ(r.prompt_tokens, 5u);  // "be brief" + "say hi now"
}

TEST(ParseChat, MaxCompletionTokensWins) {
  const auto r = parse_ok(Endpoint::chat,
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":9,"max_completion_tokens":3})");
  EXPECT_EQ(r.max_tokens, 3u);
  const auto n = parse_ok(Endpoint::chat,
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":null,"stream":false})");
  EXPECT_FALSE(n.max_tokens.has_value());
  EXPECT_FALSE(n.stream);
  EXPECT_FALSE(n.include_usage);
}

TEST(ParseChat, HashDependsOnContentOnly) {
  const auto a = parse_ok(Endpoint::chat, R"({"model":"a","messages":[{"role":"user","content":"hello world"}]})");
  const auto b = parse_ok(Endpoint::chat, R"({"model":"b","messages":[{"role":"user","content":"hello world"}],"stream":true})");
  const auto c = parse_ok(Endpoint::chat, R"({"model":"a","messages":[{"role":"user","content":"hello worle"}]})");
  const auto d = parse_ok(Endpoint::chat, R"({"model":"a","messages":[{"role":"user","content":"hello "},{"role":"user","content":"world"}]})");
  EXPECT_EQ(a.content_hash, b.content_hash);
  EXPECT_NE(a.content_hash, c.content_hash);
  EXPECT_NE(a.content_hash, d.content_hash);
}

TEST(ParseChat, Errors) {
  EXPECT_NE(parse_err(Endpoint::chat, "{not json").message.find("could not parse the JSON"),
            std::string::npos);
  parse_err(Endpoint::chat, "[1,2]");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"messages":[{"role":"user","content":"x"}]})").param, "model");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"model":"m"})").param, "messages");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"model":"m","messages":[]})").param, "messages");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"model":"m","messages":[{"content":"x"}]})").param, "messages");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"model":"m","messages":[{"role":"user","content":5}]})").param, "messages");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})").param, "stream");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}})").param, "stream_options");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})").param, "max_tokens");
  EXPECT_EQ(parse_err(Endpoint::chat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":1.5})").param, "max_completion_tokens");
}

TEST(ParseCompletions, PromptForms) {
  EXPECT_EQ(parse_ok(Endpoint::completions, R"({"model":"m","prompt":"one two three"})").prompt_tokens, 3u);
  EXPECT_EQ(parse_ok(Endpoint::completions, R"({"model":"m","prompt":["a b","c"]})").prompt_tokens, 3u);
  EXPECT_EQ(parse_ok(Endpoint::completions, R"({"model":"m","prompt":[1,2,3,4]})").prompt_tokens, 4u);
  EXPECT_EQ(parse_ok(Endpoint::completions, R"({"model":"m","prompt":[[1,2],[3]]})").prompt_tokens, 3u);
  EXPECT_EQ(parse_err(Endpoint::completions, R"({"model":"m"})").param, "prompt");
  EXPECT_EQ(parse_err(Endpoint::completions, R"({"model":"m","prompt":{}})").param, "prompt");
  EXPECT_EQ(parse_err(Endpoint::completions, R"({"model":"m","prompt":[]})").param, "prompt");
}

TEST(ParseEmbeddings, Inputs) {
  const auto one = parse_ok(Endpoint::embeddings, R"({"model":"e","input":"a b c"})");
  EXPECT_EQ(one.input_count, 1u);
  EXPECT_EQ(one.prompt_tokens, 3u);
  const auto many = parse_ok(Endpoint::embeddings, R"({"model":"e","input":["a","b c"],"encoding_format":"float"})");
  EXPECT_EQ(many.input_count, 2u);
  EXPECT_EQ(many.prompt_tokens, 3u);
  EXPECT_EQ(parse_ok(Endpoint::embeddings, R"({"model":"e","input":[5,6]})").input_count, 1u);
  EXPECT_EQ(parse_err(Endpoint::embeddings, R"({"model":"e","input":[true]})").param, "input");
}

TEST(ParseRequest, LargeBodiesOutgrowTheArena) {
  std::string big = R"({"model":"m","messages":[)";
  for (int i = 0; i < 500; ++i) {
    if (i) big += ',';
    big += R"({"role":"user","content":"word word word word"})";
  }
  big += "]}";
  EXPECT_EQ(parse_ok(Endpoint::chat, big).prompt_tokens, 2000u);
}

}  // namespace
}  // namespace llmproxy::fake
