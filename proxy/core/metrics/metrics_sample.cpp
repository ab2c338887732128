// Writes a sample /metrics exposition to stdout: two workers, three backends,
// custom labels past their cap, label values that need escaping or are not
// UTF-8, every family populated. promtool_test.sh lints it with promtool.
#include <cstdio>
#include <string>
#include <string_view>

#include "proxy/core/metrics/render.h"

int main() {
  using namespace llmproxy;
  using namespace llmproxy::metrics;
  MetricsLayout layout;
  layout.backends = {"openai-primary", "vllm_local", "azure.eu"};
  layout.latency_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  layout.custom_labels = {"model", "user_id"};
  layout.custom_label_cap = 3;
  WorkerMetrics w0(layout), w1(layout);

  const std::string_view v1[] = {"gpt-4o", "alice"};
  const std::string_view v2[] = {"llama \"3\"\n\\8b", "bob"};
  const std::string_view v3[] = {"bad\xff\xfeutf8", ""};
  const std::string_view v4[] = {"gpt-4o-mini", "carol"};
  const std::string_view v5[] = {"other", "other"};

  RequestSample s;
  s.route = http::Route::chat_completions;
  s.backend = 0;
  s.status = 200;
  s.outcome = "completed";
  s.duration_s = 0.42;
  s.ttft_s = 0.12;
  s.stream = true;
  s.prompt_tokens = 17;
  s.completion_tokens = 230;
  s.attempts = 1;
  s.custom_values = v1;
  w0.on_request_end(s);
  for (int i = 0; i < 5; ++i) w0.on_inter_token(0, 0.004 * (i + 1));

  s.backend = 1;
  s.status = 502;
  s.outcome = "error";
  s.error_label = "upstream_reset";
  s.stream = false;
  s.ttft_s = -1;
  s.attempts = 3;
  s.retries = 1;
  s.fallbacks = 1;
  s.completion_tokens = -1;
  s.custom_values = v2;
  w0.on_request_end(s);
  w0.on_upstream_error(1, "upstream_reset");
  w0.on_upstream_error(2, openai::ErrorId::upstream_timeout);
  w0.on_upstream_error(-1, "not-a-catalogue-label");

  s = {};
  s.route = http::Route::embeddings;
  s.status = 429;
  s.outcome = "rejected";
  s.error_label = "rate_limit_exceeded";
  s.duration_s = 0.0003;
  s.custom_values = v3;
  w1.on_request_end(s);
  w1.on_rate_limited("tokens");
  w1.on_rate_limited("quantum");

  s = {};
  s.route = http::Route::chat_completions;
  s.backend = 2;
  s.outcome = "client_cancel";
  s.duration_s = 75;  // above every bucket
  s.ttft_s = 1.5;
  s.stream = true;
  s.prompt_tokens = 3;
  for (const auto* v : {v4, v1, v5}) {
    s.custom_values = std::span<const std::string_view>(v, 2);
    w1.on_request_end(s);
  }
  w1.on_inter_token(2, 3.0);
  w0.add_in_flight(2);
  w1.add_in_flight(1);
  w1.add_open_streams(1);

  const BackendScrape backends[] = {{true, CircuitGauge::closed}, {false, CircuitGauge::open},
                                    {true, CircuitGauge::half_open}};
  const WorkerMetrics* workers[] = {&w0, &w1};
  std::string out;
  render_metrics(workers, ScrapeState{backends, "0.1.0", "2a67fc0"}, out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
