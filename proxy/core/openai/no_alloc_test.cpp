// The hot path allocates nothing in steady state: after a warm-up stream,
// relaying another stream (any split, either mode), inspecting chunks,
// extracting usage and reading request fields do not touch the heap.
// Allocations are counted by proxy/core/testing/allocation_counter.
#include <gtest/gtest.h>

#include <string>

#include "proxy/core/openai/request_fields.h"
#include "proxy/core/openai/sse_relay.h"
#include "proxy/core/openai/usage.h"
#include "proxy/core/testing/allocation_counter.h"


namespace llmproxy::openai {
namespace {

class CountingSink final : public SseSink {
 public:
  void write(std::string_view bytes) override { n += bytes.size(); }
  std::size_t n = 0;
};

std::string stream(int chunks) {
  std::string s;
  for (int i = 0; i < chunks; ++i)
    s += "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":"
         "[{\"index\":0,\"delta\":{\"content\":\"tok" + std::to_string(i) + "\"}}],\"usage\":null}\n\n";
  s += "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9}}\n\n"
       "data: [DONE]\n\n";
  return s;
}

TEST(NoAllocation, CounterWorks) {
  const long before = llmproxy::testing::allocations();
  std::string big(1000, 'x');
  EXPECT_GT(llmproxy::testing::allocations() - before, 0);
}

TEST(NoAllocation, RelayInSteadyState) {
  const std::string s = stream(200);
  for (bool strip : {false, true}) {
    for (std::size_t piece : {std::size_t{7}, std::size_t{150}, std::size_t{4096}}) {
      SseRelayFilter f(strip);
      CountingSink sink;
      auto run = [&] {
        for (std::size_t pos = 0; pos < s.size(); pos += piece)
          f.feed(std::string_view(s).substr(pos, piece), sink);
      };
      run();  // warm-up: buffers reach their working size
      const long before = llmproxy::testing::allocations();
      run();
      run();
      EXPECT_EQ(llmproxy::testing::allocations() - before, 0) << "strip=" << strip << " piece=" << piece;
      EXPECT_EQ(f.events(), 3u * 202u);
    }
  }
}

TEST(NoAllocation, UsageAndRequestFields) {
  const std::string response =
      R"({"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}})";
  const std::string request =
      R"({"model":"m\/x","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":9})";
  std::string scratch, out;
  scratch.reserve(64);
  out.reserve(256);
  const long before = llmproxy::testing::allocations();
  EXPECT_TRUE(extract_usage_from_body(response).present);
  EXPECT_TRUE(inspect_chunk(response).valid_json);
  const RequestFields f = read_request_fields(request, scratch);
  EXPECT_EQ(f.model, "m/x");
  EXPECT_TRUE(inject_include_usage(request, f, out));
  EXPECT_EQ(llmproxy::testing::allocations() - before, 0);
}

}  // namespace
}  // namespace llmproxy::openai
