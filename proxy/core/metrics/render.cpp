#include "proxy/core/metrics/render.h"

#include <algorithm>
#include <cassert>
#include <unordered_map>
#include <vector>

#include "proxy/core/metrics/prometheus_text.h"

namespace llmproxy::metrics {
namespace {

using Workers = std::span<const WorkerMetrics* const>;

constexpr std::string_view kNone = "none";

class Renderer {
 public:
  Renderer(Workers workers, const ScrapeState& state, std::string& out)
      : ws_(workers), state_(state), w_(out), layout_(workers.empty() ? empty_layout() : workers[0]->layout()) {
    for ([[maybe_unused]] const WorkerMetrics* m : ws_) assert(m->layout() == layout_);
  }

  void run() {
    build_info();
    requests();
    outcomes_and_errors();
    route_histogram();
    backend_histogram("llmproxy_time_to_first_token_seconds",
                      "Time from the start of a streamed request to its first token, by backend.",
                      &WorkerMetrics::time_to_first_token);
    backend_histogram("llmproxy_time_per_output_token_seconds",
                      "Gaps between consecutive streamed chunks, by backend.", &WorkerMetrics::time_per_output_token);
    tokens();
    upstream_errors();
    route_counters();
    rate_limited();
    gauges();
    backend_state();
    custom_labels();
  }

 private:
  static const MetricsLayout& empty_layout() {
    static const MetricsLayout layout;
    return layout;
  }

  std::size_t backends() const { return layout_.backends.size(); }
  std::string_view backend_name(std::size_t slot) const {
    return slot < backends() ? std::string_view(layout_.backends[slot]) : kNone;
  }

  template <class F>
  std::uint64_t sum(F f) const {
    std::uint64_t n = 0;
    for (const WorkerMetrics* m : ws_) n += f(*m);
    return n;
  }

  // Sums one series of a histogram family over the workers into counts_.
  double merge(const Histograms& (WorkerMetrics::*h)() const, std::size_t series, std::span<const double>& bounds) {
    bounds = ws_.empty() ? std::span<const double>() : (ws_[0]->*h)().bounds();
    counts_.assign(bounds.size() + 1, 0);
    double total = 0;
    for (const WorkerMetrics* m : ws_) {
      const Histograms& hist = (m->*h)();
      for (std::size_t b = 0; b < counts_.size(); ++b) counts_[b] += hist.bucket(series, b);
      total += hist.sum(series);
    }
    return total;
  }

  std::uint64_t route_requests(std::size_t route) const {
    return sum([&](const WorkerMetrics& m) { return m.request_duration().count(route); });
  }

  void build_info() {
    w_.begin_family("llmproxy_build_info", MetricType::gauge, "Build information; the value is always 1.");
    const Label l[] = {{"version", state_.version}, {"commit", state_.commit}};
    w_.sample(l, std::uint64_t{1});
  }

  void requests() {
    w_.begin_family("llmproxy_requests_total", MetricType::counter,
                    "Requests that ended, by route, backend and the class of the status sent to the client.");
    for (std::size_t r = 0; r < kRoutes; ++r)
      for (std::size_t b = 0; b <= backends(); ++b)
        for (std::size_t c = 0; c < kStatusClasses; ++c) {
          const std::uint64_t n = sum([&](const WorkerMetrics& m) { return m.requests(r, b, c); });
          if (n == 0) continue;
          const Label l[] = {{"route", http::route_name(static_cast<http::Route>(r))},
                             {"backend", backend_name(b)},
                             {"status_class", status_class_name(c)}};
          w_.sample(l, n);
        }
  }

  void outcomes_and_errors() {
    w_.begin_family("llmproxy_request_outcomes_total", MetricType::counter,
                    "Requests that ended, by outcome (completed, error, rejected, client_cancel).");
    for (std::size_t i = 0; i < outcomes().size(); ++i) {
      const std::uint64_t n = sum([&](const WorkerMetrics& m) { return m.outcomes(i); });
      const Label l[] = {{"outcome", outcomes().name(i)}};
      if (n) w_.sample(l, n);
    }
    w_.begin_family("llmproxy_errors_total", MetricType::counter,
                    "Requests that ended with an error the gateway produced, by error reason.");
    for (std::size_t i = 0; i < error_reasons().size(); ++i) {
      const std::uint64_t n = sum([&](const WorkerMetrics& m) { return m.errors(i); });
      const Label l[] = {{"reason", error_reasons().name(i)}};
      if (n) w_.sample(l, n);
    }
  }

