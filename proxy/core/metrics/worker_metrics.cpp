#include "proxy/core/metrics/worker_metrics.h"

#include <utility>

namespace llmproxy::metrics {

std::string_view status_class_name(std::size_t c) {
  static constexpr std::array<std::string_view, kStatusClasses> kNames = {"none", "1xx", "2xx",
                                                                          "3xx",  "4xx", "5xx"};
  return c < kNames.size() ? kNames[c] : "none";
}

const LabelSet& error_reasons() {
  static const LabelSet set = [] {
    std::vector<std::string_view> v;
    for (std::size_t i = 0; i < openai::kErrorIdCount; ++i)
      v.push_back(openai::error_info(static_cast<openai::ErrorId>(i)).metric_label);
    // Upstream answers the request tried again after (not catalogue errors:
    // the client never saw them).
    v.push_back(kUpstream429);
    v.push_back(kUpstream5xx);
    return LabelSet(v);
  }();
  return set;
}

std::size_t error_reason_index(openai::ErrorId id) {
  static const auto table = [] {
    std::array<std::size_t, openai::kErrorIdCount> t{};
    for (std::size_t i = 0; i < t.size(); ++i)
      t[i] = error_reasons().index_of(openai::error_info(static_cast<openai::ErrorId>(i)).metric_label);
    return t;
  }();
  const auto i = static_cast<std::size_t>(id);
  return i < table.size() ? table[i] : error_reasons().other();
}

const LabelSet& rate_limit_kinds() {
  static const LabelSet set({"requests", "tokens", "concurrency", "store_error"});
  return set;
}

const LabelSet& outcomes() {
  static const LabelSet set({"completed", "error", "rejected", "client_cancel"});
  return set;
}

namespace {

std::size_t status_class(int status) { return status >= 100 && status <= 599 ? static_cast<std::size_t>(status / 100) : 0; }

std::size_t route_index(http::Route r) {
  const auto i = static_cast<std::size_t>(r);
  return i < kRoutes ? i : static_cast<std::size_t>(http::Route::not_found);
}

}  // namespace

WorkerMetrics::WorkerMetrics(MetricsLayout layout)
    : layout_(std::move(layout)),
      requests_(kRoutes * backend_slots() * kStatusClasses),
      outcomes_(metrics::outcomes().size()),
      errors_(error_reasons().size()),
      duration_(kRoutes, layout_.latency_buckets),
      ttft_(backend_slots(), layout_.latency_buckets),
      tpot_(backend_slots(), {kTimePerOutputTokenBuckets.begin(), kTimePerOutputTokenBuckets.end()}),
      tokens_(backend_slots() * 2),
      upstream_errors_(backend_slots() * error_reasons().size()),
      attempts_(kRoutes),
      retries_(kRoutes),
      fallbacks_(kRoutes),
      rate_limited_(rate_limit_kinds().size()) {
  if (!layout_.custom_labels.empty())
    custom_ = std::make_unique<CustomSeries>(layout_.custom_labels.size(), layout_.custom_label_cap);
}

std::size_t WorkerMetrics::backend_slot(int backend) const {
  return backend >= 0 && static_cast<std::size_t>(backend) < layout_.backends.size()
             ? static_cast<std::size_t>(backend)
             : layout_.backends.size();
}

void WorkerMetrics::on_request_end(const RequestSample& s) {
  const std::size_t route = route_index(s.route);
  const std::size_t b = backend_slot(s.backend);
  requests_[(route * backend_slots() + b) * kStatusClasses + status_class(s.status)].add(1);
  outcomes_[metrics::outcomes().index_of(s.outcome)].add(1);
  if (!s.error_label.empty()) errors_[error_reasons().index_of(s.error_label)].add(1);
  duration_.observe(route, s.duration_s);
  if (s.stream && s.ttft_s >= 0) ttft_.observe(b, s.ttft_s);
  const std::uint64_t in = s.prompt_tokens > 0 ? static_cast<std::uint64_t>(s.prompt_tokens) : 0;
  const std::uint64_t out = s.completion_tokens > 0 ? static_cast<std::uint64_t>(s.completion_tokens) : 0;
  if (in) tokens_[b * 2].add(in);
  if (out) tokens_[b * 2 + 1].add(out);
  if (s.attempts) attempts_[route].add(s.attempts);
  if (s.retries) retries_[route].add(s.retries);
  if (s.fallbacks) fallbacks_[route].add(s.fallbacks);
  if (custom_) custom_->add(custom_->slot_for(s.custom_values), 1, in, out);
}

void WorkerMetrics::on_inter_token(int backend, double seconds) { tpot_.observe(backend_slot(backend), seconds); }

void WorkerMetrics::on_rate_limited(std::string_view limit_kind) {
  rate_limited_[rate_limit_kinds().index_of(limit_kind)].add(1);
}

void WorkerMetrics::on_upstream_error(int backend, std::string_view error_label) {
  upstream_errors_[backend_slot(backend) * error_reasons().size() + error_reasons().index_of(error_label)].add(1);
}

void WorkerMetrics::on_upstream_error(int backend, openai::ErrorId id) {
  upstream_errors_[backend_slot(backend) * error_reasons().size() + error_reason_index(id)].add(1);
}

}  // namespace llmproxy::metrics
