#include "proxy/core/metrics/worker_metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "proxy/core/metrics/render.h"

namespace llmproxy::metrics {
namespace {

using http::Route;

MetricsLayout small_layout() {
  MetricsLayout l;
  l.backends = {"a", "b"};
  l.latency_buckets = {0.1, 1};
  l.custom_labels = {"model"};
  l.custom_label_cap = 2;
  return l;
}

std::string render(std::initializer_list<const WorkerMetrics*> ws, std::span<const BackendScrape> backends = {}) {
  std::vector<const WorkerMetrics*> v(ws);
  std::string out;
  render_metrics(v, ScrapeState{backends, "v1", "abc"}, out);
  return out;
}

TEST(LabelSet, IndexesInOrderWithOtherLast) {
  const LabelSet s({"x", "a", "x", "other", "m"});
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.name(0), "x");
  EXPECT_EQ(s.name(1), "a");
  EXPECT_EQ(s.name(2), "m");
  EXPECT_EQ(s.name(s.other()), "other");
  EXPECT_EQ(s.index_of("a"), 1u);
  EXPECT_EQ(s.index_of("m"), 2u);
  EXPECT_EQ(s.index_of("x"), 0u);
  EXPECT_EQ(s.index_of("other"), s.other());
  EXPECT_EQ(s.index_of("zzz"), s.other());
  EXPECT_EQ(s.index_of(""), s.other());
}

TEST(LabelSet, ErrorReasonsAreTheCatalogueLabels) {
  const LabelSet& r = error_reasons();
  // Every catalogue label is distinct, then the two upstream-status
  // reasons, plus "other".
  EXPECT_EQ(r.size(), openai::kErrorIdCount + 3);
  EXPECT_EQ(r.name(r.index_of(kUpstream429)), kUpstream429);
  EXPECT_EQ(r.name(r.index_of(kUpstream5xx)), kUpstream5xx);
  for (std::size_t i = 0; i < openai::kErrorIdCount; ++i) {
    const auto id = static_cast<openai::ErrorId>(i);
    EXPECT_EQ(r.name(error_reason_index(id)), openai::error_info(id).metric_label);
  }
  EXPECT_EQ(rate_limit_kinds().index_of("store_error"), 3u);
  EXPECT_EQ(outcomes().index_of("client_cancel"), 3u);
}

TEST(CustomSeries, KeepsCapTuplesInOrderThenOverflows) {
  CustomSeries c(2, 2);
  const std::string_view t1[] = {"m", "u1"}, t2[] = {"m", "u2"}, t3[] = {"m", "u3"};
  EXPECT_EQ(c.slot_for(t1), 0u);
  EXPECT_EQ(c.slot_for(t2), 1u);
  EXPECT_EQ(c.slot_for(t3), c.overflow_slot());
  EXPECT_EQ(c.slot_for(t1), 0u);
  EXPECT_EQ(c.slot_for(t2), 1u);
  EXPECT_EQ(c.published(), 2u);
  EXPECT_EQ(c.values(1)[1], "u2");
  EXPECT_EQ(c.values(c.overflow_slot())[0], "other");
  EXPECT_EQ(c.values(c.overflow_slot())[1], "other");
  c.add(1, 1, 10, 20);
  c.add(1, 1, 0, 5);
  EXPECT_EQ(c.requests(1), 2u);
  EXPECT_EQ(c.input_tokens(1), 10u);
  EXPECT_EQ(c.output_tokens(1), 25u);
}

TEST(CustomSeries, SeparatesValueBoundariesAndFillsMissingValues) {
  CustomSeries c(2, 10);
  const std::string_view ab_c[] = {"ab", "c"}, a_bc[] = {"a", "bc"}, only[] = {"x"}, x_empty[] = {"x", ""};
  const std::string_view extra[] = {"x", "", "ignored"};
  EXPECT_EQ(c.slot_for(ab_c), 0u);
  EXPECT_EQ(c.slot_for(a_bc), 1u);
  EXPECT_EQ(c.slot_for(only), 2u);
  EXPECT_EQ(c.slot_for(x_empty), 2u);
  EXPECT_EQ(c.slot_for(extra), 2u);
  EXPECT_EQ(c.slot_for({}), 3u);
}

TEST(CustomSeries, CutsLongValues) {
  CustomSeries c(1, 4);
  const std::string long1(300, 'x');
  std::string long2 = long1;
  long2[200] = 'y';  // differs only after the cut: the same tuple
  const std::string_view v1[] = {long1}, v2[] = {long2};
  EXPECT_EQ(c.slot_for(v1), 0u);
  EXPECT_EQ(c.slot_for(v2), 0u);
  EXPECT_EQ(c.values(0)[0].size(), CustomSeries::kMaxValueBytes);
}

TEST(CustomSeries, FindsEveryOneOfManyTuples) {
  CustomSeries c(1, 100);
  std::vector<std::string> names;
  for (int i = 0; i < 150; ++i) names.push_back("user-" + std::to_string(i));
  for (int round = 0; round < 2; ++round)
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string_view v[] = {names[i]};
      EXPECT_EQ(c.slot_for(v), i < 100 ? i : c.overflow_slot());
    }
  EXPECT_EQ(c.published(), 100u);
}