  void route_histogram() {
    w_.begin_family("llmproxy_request_duration_seconds", MetricType::histogram,
                    "Time from the start of a request to its end, by route.");
    for (std::size_t r = 0; r < kRoutes; ++r) {
      std::span<const double> bounds;
      const double total = merge(&WorkerMetrics::request_duration, r, bounds);
      std::uint64_t n = 0;
      for (std::uint64_t c : counts_) n += c;
      if (n == 0) continue;
      const Label l[] = {{"route", http::route_name(static_cast<http::Route>(r))}};
      w_.histogram(l, bounds, counts_, total);
    }
  }

  void backend_histogram(std::string_view name, std::string_view help,
                         const Histograms& (WorkerMetrics::*h)() const) {
    w_.begin_family(name, MetricType::histogram, help);
    for (std::size_t b = 0; b <= backends(); ++b) {
      std::span<const double> bounds;
      const double total = merge(h, b, bounds);
      std::uint64_t n = 0;
      for (std::uint64_t c : counts_) n += c;
      if (b == backends() && n == 0) continue;  // "none" only once used
      const Label l[] = {{"backend", backend_name(b)}};
      w_.histogram(l, bounds, counts_, total);
    }
  }

  void tokens() {
    w_.begin_family("llmproxy_tokens_total", MetricType::counter,
                    "Tokens reported by backends' usage, by backend and type (input = prompt, output = completion).");
    for (std::size_t b = 0; b <= backends(); ++b) {
      const std::uint64_t in = sum([&](const WorkerMetrics& m) { return m.tokens(b, TokenType::input); });
      const std::uint64_t out = sum([&](const WorkerMetrics& m) { return m.tokens(b, TokenType::output); });
      if (b == backends() && in == 0 && out == 0) continue;
      const Label li[] = {{"backend", backend_name(b)}, {"type", "input"}};
      const Label lo[] = {{"backend", backend_name(b)}, {"type", "output"}};
      w_.sample(li, in);
      w_.sample(lo, out);
    }
  }

  void upstream_errors() {
    w_.begin_family("llmproxy_upstream_errors_total", MetricType::counter,
                    "Failed upstream attempts, by backend and error reason.");
    for (std::size_t b = 0; b <= backends(); ++b)
      for (std::size_t i = 0; i < error_reasons().size(); ++i) {
        const std::uint64_t n = sum([&](const WorkerMetrics& m) { return m.upstream_errors(b, i); });
        const Label l[] = {{"backend", backend_name(b)}, {"reason", error_reasons().name(i)}};
        if (n) w_.sample(l, n);
      }
  }

  void route_counter(std::string_view name, std::string_view help,
                     std::uint64_t (WorkerMetrics::*get)(std::size_t) const) {
    w_.begin_family(name, MetricType::counter, help);
    for (std::size_t r = 0; r < kRoutes; ++r) {
      const std::uint64_t n = sum([&](const WorkerMetrics& m) { return (m.*get)(r); });
      if (n == 0 && route_requests(r) == 0) continue;
      const Label l[] = {{"route", http::route_name(static_cast<http::Route>(r))}};
      w_.sample(l, n);
    }
  }

  void route_counters() {
    route_counter("llmproxy_upstream_attempts_total", "Upstream attempts (first tries, retries and fallbacks), by route.",
                  &WorkerMetrics::attempts);
    route_counter("llmproxy_retries_total", "Upstream attempts repeated after a failure, by route.",
                  &WorkerMetrics::retries);
    route_counter("llmproxy_fallbacks_total", "Moves to the next backend of a fallback chain, by route.",
                  &WorkerMetrics::fallbacks);
  }

  void rate_limited() {
    w_.begin_family("llmproxy_rate_limited_total", MetricType::counter,
                    "Requests rejected by a rate limit, by limit kind.");
    for (std::size_t i = 0; i < rate_limit_kinds().size(); ++i) {
      const std::uint64_t n = sum([&](const WorkerMetrics& m) { return m.rate_limited(i); });
      if (i == rate_limit_kinds().other() && n == 0) continue;
      const Label l[] = {{"limit", rate_limit_kinds().name(i)}};
      w_.sample(l, n);
    }
  }

  void gauges() {
    std::int64_t in_flight = 0, streams = 0;
    for (const WorkerMetrics* m : ws_) {
      in_flight += m->in_flight();
      streams += m->open_streams();
    }
    w_.begin_family("llmproxy_requests_in_flight", MetricType::gauge, "Requests being served now.");
    w_.sample({}, in_flight);
    w_.begin_family("llmproxy_open_streams", MetricType::gauge, "Streamed responses being relayed now.");
    w_.sample({}, streams);
  }

