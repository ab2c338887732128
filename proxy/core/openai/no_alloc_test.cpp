// The hot path allocates nothing in steady state: after a warm-up stream,
// relaying another stream (any split, either mode), inspecting chunks,
// extracting usage and reading request fields do not touch the heap.
// Global operator new is replaced in this test binary to count calls.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "proxy/core/openai/request_fields.h"
#include "proxy/core/openai/sse_relay.h"
#include "proxy/core/openai/usage.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

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
  const long before = g_allocations.load();
  std::string big(1000, 'x');
  EXPECT_GT(g_allocations.load() - before, 0);
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
      const long before = g_allocations.load();
      run();
      run();
      EXPECT_EQ(g_allocations.load() - before, 0) << "strip=" << strip << " piece=" << piece;
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
  const long before = g_allocations.load();
  EXPECT_TRUE(extract_usage_from_body(response).present);
  EXPECT_TRUE(inspect_chunk(response).valid_json);
  const RequestFields f = read_request_fields(request, scratch);
  EXPECT_EQ(f.model, "m/x");
  EXPECT_TRUE(inject_include_usage(request, f, out));
  EXPECT_EQ(g_allocations.load() - before, 0);
}

}  // namespace
}  // namespace llmproxy::openai