TEST(CustomSeries, ZeroCapSendsEverythingToOverflow) {
  CustomSeries c(1, 0);
  const std::string_view v[] = {"m"};
  EXPECT_EQ(c.slot_for(v), c.overflow_slot());
  EXPECT_EQ(c.published(), 0u);
}

TEST(WorkerMetrics, RecordsIntoTheRightCells) {
  WorkerMetrics m(small_layout());
  const std::size_t none = m.backend_slots() - 1;
  RequestSample s;
  s.route = Route::models;
  s.backend = 7;  // out of range: "none"
  s.status = 404;
  s.outcome = "weird";
  s.error_label = "not-in-catalogue";
  s.duration_s = -1;  // counts as 0
  s.ttft_s = 0.5;     // not a stream: no TTFT
  s.prompt_tokens = -1;
  s.completion_tokens = 4;
  m.on_request_end(s);
  const auto models = static_cast<std::size_t>(Route::models);
  EXPECT_EQ(m.requests(models, none, 4), 1u);
  EXPECT_EQ(m.outcomes(outcomes().other()), 1u);
  EXPECT_EQ(m.errors(error_reasons().other()), 1u);
  EXPECT_EQ(m.request_duration().bucket(models, 0), 1u);
  EXPECT_EQ(m.request_duration().sum(models), 0.0);
  EXPECT_EQ(m.time_to_first_token().count(none), 0u);
  EXPECT_EQ(m.tokens(none, TokenType::input), 0u);
  EXPECT_EQ(m.tokens(none, TokenType::output), 4u);

  s.backend = -1;
  s.status = 99;  // not a status class: "none"
  m.on_request_end(s);
  EXPECT_EQ(m.requests(models, none, 0), 1u);
  s.status = 600;
  m.on_request_end(s);
  EXPECT_EQ(m.requests(models, none, 0), 2u);

  m.on_upstream_error(1, openai::ErrorId::upstream_reset);
  m.on_upstream_error(1, "upstream_reset");
  m.on_upstream_error(-1, "");
  EXPECT_EQ(m.upstream_errors(1, error_reason_index(openai::ErrorId::upstream_reset)), 2u);
  EXPECT_EQ(m.upstream_errors(none, error_reasons().other()), 1u);

  m.on_inter_token(0, std::nan(""));  // ignored
  m.on_inter_token(0, 1e9);           // overflow bucket
  EXPECT_EQ(m.time_per_output_token().count(0), 1u);
  EXPECT_EQ(m.time_per_output_token().bucket(0, kTimePerOutputTokenBuckets.size()), 1u);

  m.on_rate_limited("concurrency");
  m.on_rate_limited("");
  EXPECT_EQ(m.rate_limited(2), 1u);
  EXPECT_EQ(m.rate_limited(rate_limit_kinds().other()), 1u);

  m.add_in_flight(3);
  m.add_in_flight(-1);
  m.add_open_streams(-2);
  EXPECT_EQ(m.in_flight(), 2);
  EXPECT_EQ(m.open_streams(), -2);
}