  void backend_state() {
    const std::size_t n = std::min(backends(), state_.backends.size());
    w_.begin_family("llmproxy_backend_healthy", MetricType::gauge,
                    "Whether the backend passes its health checks (1) or not (0).");
    for (std::size_t b = 0; b < n; ++b) {
      const Label l[] = {{"backend", backend_name(b)}};
      w_.sample(l, std::uint64_t{state_.backends[b].healthy ? 1u : 0u});
    }
    w_.begin_family("llmproxy_backend_circuit_state", MetricType::gauge,
                    "Circuit breaker state of the backend: 0 closed, 1 half-open, 2 open.");
    for (std::size_t b = 0; b < n; ++b) {
      const Label l[] = {{"backend", backend_name(b)}};
      w_.sample(l, static_cast<std::uint64_t>(state_.backends[b].circuit));
    }
  }

  // ---- custom labels
  struct Row {
    std::span<const std::string> values;  // as one worker holds them (published: immutable)
    std::uint64_t requests = 0, input = 0, output = 0;
  };

  // The tuple as written (escaped), each value closed by a '"', which cannot
  // occur unescaped in a written value: equal keys ⇔ equal series.
  static void tuple_key(std::span<const std::string> values, std::string& key) {
    key.clear();
    for (const std::string& v : values) {
      append_label_value(key, v);
      key += '"';
    }
  }

  std::size_t other_row(const CustomSeries& c) {
    if (other_ == kNoRow) {
      other_ = rows_.size();
      rows_.push_back({c.values(c.overflow_slot())});
    }
    return other_;
  }

  // Adds one worker's slot to its merged row (see the header for the rule).
  void fold(const CustomSeries& c, std::size_t slot) {
    const std::span<const std::string> values = c.values(slot);
    tuple_key(values, key_);
    std::size_t row;
    if (slot == c.overflow_slot() || key_ == other_key_) {
      row = other_row(c);
    } else if (const auto it = index_.find(key_); it != index_.end()) {
      row = it->second;
    } else if (distinct_ < layout_.custom_label_cap) {
      row = rows_.size();
      index_.emplace(key_, row);
      rows_.push_back({values});
      ++distinct_;
    } else {
      row = other_row(c);
    }
    rows_[row].requests += c.requests(slot);
    rows_[row].input += c.input_tokens(slot);
    rows_[row].output += c.output_tokens(slot);
  }

  void custom_labels() {
    if (layout_.custom_labels.empty() || ws_.empty()) return;
    const CustomSeries& c0 = *ws_[0]->custom();
    tuple_key(c0.values(c0.overflow_slot()), other_key_);
    for (const WorkerMetrics* m : ws_) {
      const CustomSeries& c = *m->custom();
      const std::size_t n = c.published();  // acquire: the tuples below n are complete
      for (std::size_t s = 0; s < n; ++s) fold(c, s);
      const std::size_t o = c.overflow_slot();
      if (c.requests(o) || c.input_tokens(o) || c.output_tokens(o)) fold(c, o);
    }

    std::vector<Label> labels(layout_.custom_labels.size() + 1);
    for (std::size_t i = 0; i < layout_.custom_labels.size(); ++i) labels[i].name = layout_.custom_labels[i];
    const auto set_values = [&](const Row& row) {
      for (std::size_t i = 0; i < layout_.custom_labels.size(); ++i) labels[i].value = row.values[i];
    };
    const std::span<const Label> tuple(labels.data(), layout_.custom_labels.size());
    w_.begin_family("llmproxy_requests_by_label_total", MetricType::counter,
                    "Requests that ended, by the configured custom labels (capped; excess tuples count as \"other\").");
    for (const Row& row : rows_) {
      set_values(row);
      w_.sample(tuple, row.requests);
    }
    w_.begin_family("llmproxy_tokens_by_label_total", MetricType::counter,
                    "Tokens by the configured custom labels and type (input, output).");
    labels.back().name = "type";
    for (const Row& row : rows_) {
      set_values(row);
      labels.back().value = "input";
      w_.sample(labels, row.input);
      labels.back().value = "output";
      w_.sample(labels, row.output);
    }
  }

  static constexpr std::size_t kNoRow = static_cast<std::size_t>(-1);

  Workers ws_;
  const ScrapeState& state_;
  TextWriter w_;
  const MetricsLayout& layout_;
  std::vector<std::uint64_t> counts_;
  std::vector<Row> rows_;
  std::unordered_map<std::string, std::size_t> index_;
  std::string key_, other_key_;
  std::size_t distinct_ = 0;
  std::size_t other_ = kNoRow;
};

}  // namespace

void render_metrics(std::span<const WorkerMetrics* const> workers, const ScrapeState& state, std::string& out) {
  out.clear();
  Renderer(workers, state, out).run();
}

}  // namespace llmproxy::metrics
