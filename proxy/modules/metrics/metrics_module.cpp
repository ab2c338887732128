#include "proxy/modules/metrics/metrics_module.h"

#include <algorithm>
#include <array>

#include "proxy/core/metrics/render.h"
#include "proxy/core/openai/error_catalogue.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/core/routing/retry_policy.h"

#ifndef LLMPROXY_VERSION
#define LLMPROXY_VERSION "unknown"
#endif
#ifndef LLMPROXY_COMMIT
#define LLMPROXY_COMMIT "unknown"
#endif

namespace llmproxy::modules::metrics {
namespace {

namespace core = llmproxy::metrics;
using routing::AttemptFailure;

core::CircuitGauge gauge_of(routing::CircuitState s) {
  switch (s) {
    case routing::CircuitState::closed: return core::CircuitGauge::closed;
    case routing::CircuitState::half_open: return core::CircuitGauge::half_open;
    case routing::CircuitState::open: return core::CircuitGauge::open;
  }
  return core::CircuitGauge::closed;
}

// The reason an attempt failed, as upstream_errors_total labels it.
std::string_view failure_reason(AttemptFailure f) {
  switch (f) {
    case AttemptFailure::connect_failure:
      return openai::error_info(openai::ErrorId::upstream_connect_failed).metric_label;
    case AttemptFailure::timeout:
      return openai::error_info(openai::ErrorId::upstream_timeout).metric_label;
    case AttemptFailure::reset:
      return openai::error_info(openai::ErrorId::upstream_reset).metric_label;
    case AttemptFailure::server_error: return core::kUpstream5xx;
    case AttemptFailure::too_many_requests: return core::kUpstream429;
    case AttemptFailure::none:
    case AttemptFailure::client_error: break;
  }
  return {};
}

// Which kind of limit a rate-limit rejection hit (rate_limited_total{limit}).
std::string_view limit_kind(std::string_view rule) {
  if (rule == ratelimit::kStoreUnavailable) return "store_error";
  if (rule.find("token") != std::string_view::npos) return "tokens";
  if (rule.find("concurren") != std::string_view::npos) return "concurrency";
  return "requests";
}

class MetricsFilter final : public shell::Filter {
 public:
  explicit MetricsFilter(WorkerMetrics& m) : m_(m) {}
  // First of all: it counts every proxied request that reaches the filters.
  shell::FilterPhase phase() const override { return shell::FilterPhase::observe; }
  env::Task<shell::FilterVerdict> on_request(shell::Exchange& ex) override {
    m_.add_in_flight(1);
    if (ex.record.stream) m_.add_open_streams(1);
    co_return shell::FilterVerdict::proceed();
  }
  env::Task<void> on_end(shell::Exchange& ex) override {
    m_.add_in_flight(-1);
    if (ex.record.stream) m_.add_open_streams(-1);
    co_return;
  }

 private:
  WorkerMetrics& m_;
};

class MetricsObserver final : public shell::RequestObserver {
 public:
  MetricsObserver(MetricsHub::WorkerShare& share, const std::vector<std::string>& custom_labels)
      : share_(share), values_(custom_labels.size()) {
    for (const auto& l : custom_labels)
      labels_.push_back(l == "model" ? Label::model : l == "user_id" ? Label::user_id : Label::api_key);
  }

