// Properties of the merged exposition: for random layouts and random events
// spread over 1–4 workers, the rendered text always passes a strict parser
// of the format (exposition_parser.h), every merged counter equals the sum
// of what was recorded (computed here independently of WorkerMetrics),
// histogram buckets are cumulative and _count equals the observations, and
// custom-label series keep the totals and the cap.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "proxy/core/metrics/exposition_parser.h"
#include "proxy/core/metrics/render.h"

namespace llmproxy::metrics {
namespace {

using testing::Exposition;
using testing::LabelMap;

// Backend names that need escaping, in the order a layout takes them.
const std::vector<std::string> kBackendNames = {"primary", "we\"ird", "multi\nline", "back\\slash"};
const std::vector<double> kBoundPool = {0.001, 0.01, 0.1, 0.5, 1, 2.5, 10, 60};
const std::vector<std::string> kLabelPool = {"model", "user"};
// Custom values and how they read back from the exposition.
const std::vector<std::pair<std::string, std::string>> kValues = {
    {"", ""}, {"gpt", "gpt"}, {"a\"b\\c", "a\"b\\c"}, {"x\ny", "x\ny"}, {"\xff", "\xEF\xBF\xBD"}, {"other", "other"}};
const std::vector<std::string> kOutcomes = {"completed", "error", "rejected", "client_cancel", "bogus"};
const std::vector<std::string> kReasons = {"", "upstream_reset", "rate_limit_exceeded", "no_such_reason"};
const std::vector<std::string> kLimits = {"requests", "tokens", "concurrency", "store_error", "bogus"};

std::string known(const std::vector<std::string>& known_set, const std::string& v, bool empty_is_other = true) {
  if (v.empty() && empty_is_other) return "other";
  for (const std::string& k : known_set)
    if (k == v && k != "bogus") return v;
  return "other";
}

// The reason label a recorded error label reads back as.
std::string reason_label(const std::string& v) {
  return v == "upstream_reset" || v == "rate_limit_exceeded" ? v : "other";
}

double gen_seconds(const std::vector<double>& bounds) {
  // Often exactly a bound (an observation equal to `le` counts in it).
  if (!bounds.empty() && *rc::gen::inRange(0, 3) == 0)
    return bounds[*rc::gen::inRange<std::size_t>(0, bounds.size())];
  return *rc::gen::inRange(0, 120000) / 1000.0;
}

struct Expected {
  std::map<std::tuple<std::string, std::string, std::string>, double> requests;
  std::map<std::string, double> outcomes, errors, rate_limited, attempts, retries, fallbacks;
  std::map<std::string, std::vector<double>> duration, ttft, tpot;  // observations by route / backend
  std::map<std::pair<std::string, std::string>, double> tokens, upstream_errors;
  std::map<std::vector<std::string>, double> tuple_requests;  // by read-back values
  double requests_total = 0, input_total = 0, output_total = 0, in_flight = 0, streams = 0;
};

// The bucket whose `le` reads back as exactly `bound`, or -1.
double bucket(const Exposition& ex, const std::string& name, const std::string& label, const std::string& value,
              double bound) {
  const testing::Family* f = ex.family(name);
  if (f == nullptr) return -1;
  for (const testing::Sample& s : f->samples)
    if (s.name == name + "_bucket" && s.labels.size() == 2 && s.labels.at(label) == value &&
        std::strtod(s.labels.at("le").c_str(), nullptr) == bound)
      return s.value;
  return -1;
}

void check_histogram(const Exposition& ex, const std::string& name, const std::string& label,
                     const std::string& value, const std::vector<double>& obs, std::span<const double> bounds) {
  const LabelMap base{{label, value}};
  RC_ASSERT(ex.value(name + "_count", base) == static_cast<double>(obs.size()));
  double sum = 0;
  for (double v : obs) sum += v;
  RC_ASSERT(std::fabs(ex.value(name + "_sum", base) - sum) <= 1e-9 * std::max(1.0, sum));
  for (double b : bounds) {
    double n = 0;
    for (double v : obs) n += v <= b ? 1 : 0;
    RC_ASSERT(bucket(ex, name, label, value, b) == n);
  }
}

// The checker must itself reject what promtool would.
TEST(ExpositionParser, RejectsBrokenText) {
  const std::string head = "# HELP h_seconds H.\n# TYPE h_seconds histogram\n";
  const std::string ok = head +
                         "h_seconds_bucket{le=\"0.5\"} 1\nh_seconds_bucket{le=\"+Inf\"} 2\n"
                         "h_seconds_sum 3\nh_seconds_count 2\n";
  EXPECT_EQ(testing::parse_exposition(ok).error, "");
  const char* broken[] = {
      "# HELP h_seconds H.\n# TYPE h_seconds histogram\nh_seconds_bucket{le=\"0.5\"} 3\n"
      "h_seconds_bucket{le=\"+Inf\"} 2\nh_seconds_sum 3\nh_seconds_count 2\n",  // not cumulative
      "# HELP h_seconds H.\n# TYPE h_seconds histogram\nh_seconds_bucket{le=\"+Inf\"} 2\n"
      "h_seconds_sum 3\nh_seconds_count 1\n",  // _count != +Inf
      "# HELP h_seconds H.\n# TYPE h_seconds histogram\nh_seconds_bucket{le=\"1\"} 2\n"
      "h_seconds_sum 3\nh_seconds_count 2\n",  // no +Inf
      "# HELP c_total C.\n# TYPE c_total counter\nc_total{a=\"x\\ty\"} 1\n",  // bad escape
      "# HELP c_total C.\n# TYPE c_total counter\nc_total{a=\"\xff\"} 1\n",   // not UTF-8
      "# HELP c_total C.\n# TYPE c_total counter\nc_total{a=\"\"\"} 1\n",     // unescaped quote
      "# HELP c_total C.\n# TYPE c_total counter\nc_total 1\nc_total 2\n",     // repeated series
      "# HELP c_total C.\n# TYPE c_total counter\nc_total -1\n",                // negative counter
      "# HELP c_total C.\n# TYPE c_total counter\nc_total 1e\n",                // bad number
      "c_total 1\n",                                                           // no HELP/TYPE
      "# HELP c_total C.\n# TYPE c_total counter\nd_total 1\n",                 // outside its family
      "# HELP c_total C.\n# TYPE c_total counter\nc_total 1",                   // no final newline
  };
  for (const char* text : broken) EXPECT_NE(testing::parse_exposition(text).error, "") << text;
}

RC_GTEST_PROP(MetricsProperty, MergedExpositionEqualsTheSamples, ()) {
  // ---- a random layout
  MetricsLayout layout;
  const std::size_t nb = *rc::gen::inRange<std::size_t>(1, kBackendNames.size() + 1);
  layout.backends.assign(kBackendNames.begin(), kBackendNames.begin() + static_cast<long>(nb));
  for (double b : kBoundPool)
    if (*rc::gen::arbitrary<bool>()) layout.latency_buckets.push_back(b);
  const std::size_t nl = *rc::gen::inRange<std::size_t>(0, kLabelPool.size() + 1);
  layout.custom_labels.assign(kLabelPool.begin(), kLabelPool.begin() + static_cast<long>(nl));
  layout.custom_label_cap = *rc::gen::inRange<std::size_t>(0, 6);

  const std::size_t nw = *rc::gen::inRange<std::size_t>(1, 5);
  std::vector<std::unique_ptr<WorkerMetrics>> workers;
  for (std::size_t i = 0; i < nw; ++i) workers.push_back(std::make_unique<WorkerMetrics>(layout));
  const auto backend_label = [&](int b) {
    return b >= 0 && static_cast<std::size_t>(b) < nb ? layout.backends[static_cast<std::size_t>(b)] : "none";
  };

  // ---- random events, recorded and modelled
  Expected e;
  std::vector<std::set<std::vector<std::string>>> worker_tuples(nw);  // raw tuples seen per worker
  std::set<std::vector<std::string>> all_tuples;
  const int events = *rc::gen::inRange(0, 120);
  for (int k = 0; k < events; ++k) {
    const std::size_t wi = *rc::gen::inRange<std::size_t>(0, nw);
    WorkerMetrics& w = *workers[wi];
    const int backend = *rc::gen::inRange(-1, static_cast<int>(nb) + 1);
    switch (*rc::gen::inRange(0, 6)) {
      case 0:
      case 1: {  // a request ends
        RequestSample s;
        s.route = static_cast<http::Route>(*rc::gen::inRange<std::size_t>(0, kRoutes));
        s.backend = backend;
        s.status = *rc::gen::element(0, 200, 201, 301, 404, 429, 502, 503, 101);
        const std::string outcome = *rc::gen::elementOf(kOutcomes);
        const std::string reason = *rc::gen::elementOf(kReasons);
        s.outcome = outcome;
        s.error_label = reason;
        s.duration_s = gen_seconds(layout.latency_buckets);
        s.stream = *rc::gen::arbitrary<bool>();
        s.ttft_s = *rc::gen::arbitrary<bool>() ? -1 : gen_seconds(layout.latency_buckets);
        s.prompt_tokens = *rc::gen::inRange<std::int64_t>(-1, 1000);
        s.completion_tokens = *rc::gen::inRange<std::int64_t>(-1, 1000);
        s.attempts = *rc::gen::inRange<std::uint32_t>(0, 4);
        s.retries = *rc::gen::inRange<std::uint32_t>(0, 3);
        s.fallbacks = *rc::gen::inRange<std::uint32_t>(0, 3);
        std::vector<std::string> raw, read_back;
        for (std::size_t i = 0; i < nl; ++i) {
          const auto& v = *rc::gen::elementOf(kValues);
          raw.push_back(v.first);
          read_back.push_back(v.second);
        }
        std::vector<std::string_view> views(raw.begin(), raw.end());
        s.custom_values = views;
        w.on_request_end(s);

        const std::string route = http::route_name(s.route);
        const int cls = s.status >= 100 && s.status <= 599 ? s.status / 100 : 0;
        const std::string status_class = cls == 0 ? "none" : std::to_string(cls) + "xx";
        e.requests[{route, backend_label(backend), status_class}] += 1;
        e.outcomes[known(kOutcomes, outcome)] += 1;
        if (!reason.empty()) e.errors[reason_label(reason)] += 1;
        e.duration[route].push_back(s.duration_s);
        if (s.stream && s.ttft_s >= 0) e.ttft[backend_label(backend)].push_back(s.ttft_s);
        const double in = s.prompt_tokens > 0 ? static_cast<double>(s.prompt_tokens) : 0;
        const double out = s.completion_tokens > 0 ? static_cast<double>(s.completion_tokens) : 0;
        e.tokens[{backend_label(backend), "input"}] += in;
        e.tokens[{backend_label(backend), "output"}] += out;
        e.attempts[route] += s.attempts;
        e.retries[route] += s.retries;
        e.fallbacks[route] += s.fallbacks;
        e.requests_total += 1;
        e.input_total += in;
        e.output_total += out;
        if (nl > 0) {
          e.tuple_requests[read_back] += 1;
          worker_tuples[wi].insert(raw);
          all_tuples.insert(raw);
        }
        break;
      }
      case 2: {
        const double s = gen_seconds(std::vector<double>(kTimePerOutputTokenBuckets.begin(),
                                                         kTimePerOutputTokenBuckets.end()));
        w.on_inter_token(backend, s);
        e.tpot[backend_label(backend)].push_back(s);
        break;
      }
      case 3: {
        const std::string kind = *rc::gen::elementOf(kLimits);
        w.on_rate_limited(kind);
        e.rate_limited[known(kLimits, kind)] += 1;
        break;
      }
      case 4: {
        const std::string reason = *rc::gen::elementOf(kReasons);
        w.on_upstream_error(backend, reason);
        e.upstream_errors[{backend_label(backend), reason_label(reason)}] += 1;
        break;
      }
      default: {
        const int d = *rc::gen::inRange(-2, 3);
        w.add_in_flight(d);
        w.add_open_streams(-d);
        e.in_flight += d;
        e.streams -= d;
      }
    }
  }

  // ---- render and read back
  std::vector<BackendScrape> state(nb);
  for (BackendScrape& b : state) {
    b.healthy = *rc::gen::arbitrary<bool>();
    b.circuit = static_cast<CircuitGauge>(*rc::gen::inRange(0, 3));
  }
  std::vector<const WorkerMetrics*> ws;
  for (const auto& w : workers) ws.push_back(w.get());
  std::string text = "stale contents are replaced";
  render_metrics(ws, ScrapeState{state, "1.2.3", "deadbeef"}, text);
  const Exposition ex = testing::parse_exposition(text);
  RC_ASSERT_FALSE(!ex.error.empty() && (RC_LOG() << ex.error << "\n" << text, true));

  RC_ASSERT(ex.value("llmproxy_build_info", {{"version", "1.2.3"}, {"commit", "deadbeef"}}) == 1.0);
  for (const auto& [key, n] : e.requests) {
    const auto& [route, backend, cls] = key;
    RC_ASSERT(ex.value("llmproxy_requests_total", {{"route", route}, {"backend", backend}, {"status_class", cls}}) == n);
  }
  RC_ASSERT(ex.sum("llmproxy_requests_total") == e.requests_total);
  for (const auto& [k, n] : e.outcomes) RC_ASSERT(ex.value("llmproxy_request_outcomes_total", {{"outcome", k}}) == n);
  RC_ASSERT(ex.sum("llmproxy_request_outcomes_total") == e.requests_total);
  double errors = 0;
  for (const auto& [k, n] : e.errors) {
    RC_ASSERT(ex.value("llmproxy_errors_total", {{"reason", k}}) == n);
    errors += n;
  }
  RC_ASSERT(ex.sum("llmproxy_errors_total") == errors);

  const std::vector<double> tpot_bounds(kTimePerOutputTokenBuckets.begin(), kTimePerOutputTokenBuckets.end());
  double observed = 0;
  for (const auto& [route, obs] : e.duration) {
    check_histogram(ex, "llmproxy_request_duration_seconds", "route", route, obs, layout.latency_buckets);
    observed += static_cast<double>(obs.size());
  }
  RC_ASSERT(ex.sum("llmproxy_request_duration_seconds_count") == observed);
  for (std::size_t b = 0; b < nb; ++b) {  // configured backends always appear
    const std::string name = layout.backends[b];
    check_histogram(ex, "llmproxy_time_to_first_token_seconds", "backend", name, e.ttft[name], layout.latency_buckets);
    check_histogram(ex, "llmproxy_time_per_output_token_seconds", "backend", name, e.tpot[name], tpot_bounds);
  }
  for (const auto& [backend, obs] : e.ttft)
    check_histogram(ex, "llmproxy_time_to_first_token_seconds", "backend", backend, obs, layout.latency_buckets);
  for (const auto& [backend, obs] : e.tpot)
    check_histogram(ex, "llmproxy_time_per_output_token_seconds", "backend", backend, obs, tpot_bounds);

  for (const auto& [k, n] : e.tokens)
    RC_ASSERT(std::max(ex.value("llmproxy_tokens_total", {{"backend", k.first}, {"type", k.second}}), 0.0) == n);
  RC_ASSERT(ex.sum("llmproxy_tokens_total", {{"type", "input"}}) == e.input_total);
  RC_ASSERT(ex.sum("llmproxy_tokens_total", {{"type", "output"}}) == e.output_total);
  double upstream = 0;
  for (const auto& [k, n] : e.upstream_errors) {
    RC_ASSERT(ex.value("llmproxy_upstream_errors_total", {{"backend", k.first}, {"reason", k.second}}) == n);
    upstream += n;
  }
  RC_ASSERT(ex.sum("llmproxy_upstream_errors_total") == upstream);
  for (const auto& [route, n] : e.attempts) RC_ASSERT(ex.value("llmproxy_upstream_attempts_total", {{"route", route}}) == n);
  for (const auto& [route, n] : e.retries) RC_ASSERT(ex.value("llmproxy_retries_total", {{"route", route}}) == n);
  for (const auto& [route, n] : e.fallbacks) RC_ASSERT(ex.value("llmproxy_fallbacks_total", {{"route", route}}) == n);
  double limited = 0;
  for (const auto& [k, n] : e.rate_limited) {
    RC_ASSERT(ex.value("llmproxy_rate_limited_total", {{"limit", k}}) == n);
    limited += n;
  }
  RC_ASSERT(ex.sum("llmproxy_rate_limited_total") == limited);
  RC_ASSERT(ex.value("llmproxy_requests_in_flight", {}) == e.in_flight);
  RC_ASSERT(ex.value("llmproxy_open_streams", {}) == e.streams);
  for (std::size_t b = 0; b < nb; ++b) {
    const LabelMap l{{"backend", layout.backends[b]}};
    RC_ASSERT(ex.value("llmproxy_backend_healthy", l) == (state[b].healthy ? 1.0 : 0.0));
    RC_ASSERT(ex.value("llmproxy_backend_circuit_state", l) == static_cast<double>(state[b].circuit));
  }

  // ---- custom labels: totals kept, at most cap tuples besides "other"
  if (nl == 0) {
    RC_ASSERT(ex.family("llmproxy_requests_by_label_total") == nullptr);
    return;
  }
  RC_ASSERT(ex.sum("llmproxy_requests_by_label_total") == e.requests_total);
  RC_ASSERT(ex.sum("llmproxy_tokens_by_label_total", {{"type", "input"}}) == e.input_total);
  RC_ASSERT(ex.sum("llmproxy_tokens_by_label_total", {{"type", "output"}}) == e.output_total);
  std::size_t kept = 0;
  bool fits = all_tuples.size() <= layout.custom_label_cap;
  for (const auto& t : worker_tuples) fits = fits && t.size() <= layout.custom_label_cap;
  for (const auto& t : all_tuples) fits = fits && t != std::vector<std::string>(nl, "other");
  const testing::Family* f = ex.family("llmproxy_requests_by_label_total");
  if (f == nullptr) {  // no request ended: no tuple to write
    RC_ASSERT(e.requests_total == 0.0);
    return;
  }
  for (const testing::Sample& s : f->samples) {
    std::vector<std::string> values;
    for (const std::string& name : layout.custom_labels) values.push_back(s.labels.at(name));
    if (values == std::vector<std::string>(nl, "other")) {
      RC_ASSERT(!fits);  // "other" appears only when something did not fit
      continue;
    }
    ++kept;
    // A kept tuple never counts more than was recorded for it; when every
    // tuple fits, exactly that.
    RC_ASSERT(s.value <= e.tuple_requests[values]);
    if (fits) RC_ASSERT(s.value == e.tuple_requests[values]);
  }
  RC_ASSERT(kept <= layout.custom_label_cap);
}

}  // namespace
}  // namespace llmproxy::metrics
