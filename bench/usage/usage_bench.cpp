// ns/op of the per-request JSON work: usage from a typical non-streaming chat
// response, inspecting one stream chunk, reading request fields and
// injecting include_usage.
#include <benchmark/benchmark.h>

#include <string>

#include "proxy/core/openai/request_fields.h"
#include "proxy/core/openai/usage.h"

namespace {

namespace oa = llmproxy::openai;

const std::string& chat_response() {
  static const std::string body = [] {
    std::string content;
    while (content.size() < 1500) content += "The quick brown fox jumps over the lazy dog. \\n";
    return R"({"id":"chatcmpl-5f2c9a1e8d3b4c7a","object":"chat.completion","created":1718000000,)"
           R"("model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"message":)"
           R"({"role":"assistant","content":")" + content +
           R"(","tool_calls":[]},"logprobs":null,"finish_reason":"stop","stop_reason":null}],)"
           R"("usage":{"prompt_tokens":512,"total_tokens":860,"completion_tokens":348,)"
           R"("prompt_tokens_details":null},"prompt_logprobs":null})";
  }();
  return body;
}

const std::string kChunk =
    R"({"id":"chatcmpl-5f2c9a1e8d3b4c7a","object":"chat.completion.chunk","created":1718000000,)"
    R"("model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"content":" fox"},)"
    R"("logprobs":null,"finish_reason":null}],"usage":null})";

const std::string& chat_request() {
  static const std::string body =
      R"({"model":"meta-llama/Meta-Llama-3-8B-Instruct","messages":[{"role":"system","content":)"
      R"("You are a helpful assistant."},{"role":"user","content":")" + std::string(800, 'x') +
      R"("}],"temperature":0.7,"max_tokens":512,"stream":true})";
  return body;
}

void BM_ExtractUsageFromBody(benchmark::State& state) {
  const std::string& body = chat_response();
  for (auto _ : state) benchmark::DoNotOptimize(oa::extract_usage_from_body(body));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ExtractUsageFromBody);

void BM_InspectChunk(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(oa::inspect_chunk(kChunk));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kChunk.size()));
}
BENCHMARK(BM_InspectChunk);

void BM_ReadRequestFields(benchmark::State& state) {
  std::string scratch;
  for (auto _ : state) benchmark::DoNotOptimize(oa::read_request_fields(chat_request(), scratch));
}
BENCHMARK(BM_ReadRequestFields);

void BM_InjectIncludeUsage(benchmark::State& state) {
  std::string scratch, out;
  for (auto _ : state) {
    const auto fields = oa::read_request_fields(chat_request(), scratch);
    benchmark::DoNotOptimize(oa::inject_include_usage(chat_request(), fields, out));
  }
}
BENCHMARK(BM_InjectIncludeUsage);

}  // namespace

BENCHMARK_MAIN();