// Two workers, a known workload, the exact exposition: counts, cumulative
// buckets, sums, escaping, the custom-label cap folding into "other" and the
// merge of both workers' shards.
TEST(RenderMetrics, ExactTextForASmallWorkload) {
  WorkerMetrics w0(small_layout()), w1(small_layout());
  const std::string_view m1[] = {"m1"}, m2[] = {"m\"2"}, m3[] = {"m3"};

  RequestSample s;
  s.route = Route::chat_completions;
  s.backend = 0;
  s.status = 200;
  s.outcome = "completed";
  s.duration_s = 0.05;
  s.stream = true;
  s.ttft_s = 0.02;
  s.prompt_tokens = 10;
  s.completion_tokens = 20;
  s.attempts = 1;
  s.custom_values = m1;
  w0.on_request_end(s);

  s.duration_s = 0.5;
  s.stream = false;
  s.ttft_s = -1;
  s.prompt_tokens = 5;
  s.completion_tokens = 7;
  s.attempts = 2;
  s.retries = 1;
  s.custom_values = m2;
  w0.on_request_end(s);

  s = {};
  s.route = Route::chat_completions;
  s.backend = 1;
  s.status = 502;
  s.outcome = "error";
  s.error_label = "upstream_timeout";
  s.duration_s = 3;
  s.attempts = 2;
  s.fallbacks = 1;
  s.custom_values = m3;  // third tuple on w0: over its cap of 2
  w0.on_request_end(s);
  w0.on_inter_token(0, 0.003);
  w0.on_inter_token(0, 0.02);
  w0.on_upstream_error(1, "upstream_timeout");
  w0.on_rate_limited("requests");
  w0.add_in_flight(2);
  w0.add_open_streams(1);

  s = {};
  s.route = Route::embeddings;
  s.status = 429;
  s.outcome = "rejected";
  s.error_label = "rate_limit_exceeded";
  s.duration_s = 0.001;
  s.custom_values = m3;  // w1's first tuple, but the merge is full by now: "other"
  w1.on_request_end(s);

  s = {};
  s.route = Route::chat_completions;
  s.backend = 1;
  s.outcome = "client_cancel";
  s.duration_s = 1;
  s.stream = true;
  s.ttft_s = 0.4;
  s.prompt_tokens = 3;
  s.custom_values = m1;
  w1.on_request_end(s);
  w1.add_in_flight(1);
  w1.add_in_flight(-1);

  const BackendScrape backends[] = {{true, CircuitGauge::closed}, {false, CircuitGauge::open}};
  EXPECT_EQ(render({&w0, &w1}, backends),
        "# HELP llmproxy_build_info Build information; the value is always 1.\n"
        "# TYPE llmproxy_build_info gauge\n"
        "llmproxy_build_info{version=\"v1\",commit=\"abc\"} 1\n"
        "# HELP llmproxy_requests_total Requests that ended, by route, backend and the class of the status sent to the client.\n"
        "# TYPE llmproxy_requests_total counter\n"
        "llmproxy_requests_total{route=\"chat_completions\",backend=\"a\",status_class=\"2xx\"} 2\n"
        "llmproxy_requests_total{route=\"chat_completions\",backend=\"b\",status_class=\"none\"} 1\n"
        "llmproxy_requests_total{route=\"chat_completions\",backend=\"b\",status_class=\"5xx\"} 1\n"
        "llmproxy_requests_total{route=\"embeddings\",backend=\"none\",status_class=\"4xx\"} 1\n"
        "# HELP llmproxy_request_outcomes_total Requests that ended, by outcome (completed, error, rejected, client_cancel).\n"
        "# TYPE llmproxy_request_outcomes_total counter\n"
        "llmproxy_request_outcomes_total{outcome=\"completed\"} 2\n"
        "llmproxy_request_outcomes_total{outcome=\"error\"} 1\n"
        "llmproxy_request_outcomes_total{outcome=\"rejected\"} 1\n"
        "llmproxy_request_outcomes_total{outcome=\"client_cancel\"} 1\n"
        "# HELP llmproxy_errors_total Requests that ended with an error the gateway produced, by error reason.\n"
        "# TYPE llmproxy_errors_total counter\n"
        "llmproxy_errors_total{reason=\"rate_limit_exceeded\"} 1\n"
        "llmproxy_errors_total{reason=\"upstream_timeout\"} 1\n"
        "# HELP llmproxy_request_duration_seconds Time from the start of a request to its end, by route.\n"
        "# TYPE llmproxy_request_duration_seconds histogram\n"
        "llmproxy_request_duration_seconds_bucket{route=\"chat_completions\",le=\"0.1\"} 1\n"
        "llmproxy_request_duration_seconds_bucket{route=\"chat_completions\",le=\"1\"} 3\n"
        "llmproxy_request_duration_seconds_bucket{route=\"chat_completions\",le=\"+Inf\"} 4\n"
        "llmproxy_request_duration_seconds_sum{route=\"chat_completions\"} 4.55\n"
        "llmproxy_request_duration_seconds_count{route=\"chat_completions\"} 4\n"
        "llmproxy_request_duration_seconds_bucket{route=\"embeddings\",le=\"0.1\"} 1\n"
        "llmproxy_request_duration_seconds_bucket{route=\"embeddings\",le=\"1\"} 1\n"
        "llmproxy_request_duration_seconds_bucket{route=\"embeddings\",le=\"+Inf\"} 1\n"
        "llmproxy_request_duration_seconds_sum{route=\"embeddings\"} 0.001\n"
        "llmproxy_request_duration_seconds_count{route=\"embeddings\"} 1\n"
        "# HELP llmproxy_time_to_first_token_seconds Time from the start of a streamed request to its first token, by backend.\n"
        "# TYPE llmproxy_time_to_first_token_seconds histogram\n"
        "llmproxy_time_to_first_token_seconds_bucket{backend=\"a\",le=\"0.1\"} 1\n"
        "llmproxy_time_to_first_token_seconds_bucket{backend=\"a\",le=\"1\"} 1\n"
        "llmproxy_time_to_first_token_seconds_bucket{backend=\"a\",le=\"+Inf\"} 1\n"
        "llmproxy_time_to_first_token_seconds_sum{backend=\"a\"} 0.02\n"
        "llmproxy_time_to_first_token_seconds_count{backend=\"a\"} 1\n"
        "llmproxy_time_to_first_token_seconds_bucket{backend=\"b\",le=\"0.1\"} 0\n"
        "llmproxy_time_to_first_token_seconds_bucket{backend=\"b\",le=\"1\"} 1\n"
        "llmproxy_time_to_first_token_seconds_bucket{backend=\"b\",le=\"+Inf\"} 1\n"
        "llmproxy_time_to_first_token_seconds_sum{backend=\"b\"} 0.4\n"
        "llmproxy_time_to_first_token_seconds_count{backend=\"b\"} 1\n"
        "# HELP llmproxy_time_per_output_token_seconds Gaps between consecutive streamed chunks, by backend.\n"
        "# TYPE llmproxy_time_per_output_token_seconds histogram\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.001\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.0025\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.005\"} 1\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.01\"} 1\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.025\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.05\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.075\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.1\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.15\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.2\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.3\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.4\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.5\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"0.75\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"1\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"2.5\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"a\",le=\"+Inf\"} 2\n"
        "llmproxy_time_per_output_token_seconds_sum{backend=\"a\"} 0.023\n"
        "llmproxy_time_per_output_token_seconds_count{backend=\"a\"} 2\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.001\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.0025\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.005\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.01\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.025\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.05\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.075\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.1\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.15\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.2\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.3\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.4\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.5\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"0.75\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"1\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"2.5\"} 0\n"
        "llmproxy_time_per_output_token_seconds_bucket{backend=\"b\",le=\"+Inf\"} 0\n"
        "llmproxy_time_per_output_token_seconds_sum{backend=\"b\"} 0\n"
        "llmproxy_time_per_output_token_seconds_count{backend=\"b\"} 0\n"
        "# HELP llmproxy_tokens_total Tokens reported by backends' usage, by backend and type (input = prompt, output = completion).\n"
        "# TYPE llmproxy_tokens_total counter\n"
        "llmproxy_tokens_total{backend=\"a\",type=\"input\"} 15\n"
        "llmproxy_tokens_total{backend=\"a\",type=\"output\"} 27\n"
        "llmproxy_tokens_total{backend=\"b\",type=\"input\"} 3\n"
        "llmproxy_tokens_total{backend=\"b\",type=\"output\"} 0\n"
        "# HELP llmproxy_upstream_errors_total Failed upstream attempts, by backend and error reason.\n"
        "# TYPE llmproxy_upstream_errors_total counter\n"
        "llmproxy_upstream_errors_total{backend=\"b\",reason=\"upstream_timeout\"} 1\n"
        "# HELP llmproxy_upstream_attempts_total Upstream attempts (first tries, retries and fallbacks), by route.\n"
        "# TYPE llmproxy_upstream_attempts_total counter\n"
        "llmproxy_upstream_attempts_total{route=\"chat_completions\"} 5\n"
        "llmproxy_upstream_attempts_total{route=\"embeddings\"} 0\n"
        "# HELP llmproxy_retries_total Upstream attempts repeated after a failure, by route.\n"
        "# TYPE llmproxy_retries_total counter\n"
        "llmproxy_retries_total{route=\"chat_completions\"} 1\n"
        "llmproxy_retries_total{route=\"embeddings\"} 0\n"
        "# HELP llmproxy_fallbacks_total Moves to the next backend of a fallback chain, by route.\n"
        "# TYPE llmproxy_fallbacks_total counter\n"
        "llmproxy_fallbacks_total{route=\"chat_completions\"} 1\n"
        "llmproxy_fallbacks_total{route=\"embeddings\"} 0\n"
        "# HELP llmproxy_rate_limited_total Requests rejected by a rate limit, by limit kind.\n"
        "# TYPE llmproxy_rate_limited_total counter\n"
        "llmproxy_rate_limited_total{limit=\"requests\"} 1\n"
        "llmproxy_rate_limited_total{limit=\"tokens\"} 0\n"
        "llmproxy_rate_limited_total{limit=\"concurrency\"} 0\n"
        "llmproxy_rate_limited_total{limit=\"store_error\"} 0\n"
        "# HELP llmproxy_requests_in_flight Requests being served now.\n"
        "# TYPE llmproxy_requests_in_flight gauge\n"
        "llmproxy_requests_in_flight 2\n"
        "# HELP llmproxy_open_streams Streamed responses being relayed now.\n"
        "# TYPE llmproxy_open_streams gauge\n"
        "llmproxy_open_streams 1\n"
        "# HELP llmproxy_backend_healthy Whether the backend passes its health checks (1) or not (0).\n"
        "# TYPE llmproxy_backend_healthy gauge\n"
        "llmproxy_backend_healthy{backend=\"a\"} 1\n"
        "llmproxy_backend_healthy{backend=\"b\"} 0\n"
        "# HELP llmproxy_backend_circuit_state Circuit breaker state of the backend: 0 closed, 1 half-open, 2 open.\n"
        "# TYPE llmproxy_backend_circuit_state gauge\n"
        "llmproxy_backend_circuit_state{backend=\"a\"} 0\n"
        "llmproxy_backend_circuit_state{backend=\"b\"} 2\n"
        "# HELP llmproxy_requests_by_label_total Requests that ended, by the configured custom labels (capped; excess tuples count as \"other\").\n"
        "# TYPE llmproxy_requests_by_label_total counter\n"
        "llmproxy_requests_by_label_total{model=\"m1\"} 2\n"
        "llmproxy_requests_by_label_total{model=\"m\\\"2\"} 1\n"
        "llmproxy_requests_by_label_total{model=\"other\"} 2\n"
        "# HELP llmproxy_tokens_by_label_total Tokens by the configured custom labels and type (input, output).\n"
        "# TYPE llmproxy_tokens_by_label_total counter\n"
        "llmproxy_tokens_by_label_total{model=\"m1\",type=\"input\"} 13\n"
        "llmproxy_tokens_by_label_total{model=\"m1\",type=\"output\"} 20\n"
        "llmproxy_tokens_by_label_total{model=\"m\\\"2\",type=\"input\"} 5\n"
        "llmproxy_tokens_by_label_total{model=\"m\\\"2\",type=\"output\"} 7\n"
        "llmproxy_tokens_by_label_total{model=\"other\",type=\"input\"} 0\n"
        "llmproxy_tokens_by_label_total{model=\"other\",type=\"output\"} 0\n");
}

