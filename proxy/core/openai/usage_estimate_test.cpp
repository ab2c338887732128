#include "proxy/core/openai/usage_estimate.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/core/openai/sse_relay.h"

namespace llmproxy::openai {
namespace {

bool carries(std::string_view chunk) { return inspect_chunk(chunk).carries_output; }

TEST(UsageEstimate, OutputDeltasCount) {
  EXPECT_TRUE(carries(R"({"choices":[{"index":0,"delta":{"content":" tok1"}}]})"));
  EXPECT_TRUE(carries(R"({"choices":[{"delta":{"reasoning_content":"hm"}}]})"));
  EXPECT_TRUE(carries(R"({"choices":[{"delta":{"reasoning":"hm"}}]})"));
  EXPECT_TRUE(carries(R"({"choices":[{"delta":{"tool_calls":[{"index":0}]}}]})"));
  EXPECT_TRUE(carries(R"({"choices":[{"text":"a","index":0}]})"));
  // A later choice may carry it; escapes are content too.
  EXPECT_TRUE(carries(R"({"choices": [ {"delta":{}} , {"delta":{"content":"\n"}} ]})"));
}

TEST(UsageEstimate, NoOutputDoesNotCount) {
  EXPECT_FALSE(carries(R"({"choices":[{"delta":{"role":"assistant","content":""}}]})"));
  EXPECT_FALSE(carries(R"({"choices":[{"delta":{},"finish_reason":"stop"}]})"));
  EXPECT_FALSE(carries(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}})"));
  EXPECT_FALSE(carries(R"({"choices":[{"delta":{"tool_calls":[]}}]})"));
  EXPECT_FALSE(carries(R"({"choices":[{"delta":{"content":null}}]})"));
  EXPECT_FALSE(carries(R"({"choices":[{"text":""}]})"));
  EXPECT_FALSE(carries(R"({"choices":{"delta":{"content":"x"}}})"));  // not an array
  EXPECT_FALSE(carries(R"({"delta":{"content":"x"}})"));               // no choices
  EXPECT_FALSE(carries(R"({"choices":[{"delta":{"content":"x"}}])"));  // invalid JSON
}

TEST(UsageEstimate, Estimate) {
  const Usage u = estimate_stream_usage(7, 12);
  EXPECT_TRUE(u.present);
  EXPECT_EQ(u.prompt_tokens, 12);
  EXPECT_EQ(u.completion_tokens, 7);
  EXPECT_EQ(u.total_tokens, 19);
  EXPECT_EQ(estimate_stream_usage(0, -3), (Usage{0, 0, 0, true}));
}

// The relay filter counts received output events, including those after
// which the stream is cut, but not a partial event or anything after a
// malformed one.
TEST(UsageEstimate, FilterCountsReceivedOutputEvents) {
  SseRelayFilter f(true);
  StringSink sink;
  f.feed("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n", sink);
  f.feed("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"de", sink);
  f.feed("lta\":{\"content\":\"b\"}}]}\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"c\"}}]}\n", sink);
  EXPECT_EQ(f.output_events(), 2u);  // the third is not dispatched yet
  f.feed("\ndata: {\"choi\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"d\"}}]}\n\n", sink);
  EXPECT_TRUE(f.malformed());
  EXPECT_EQ(f.output_events(), 3u);
}

}  // namespace
}  // namespace llmproxy::openai
