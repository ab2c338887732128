#include "fake_backends/openai_response.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <vector>

namespace llmproxy::fake {
namespace {
namespace json = boost::json;

// Splits "data: X\n\n" events; returns the payloads.
std::vector<std::string> events(std::string_view sse) {
  std::vector<std::string> out;
  while (!sse.empty()) {
    EXPECT_EQ(sse.substr(0, 6), "data: ");
    const auto end = sse.find("\n\n");
    EXPECT_NE(end, std::string_view::npos);
    out.emplace_back(sse.substr(6, end - 6));
    sse.remove_prefix(end + 2);
  }
  return out;
}

TEST(TokenText, DeterministicAscii) {
  std::string a, b;
  append_token_text(a, 42, 7);
  append_token_text(b, 42, 7);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.substr(0, 4), " tok");
  EXPECT_LE(a.size(), 7u);
  EXPECT_EQ(completion_text(42, 0), "");
  std::string two;
  append_token_text(two, 42, 0);
  append_token_text(two, 42, 1);
  EXPECT_EQ(completion_text(42, 2), two);
  EXPECT_NE(completion_text(1, 8), completion_text(2, 8));
}

TEST(ErrorBody, OpenAiShape) {
  const auto v = json::parse(error_body(ApiError{400, "invalid_request_error", "", "messages", "bad"}));
  const auto& e = v.at("error");
  EXPECT_EQ(e.at("message"), "bad");
  EXPECT_EQ(e.at("type"), "invalid_request_error");
  EXPECT_EQ(e.at("param"), "messages");
  EXPECT_TRUE(e.at("code").is_null());
  const auto r = error_for_status(429, "");
  EXPECT_EQ(r.type, "rate_limit_error");
  EXPECT_EQ(r.code, "rate_limit_exceeded");
  EXPECT_EQ(error_for_status(400, "context_length_exceeded").code, "context_length_exceeded");
  EXPECT_EQ(error_for_status(503, "").type, "server_error");
}

TEST(Bodies, ChatCompletion) {
  const auto v = json::parse(chat_completion_body("chatcmpl-1", 1700000000, "m\"x", " tok1 tok2", "length", Usage{3, 2}));
  EXPECT_EQ(v.at("id"), "chatcmpl-1");
  EXPECT_EQ(v.at("object"), "chat.completion");
  EXPECT_EQ(v.at("created"), 1700000000);
  EXPECT_EQ(v.at("model"), "m\"x");
  const auto& choice = v.at("choices").at(0);
  EXPECT_EQ(choice.at("index"), 0);
  EXPECT_EQ(choice.at("message").at("role"), "assistant");
  EXPECT_EQ(choice.at("message").at("content"), " tok1 tok2");
  EXPECT_EQ(choice.at("finish_reason"), "length");
  EXPECT_EQ(v.at("usage").at("prompt_tokens"), 3);
  EXPECT_EQ(v.at("usage").at("completion_tokens"), 2);
  EXPECT_EQ(v.at("usage").at("total_tokens"), 5);
}

TEST(Bodies, TextCompletionEmbeddingsModels) {
  const auto t = json::parse(text_completion_body("cmpl-1", 1, "m", " tok5", "stop", Usage{1, 1}));
  EXPECT_EQ(t.at("object"), "text_completion");
  EXPECT_EQ(t.at("choices").at(0).at("text"), " tok5");
  EXPECT_EQ(t.at("choices").at(0).at("finish_reason"), "stop");

  const auto e = json::parse(embeddings_body("emb", 99, 2, 4, 7));
  EXPECT_EQ(e.at("object"), "list");
  ASSERT_EQ(e.at("data").as_array().size(), 2u);
  EXPECT_EQ(e.at("data").at(1).at("index"), 1);
  EXPECT_EQ(e.at("data").at(0).at("object"), "embedding");
  const auto& vec = e.at("data").at(0).at("embedding").as_array();
  ASSERT_EQ(vec.size(), 4u);
  for (const auto& x : vec) {
    EXPECT_GE(x.to_number<double>(), -1.0);
    EXPECT_LE(x.to_number<double>(), 1.0);
  }
  EXPECT_EQ(e.at("usage").at("prompt_tokens"), 7);
  EXPECT_EQ(e.at("usage").at("total_tokens"), 7);
  EXPECT_EQ(embeddings_body("emb", 99, 2, 4, 7), embeddings_body("emb", 99, 2, 4, 7));

  const std::vector<std::string> models{"a", "*", "b"};
  const auto m = json::parse(models_body(models, 5));
  ASSERT_EQ(m.at("data").as_array().size(), 2u);
  EXPECT_EQ(m.at("data").at(1).at("id"), "b");
  EXPECT_EQ(m.at("data").at(0).at("object"), "model");
  EXPECT_EQ(m.at("data").at(0).at("owned_by"), "fake-openai");
}

TEST(ChunkFormatter, ChatWithoutUsage) {
  ChunkFormatter f(Endpoint::chat, "chatcmpl-9", 123, "gpt", false);
  std::string sse;
  f.append_role(sse);
  f.append_token(sse, " tok1");
  f.append_finish(sse, "stop");
  ChunkFormatter::append_done(sse);
  const auto ev = events(sse);
  ASSERT_EQ(ev.size(), 4u);
  const auto first = json::parse(ev[0]);
  EXPECT_EQ(first.at("object"), "chat.completion.chunk");
  EXPECT_EQ(first.at("id"), "chatcmpl-9");
  EXPECT_EQ(first.at("created"), 123);
  EXPECT_EQ(first.at("model"), "gpt");
  EXPECT_EQ(first.at("choices").at(0).at("delta").at("role"), "assistant");
  EXPECT_TRUE(first.at("choices").at(0).at("finish_reason").is_null());
  EXPECT_EQ(first.as_object().count("usage"), 0u);
  const auto tok = json::parse(ev[1]);
  EXPECT_EQ(tok.at("choices").at(0).at("delta").at("content"), " tok1");
  EXPECT_EQ(tok.at("choices").at(0).at("delta").as_object().count("role"), 0u);
  const auto last = json::parse(ev[2]);
  EXPECT_TRUE(last.at("choices").at(0).at("delta").as_object().empty());
  EXPECT_EQ(last.at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_EQ(ev[3], "[DONE]");
}

TEST(ChunkFormatter, ChatWithUsage) {
  ChunkFormatter f(Endpoint::chat, "c", 1, "m", true);
  std::string sse;
  f.append_role(sse);
  f.append_token(sse, " tok1");
  f.append_finish(sse, "length");
  f.append_usage(sse, Usage{4, 1});
  const auto ev = events(sse);
  ASSERT_EQ(ev.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    const auto v = json::parse(ev[i]);
    ASSERT_TRUE(v.as_object().contains("usage")) << ev[i];
    EXPECT_TRUE(v.at("usage").is_null());
  }
  const auto u = json::parse(ev[3]);
  EXPECT_TRUE(u.at("choices").as_array().empty());
  EXPECT_EQ(u.at("object"), "chat.completion.chunk");
  EXPECT_EQ(u.at("usage").at("prompt_tokens"), 4);
  EXPECT_EQ(u.at("usage").at("completion_tokens"), 1);
  EXPECT_EQ(u.at("usage").at("total_tokens"), 5);
}

TEST(ChunkFormatter, CompletionsAndMalformed) {
  ChunkFormatter f(Endpoint::completions, "cmpl-1", 1, "m", false);
  std::string sse;
  f.append_role(sse);  // no role event for the legacy endpoint
  EXPECT_TRUE(sse.empty());
  f.append_token(sse, " tok3");
  f.append_finish(sse, "stop");
  auto ev = events(sse);
  ASSERT_EQ(ev.size(), 2u);
  const auto t = json::parse(ev[0]);
  EXPECT_EQ(t.at("object"), "text_completion");
  EXPECT_EQ(t.at("choices").at(0).at("text"), " tok3");
  EXPECT_EQ(json::parse(ev[1]).at("choices").at(0).at("text"), "");
  EXPECT_EQ(json::parse(ev[1]).at("choices").at(0).at("finish_reason"), "stop");

  sse.clear();
  f.append_token(sse, " tok3", /*malformed=*/true);
  ev = events(sse);
  ASSERT_EQ(ev.size(), 1u);
  boost::system::error_code ec;
  json::parse(ev[0], ec);
  EXPECT_TRUE(ec) << ev[0];
}

}  // namespace
}  // namespace llmproxy::fake