TEST(RenderMetrics, NoLayoutNoTrafficNoWorkers) {
  EXPECT_EQ(render({}),
            "# HELP llmproxy_build_info Build information; the value is always 1.\n"
            "# TYPE llmproxy_build_info gauge\n"
            "llmproxy_build_info{version=\"v1\",commit=\"abc\"} 1\n"
            "# HELP llmproxy_rate_limited_total Requests rejected by a rate limit, by limit kind.\n"
            "# TYPE llmproxy_rate_limited_total counter\n"
            "llmproxy_rate_limited_total{limit=\"requests\"} 0\n"
            "llmproxy_rate_limited_total{limit=\"tokens\"} 0\n"
            "llmproxy_rate_limited_total{limit=\"concurrency\"} 0\n"
            "llmproxy_rate_limited_total{limit=\"store_error\"} 0\n"
            "# HELP llmproxy_requests_in_flight Requests being served now.\n"
            "# TYPE llmproxy_requests_in_flight gauge\n"
            "llmproxy_requests_in_flight 0\n"
            "# HELP llmproxy_open_streams Streamed responses being relayed now.\n"
            "# TYPE llmproxy_open_streams gauge\n"
            "llmproxy_open_streams 0\n");
}

// The merge keeps the union within the cap, worker by worker in first-seen
// order; a real all-"other" tuple is the overflow series; totals survive.
// w0 keeps b, a; w1 keeps c, (other,other) and overflows a (its own cap is
// 2). Merged: b, a from w0; then c (the union is full), (other,other) and
// w1's overflow all count as "other".
TEST(RenderMetrics, MergedCustomTuplesFoldPastTheCap) {
  MetricsLayout l = small_layout();
  l.custom_labels = {"model", "user"};
  l.custom_label_cap = 2;
  WorkerMetrics w0(l), w1(l);
  const std::string_view a[] = {"m", "a"}, b[] = {"m", "b"}, c[] = {"m", "c"}, other[] = {"other", "other"};
  RequestSample s;
  s.custom_values = c;
  w1.on_request_end(s);
  s.custom_values = other;
  w1.on_request_end(s);
  s.custom_values = a;
  w1.on_request_end(s);
  s.custom_values = b;
  w0.on_request_end(s);
  w0.on_request_end(s);
  s.custom_values = a;
  w0.on_request_end(s);
  const std::string out = render({&w0, &w1});
  const std::size_t at = out.find("# TYPE llmproxy_requests_by_label_total counter\n");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(out.substr(at, out.find("# HELP", at) - at),
            "# TYPE llmproxy_requests_by_label_total counter\n"
            "llmproxy_requests_by_label_total{model=\"m\",user=\"b\"} 2\n"
            "llmproxy_requests_by_label_total{model=\"m\",user=\"a\"} 1\n"
            "llmproxy_requests_by_label_total{model=\"other\",user=\"other\"} 3\n");
}

