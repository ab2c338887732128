// Metrics cost: WorkerMetrics::on_request_end (once per request, on the
// worker's thread), on_inter_token (once per streamed chunk) and
// render_metrics (once per scrape) with 4 workers × 10 backends.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/metrics/render.h"

namespace {

using namespace llmproxy;
using namespace llmproxy::metrics;

constexpr int kBackends = 10;

MetricsLayout layout(bool custom) {
  MetricsLayout l;
  for (int i = 0; i < kBackends; ++i) l.backends.push_back("backend-" + std::to_string(i));
  l.latency_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  if (custom) l.custom_labels = {"model", "user_id", "api_key"};
  return l;
}

// 120 tuples of custom values (the cap is 100: some fold into "other").
struct Tuples {
  Tuples() {
    for (int i = 0; i < 120; ++i) {
      strings.push_back({"gpt-4o-mini-2024-07-18-" + std::to_string(i % 4), "user-" + std::to_string(i),
                         "sk-proj-abcdefghijklmnop" + std::to_string(i % 7)});
    }
    for (const auto& s : strings) views.push_back({s[0], s[1], s[2]});
  }
  std::vector<std::vector<std::string>> strings;
  std::vector<std::vector<std::string_view>> views;
};

RequestSample sample(std::size_t i, const Tuples* t) {
  RequestSample s;
  s.route = i % 5 == 0 ? http::Route::embeddings : http::Route::chat_completions;
  s.backend = static_cast<int>(i % kBackends);
  s.status = i % 17 == 0 ? 502 : 200;
  s.outcome = i % 17 == 0 ? "error" : "completed";
  s.error_label = i % 17 == 0 ? "upstream_reset" : "";
  s.duration_s = 0.001 * static_cast<double>(i % 5000);
  s.ttft_s = 0.0005 * static_cast<double>(i % 1000);
  s.stream = i % 2 == 0;
  s.prompt_tokens = 100;
  s.completion_tokens = 250;
  s.attempts = 1;
  if (t) s.custom_values = t->views[i % t->views.size()];
  return s;
}

void BM_OnRequestEnd(benchmark::State& state) {
  const bool custom = state.range(0) != 0;
  const Tuples tuples;
  WorkerMetrics m(layout(custom));
  std::size_t i = 0;
  for (auto _ : state) {
    m.on_request_end(sample(i++, custom ? &tuples : nullptr));
    benchmark::ClobberMemory();
  }
  state.SetLabel(custom ? "3 custom labels, 120 tuples" : "no custom labels");
}

void BM_OnInterToken(benchmark::State& state) {
  WorkerMetrics m(layout(false));
  std::size_t i = 0;
  for (auto _ : state) {
    m.on_inter_token(static_cast<int>(i % kBackends), 0.0001 * static_cast<double>(i % 3000));
    ++i;
    benchmark::ClobberMemory();
  }
}

void BM_Render(benchmark::State& state) {
  const bool custom = state.range(0) != 0;
  const Tuples tuples;
  std::vector<std::unique_ptr<WorkerMetrics>> workers;
  std::vector<const WorkerMetrics*> ptrs;
  for (int w = 0; w < 4; ++w) {
    workers.push_back(std::make_unique<WorkerMetrics>(layout(custom)));
    ptrs.push_back(workers.back().get());
    for (std::size_t i = 0; i < 20000; ++i) {
      workers.back()->on_request_end(sample(i + static_cast<std::size_t>(w) * 7, custom ? &tuples : nullptr));
      workers.back()->on_inter_token(static_cast<int>(i % kBackends), 0.02);
      if (i % 50 == 0) workers.back()->on_upstream_error(static_cast<int>(i % kBackends), "upstream_timeout");
    }
  }
  std::vector<BackendScrape> backends(kBackends);
  std::string out;
  for (auto _ : state) {
    render_metrics(ptrs, ScrapeState{backends, "0.1.0", "abcdef0"}, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(out.size()));
  state.SetLabel(std::to_string(out.size()) + " bytes" + (custom ? ", 3 custom labels, cap 100" : ""));
}

BENCHMARK(BM_OnRequestEnd)->Name("on_request_end")->Arg(0)->Arg(1);
BENCHMARK(BM_OnInterToken)->Name("on_inter_token");
BENCHMARK(BM_Render)->Name("render/4_workers_10_backends")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
