#include "proxy/core/openai/request_fields.h"

#include <gtest/gtest.h>

#include "proxy/core/openai/json_scan.h"

namespace llmproxy::openai {
namespace {

RequestFields read(std::string_view body) {
  static std::string scratch;
  return read_request_fields(body, scratch);
}

TEST(RequestFields, ChatRequest) {
  const std::string body =
      R"({"model":"llama-3-8b","messages":[{"role":"user","content":"hi"}],"stream":true,)"
      R"("stream_options":{"include_usage":false},"max_tokens":128})";
  const auto f = read(body);
  EXPECT_FALSE(f.error);
  EXPECT_EQ(f.model, "llama-3-8b");
  EXPECT_TRUE(f.stream);
  EXPECT_EQ(f.include_usage, false);
  EXPECT_EQ(f.max_tokens, 128);
  EXPECT_FALSE(f.max_completion_tokens);
  EXPECT_EQ(f.prompt_bytes, std::string_view(R"([{"role":"user","content":"hi"}])").size());
}

TEST(RequestFields, DefaultsAndNulls) {
  const auto f = read(R"({"model":"m","prompt":"abc","stream":null,"max_tokens":null})");
  EXPECT_FALSE(f.error);
  EXPECT_FALSE(f.stream);
  EXPECT_FALSE(f.include_usage);
  EXPECT_FALSE(f.max_tokens);
  EXPECT_EQ(f.prompt_bytes, 5u);
}

TEST(RequestFields, EscapedModelIsDecoded) {
  std::string scratch;
  const auto f = read_request_fields(R"({"model":"a\/b"})", scratch);
  EXPECT_EQ(f.model, "a/b");
}

TEST(RequestFields, NotAnObjectIsInvalidJson) {
  for (const char* body : {"", "[]", "{", R"({"model":"m"} x)", "null", "{\"a\":01}"})
    EXPECT_EQ(read(body).error, ErrorId::invalid_request_json) << body;
}

TEST(RequestFields, WrongTypesAreInvalidRequest) {
  struct Case { const char* body; std::string_view param; };
  for (const Case& c : {Case{R"({"model":1})", "model"}, Case{R"({"stream":"yes"})", "stream"},
                        Case{R"({"stream_options":[]})", "stream_options"},
                        Case{R"({"stream_options":{"include_usage":1}})", "stream_options.include_usage"},
                        Case{R"({"max_tokens":1.5})", "max_tokens"},
                        Case{R"({"max_completion_tokens":"9"})", "max_completion_tokens"}}) {
    const auto f = read(c.body);
    EXPECT_EQ(f.error, ErrorId::invalid_request) << c.body;
    EXPECT_EQ(f.error_param, c.param) << c.body;
  }
}

std::string inject(std::string_view body) {
  std::string out = "untouched";
  if (!inject_include_usage(body, out)) {
    EXPECT_EQ(out, "untouched");
  }
  return out;
}

TEST(InjectIncludeUsage, AddsMemberWhenAbsent) {
  EXPECT_EQ(inject(R"({"model":"m","stream":true})"),
            R"({"model":"m","stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(inject("{\"stream\":true }\n"),
            "{\"stream\":true ,\"stream_options\":{\"include_usage\":true}}\n");
}

TEST(InjectIncludeUsage, AddsKeyToExistingObject) {
  EXPECT_EQ(inject(R"({"stream":true,"stream_options":{}})"),
            R"({"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(inject(R"({"stream":true,"stream_options":{ "continuous_usage_stats":false }})"),
            R"({"stream":true,"stream_options":{"include_usage":true, "continuous_usage_stats":false }})");
}

TEST(InjectIncludeUsage, OverridesFalseAndNull) {
  EXPECT_EQ(inject(R"({"stream":true,"stream_options":{"include_usage":false}})"),
            R"({"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(inject(R"({"stream":true,"stream_options":{"include_usage":null}})"),
            R"({"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(inject(R"({"stream":true,"stream_options":null})"),
            R"({"stream":true,"stream_options":{"include_usage":true}})");
}

TEST(InjectIncludeUsage, LeavesOtherRequestsAlone) {
  EXPECT_EQ(inject(R"({"stream":false})"), "untouched");
  EXPECT_EQ(inject(R"({"model":"m"})"), "untouched");
  EXPECT_EQ(inject(R"({"stream":true,"stream_options":{"include_usage":true}})"), "untouched");
  EXPECT_EQ(inject(R"({"stream":true,"stream_options":"x"})"), "untouched");
  EXPECT_EQ(inject(R"({"stream":true)"), "untouched");
}

TEST(InjectIncludeUsage, EditsTheEffectiveDuplicate) {
  const std::string out =
      inject(R"({"stream":true,"stream_options":{"include_usage":true},"stream_options":{}})");
  std::string scratch;
  const auto f = read_request_fields(out, scratch);
  EXPECT_EQ(f.include_usage, true);
}

}  // namespace
}  // namespace llmproxy::openai