// A scraper renders while the worker records, adding new custom tuples; at
// the end the scraper sees every request. (Under TSan this checks the
// publication protocol; under ASan it checks nothing is read out of bounds.)
TEST(RenderMetrics, ScrapesWhileAWorkerRecords) {
  MetricsLayout l = small_layout();
  l.custom_label_cap = 64;
  WorkerMetrics w(l);
  std::vector<std::string> models;
  for (int i = 0; i < 100; ++i) models.push_back("a-rather-long-model-name-number-" + std::to_string(i));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int k = 0; k < 2000; ++k) {
      const std::string_view v[] = {models[static_cast<std::size_t>(k) % models.size()]};
      RequestSample s;
      s.route = Route::chat_completions;
      s.backend = k % 2;
      s.status = 200;
      s.duration_s = 0.001 * k;
      s.custom_values = v;
      w.on_request_end(s);
    }
    done.store(true, std::memory_order_release);
  });
  std::string out;
  const WorkerMetrics* ws[] = {&w};
  int scrapes = 0;
  while (!done.load(std::memory_order_acquire) || scrapes == 0) {
    render_metrics(ws, ScrapeState{}, out);
    ++scrapes;
  }
  writer.join();
  render_metrics(ws, ScrapeState{}, out);
  EXPECT_NE(out.find("llmproxy_request_duration_seconds_count{route=\"chat_completions\"} 2000\n"), std::string::npos);
  EXPECT_NE(out.find("llmproxy_requests_by_label_total{model=\"other\"} 720\n"), std::string::npos);  // 36 of 100 models, 20 times
}

}  // namespace
}  // namespace llmproxy::metrics