  void on_request_end(const shell::RequestRecord& r) override {
    auto& m = share_.metrics;
    core::RequestSample s;
    s.route = static_cast<http::Route>(r.route);
    s.backend = r.attempt_log.empty() ? -1 : static_cast<int>(r.attempt_log.back().backend);
    s.status = r.status;
    s.outcome = shell::outcome_name(r.outcome);
    if (r.error_id >= 0)
      s.error_label = openai::error_info(static_cast<openai::ErrorId>(r.error_id)).metric_label;
    s.duration_s = to_seconds(r.end - r.start);
    // A stream's first token: only an answer that streamed (2xx) has one.
    if (r.stream && r.status / 100 == 2 && r.first_token != TimePoint{} &&
        r.upstream_sent != TimePoint{})
      s.ttft_s = to_seconds(r.first_token - r.upstream_sent);
    s.prompt_tokens = r.prompt_tokens;
    s.completion_tokens = r.completion_tokens;
    s.attempts = r.attempts;
    s.retries = r.retries;
    s.fallbacks = r.fallbacks;
    s.stream = r.stream;
    for (std::size_t i = 0; i < labels_.size(); ++i) values_[i] = label_value(labels_[i], r);
    s.custom_values = values_;
    m.on_request_end(s);

    // Time per output token (OpenTelemetry's gen_ai.server.time_per_output_token):
    // the stream's time after its first token over the tokens after it.
    if (r.stream && r.completion_tokens > 1 && r.first_token != TimePoint{} &&
        r.last_upstream_read > r.first_token)
      m.on_inter_token(s.backend, to_seconds(r.last_upstream_read - r.first_token) /
                                      static_cast<double>(r.completion_tokens - 1));
    for (const auto& a : r.attempt_log) {
      const auto reason = failure_reason(static_cast<AttemptFailure>(a.failure));
      if (!reason.empty()) m.on_upstream_error(static_cast<int>(a.backend), reason);
    }
    if (!r.rate_limit.empty()) m.on_rate_limited(limit_kind(r.rate_limit));
    // This worker's breaker state of each backend it tried, for the scrape
    // (which cannot read another thread's breaker).
    for (const auto& a : r.attempt_log)
      if (a.backend < share_.circuit.size())
        share_.circuit[a.backend].store(
            static_cast<std::uint8_t>(gauge_of(static_cast<routing::CircuitState>(a.circuit))),
            std::memory_order_relaxed);
  }

 private:
  // metrics.custom_labels (validate_metrics.cpp allows just these).
  enum class Label : std::uint8_t { model, user_id, api_key };
  // The caller's labels are "" for an anonymous request. api_key is the
  // key's name, or its prefix when it has none: never the key.
  static std::string_view label_value(Label l, const shell::RequestRecord& r) {
    switch (l) {
      case Label::model:
        return r.model;
      case Label::user_id:
        return r.user_id;
      case Label::api_key:
        return r.key_name.empty() ? std::string_view(r.key_prefix) : std::string_view(r.key_name);
    }
    return {};
  }

  MetricsHub::WorkerShare& share_;
  std::vector<Label> labels_;
  std::vector<std::string_view> values_;  // reused
};

class MetricsEndpoint final : public shell::EndpointHandler {
 public:
  explicit MetricsEndpoint(const MetricsHub& hub) : hub_(hub) {}
  shell::EndpointResponse handle(const shell::Exchange&, std::string& body) override {
    hub_.render(body);
    shell::EndpointResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }

 private:
  const MetricsHub& hub_;
};

}  // namespace

MetricsHub::MetricsHub(const config::MetricsConfig& config, std::vector<std::string> backend_names,
                       std::shared_ptr<const shell::HealthBoard> health)
    : path_(config.path), health_(std::move(health)) {
  layout_.backends = std::move(backend_names);
  layout_.latency_buckets = config.latency_buckets;
  layout_.custom_labels = config.custom_labels;
}

MetricsHub::WorkerShare& MetricsHub::worker_share(std::size_t index) {
  std::lock_guard lock(mu_);
  while (shares_.size() <= index) shares_.emplace_back(layout_, layout_.backends.size());
  return shares_[index];
}

void MetricsHub::render(std::string& out) const {
  std::vector<const WorkerMetrics*> workers;
  std::vector<core::BackendScrape> backends(layout_.backends.size());
  {
    std::lock_guard lock(mu_);
    for (const auto& s : shares_) {
      workers.push_back(&s.metrics);
      for (std::size_t i = 0; i < backends.size(); ++i) {
        const auto g = static_cast<core::CircuitGauge>(s.circuit[i].load(std::memory_order_relaxed));
        backends[i].circuit = std::max(backends[i].circuit, g);
      }
    }
  }
  for (std::size_t i = 0; i < backends.size(); ++i) backends[i].healthy = health_->healthy(i);
  core::ScrapeState state;
  state.backends = backends;
  state.version = LLMPROXY_VERSION;
  state.commit = LLMPROXY_COMMIT;
  core::render_metrics(workers, state, out);
}

void MetricsHub::install(shell::WorkerOptions& options, WorkerShare& share) const {
  options.filters.push_back(std::make_unique<MetricsFilter>(share.metrics));
  options.observers.push_back(std::make_shared<MetricsObserver>(share, layout_.custom_labels));
  options.endpoints.emplace_back(path_, std::make_shared<MetricsEndpoint>(*this));
}

}  // namespace llmproxy::modules::metrics
