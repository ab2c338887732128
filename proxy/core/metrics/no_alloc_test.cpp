// The recording path allocates nothing in steady state: once a worker has
// seen its custom-label tuples, on_request_end, on_inter_token,
// on_rate_limited, on_upstream_error and the gauges do not touch the heap.
// Allocations are counted by proxy/core/testing/allocation_counter.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/core/metrics/worker_metrics.h"
#include "proxy/core/testing/allocation_counter.h"


namespace llmproxy::metrics {
namespace {

TEST(NoAllocation, CounterWorks) {
  const long before = llmproxy::testing::allocations();
  std::string big(1000, 'x');
  EXPECT_GT(llmproxy::testing::allocations() - before, 0);
}

TEST(NoAllocation, RecordingInSteadyState) {
  MetricsLayout layout;
  for (int i = 0; i < 10; ++i) layout.backends.push_back("backend-" + std::to_string(i));
  layout.latency_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  layout.custom_labels = {"model", "user_id"};
  layout.custom_label_cap = 8;
  WorkerMetrics m(layout);

  // Long values: a newly kept tuple allocates its strings (beyond the small-
  // string buffer); a tuple seen before must not.
  std::vector<std::string> models, users;
  for (int i = 0; i < 12; ++i) {  // 12 tuples, cap 8: four go to "other"
    models.push_back("a-model-name-longer-than-sso-" + std::to_string(i % 3));
    users.push_back("user-id-longer-than-the-sso-buffer-" + std::to_string(i));
  }
  const auto run = [&] {
    for (std::size_t i = 0; i < models.size(); ++i) {
      const std::string_view values[] = {models[i], users[i]};
      RequestSample s;
      s.route = http::Route::chat_completions;
      s.backend = static_cast<int>(i % 11) - 1;
      s.status = i % 4 == 0 ? 502 : 200;
      s.outcome = i % 4 == 0 ? "error" : "completed";
      s.error_label = i % 4 == 0 ? "upstream_reset" : "";
      s.duration_s = 0.01 * static_cast<double>(i);
      s.ttft_s = 0.005;
      s.stream = true;
      s.prompt_tokens = 12;
      s.completion_tokens = 300;
      s.attempts = 2;
      s.retries = 1;
      s.custom_values = values;
      m.add_in_flight(1);
      m.add_open_streams(1);
      for (int k = 0; k < 5; ++k) m.on_inter_token(s.backend, 0.02);
      m.on_upstream_error(s.backend, "upstream_reset");
      m.on_upstream_error(s.backend, openai::ErrorId::upstream_timeout);
      m.on_rate_limited("tokens");
      m.on_request_end(s);
      m.add_open_streams(-1);
      m.add_in_flight(-1);
    }
  };
  run();  // warm-up: the tuples are kept
  const long before = llmproxy::testing::allocations();
  run();
  run();
  EXPECT_EQ(llmproxy::testing::allocations() - before, 0);
  EXPECT_EQ(m.custom()->published(), 8u);
}

}  // namespace
}  // namespace llmproxy::metrics
