// Throughput of the SSE relay filter on a vLLM-like chat stream (~170-byte
// chunks, a usage chunk, [DONE]) in pass-through and strip mode, fed one event
// at a time, in 4 KiB pieces and in 64 KiB pieces. The sink only counts, so
// the numbers are the filter's own cost.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "proxy/core/openai/sse_relay.h"

namespace {

using llmproxy::openai::SseRelayFilter;
using llmproxy::openai::SseSink;

class CountingSink final : public SseSink {
 public:
  void write(std::string_view bytes) override { n += bytes.size(); }
  std::size_t n = 0;
};

constexpr int kChunks = 2000;

struct Stream {
  std::string bytes;
  std::vector<std::size_t> event_ends;
};

const Stream& vllm_stream() {
  static const Stream s = [] {
    Stream st;
    static const char* kWords[] = {"The", " quick", " brown", " fox", " jumps", " over", " the",
                                   " lazy", " dog", ".", " Hello", " world", "!", "\\n"};
    auto add = [&](const std::string& data) {
      st.bytes += "data: " + data + "\n\n";
      st.event_ends.push_back(st.bytes.size());
    };
    for (int i = 0; i < kChunks; ++i) {
      add(R"({"id":"chatcmpl-5f2c9a1e8d3b4c7a","object":"chat.completion.chunk","created":1718000000,)"
          R"("model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"content":")" +
          std::string(kWords[i % 14]) + R"("},"logprobs":null,"finish_reason":null}],"usage":null})");
    }
    add(R"({"id":"chatcmpl-5f2c9a1e8d3b4c7a","object":"chat.completion.chunk","created":1718000000,)"
        R"("model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[],)"
        R"("usage":{"prompt_tokens":512,"total_tokens":2512,"completion_tokens":2000}})");
    add("[DONE]");
    return st;
  }();
  return s;
}

// piece == 0: one event per feed.
void BM_SseRelay(benchmark::State& state) {
  const bool strip = state.range(0) != 0;
  const auto piece = static_cast<std::size_t>(state.range(1));
  const Stream& s = vllm_stream();
  std::size_t events = 0;
  for (auto _ : state) {
    SseRelayFilter filter(strip);
    CountingSink sink;
    if (piece == 0) {
      std::size_t prev = 0;
      for (std::size_t end : s.event_ends) {
        filter.feed(std::string_view(s.bytes).substr(prev, end - prev), sink);
        prev = end;
      }
    } else {
      for (std::size_t pos = 0; pos < s.bytes.size(); pos += piece)
        filter.feed(std::string_view(s.bytes).substr(pos, piece), sink);
    }
    filter.finish(sink);
    benchmark::DoNotOptimize(sink.n);
    events += filter.events();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.bytes.size()));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_SseRelay)
    ->ArgNames({"strip", "piece"})
    ->ArgsProduct({{0, 1}, {0, 4096, 65536}});

}  // namespace

BENCHMARK_MAIN();
