// The metrics one worker (one event-loop thread) records (BEHAVIOR §10).
//
// One writer, concurrent readers: only the owning worker calls the on_*/add_*
// functions; the scraping thread reads at any time through the const
// accessors (render.h merges all workers). Every cell is a single-writer
// atomic (cells.h: relaxed load + store to write, relaxed load to read, no
// lock); the custom-label tuples are published with release/acquire
// (custom_series.h). The object must not move once shared: it is neither
// copyable nor movable.
//
// Allocation: everything is sized at construction from the MetricsLayout.
// on_request_end(), on_inter_token(), on_rate_limited(), on_upstream_error()
// and the gauges allocate nothing, except on_request_end() the first time it
// sees one of at most custom_label_cap tuples of custom label values.
//
// Recording rules (what each call adds):
//   on_request_end(s):
//     requests[route][backend][status class] += 1; status class is "1xx".."5xx"
//       from s.status in 100..599, else (0: no status sent) "none";
//     outcomes[s.outcome] += 1 ("completed","error","rejected","client_cancel";
//       anything else "other");
//     errors[s.error_label] += 1 when s.error_label is not empty (a catalogue
//       metric_label; an unknown one counts as "other");
//     request duration[route] observes s.duration_s;
//     time to first token[backend] observes s.ttft_s when s.stream and
//       s.ttft_s >= 0;
//     tokens[backend][input] += s.prompt_tokens when >= 0, [output] +=
//       s.completion_tokens when >= 0;
//     upstream attempts / retries / fallbacks [route] += s.attempts / s.retries
//       / s.fallbacks;
//     with custom labels configured: the tuple s.custom_values gets
//       requests += 1 and its tokens as above (custom_series.h).
//   on_inter_token(b, s): time per output token[b] observes s.
//   on_rate_limited(kind): rate_limited[kind] += 1 ("requests","tokens",
//     "concurrency","store_error"; anything else "other").
//   on_upstream_error(b, label): upstream_errors[b][label] += 1 (catalogue
//     metric_label; unknown → "other").
// A backend index outside 0..backends-1 (including -1) records under the
// backend slot "none" (backend_slots()-1). Histograms ignore NaN/infinite
// observations and count negative ones as 0 (cells.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/http/request_rules.h"
#include "proxy/core/metrics/cells.h"
#include "proxy/core/metrics/custom_series.h"
#include "proxy/core/metrics/label_set.h"
#include "proxy/core/openai/error_catalogue.h"

namespace llmproxy::metrics {

// Reasons of upstream_errors_total besides the catalogue's metric labels:
// an upstream status the request retried or fell back after.
inline constexpr std::string_view kUpstream429 = "upstream_429";
inline constexpr std::string_view kUpstream5xx = "upstream_5xx";

struct MetricsLayout {
  std::vector<std::string> backends;       // configured backend names (index = backend index)
  std::vector<double> latency_buckets;     // seconds, ascending (MetricsConfig::latency_buckets)
  std::vector<std::string> custom_labels;  // e.g. {"model","user_id","api_key"} (validated elsewhere)
  std::size_t custom_label_cap = 100;      // distinct value tuples kept per worker; more fold into "other"

  bool operator==(const MetricsLayout&) const = default;
};

struct RequestSample {
  http::Route route = http::Route::not_found;  // which endpoint
  int backend = -1;                  // index of the backend that served/was last tried, -1 none
  int status = 0;                    // status sent to the client, 0 none (client left first)
  std::string_view outcome;          // "completed","error","rejected","client_cancel"
  std::string_view error_label;      // catalogue metric_label when the gateway produced the error, "" else
  double duration_s = 0;             // request start → end
  double ttft_s = -1;                // request start → first upstream response byte; for streams the
                                     // first token; -1 = none (only streams are observed)
  std::int64_t prompt_tokens = -1;   // -1 unknown
  std::int64_t completion_tokens = -1;
  std::uint32_t attempts = 0;        // upstream attempts, retries and fallbacks included
  std::uint32_t retries = 0;         // attempts repeated on the same chain step (= attempts-1-fallbacks)
  std::uint32_t fallbacks = 0;       // moves to the next backend of a fallback chain
  bool stream = false;
  std::span<const std::string_view> custom_values;  // one per layout.custom_labels entry, "" = unknown
};

// Upper bounds (seconds) of llmproxy_time_per_output_token_seconds: fine
// steps around typical inter-token gaps (OpenTelemetry GenAI's advice for
// gen_ai.server.time_per_output_token, with 1–5 ms steps added below it for
// fast local models).
inline constexpr std::array<double, 16> kTimePerOutputTokenBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5};

inline constexpr std::size_t kRoutes = static_cast<std::size_t>(http::Route::not_found) + 1;
// Status classes: 0 "none", 1 "1xx" … 5 "5xx".
inline constexpr std::size_t kStatusClasses = 6;
std::string_view status_class_name(std::size_t c);

// The fixed label sets, built once from their sources (the error catalogue's
// metric_label values in catalogue order; the rate-limit kinds; outcomes).
const LabelSet& error_reasons();
std::size_t error_reason_index(openai::ErrorId id);  // = error_reasons().index_of(its metric_label)
const LabelSet& rate_limit_kinds();
const LabelSet& outcomes();

enum class TokenType : std::uint8_t { input = 0, output = 1 };

class WorkerMetrics {
 public:
  explicit WorkerMetrics(MetricsLayout layout);
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  // ---- writer (the owning worker's thread only)
  void on_request_end(const RequestSample& s);
  void on_inter_token(int backend, double seconds);
  void on_rate_limited(std::string_view limit_kind);
  void on_upstream_error(int backend, std::string_view error_label);
  void on_upstream_error(int backend, openai::ErrorId id);
  void add_in_flight(int delta) { in_flight_.add(delta); }
  void add_open_streams(int delta) { open_streams_.add(delta); }

  // ---- readers (any thread)
  const MetricsLayout& layout() const { return layout_; }
  // Configured backends plus the "none" slot (the last).
  std::size_t backend_slots() const { return layout_.backends.size() + 1; }
  std::uint64_t requests(std::size_t route, std::size_t backend_slot, std::size_t status_class) const {
    return requests_[(route * backend_slots() + backend_slot) * kStatusClasses + status_class].value();
  }
  std::uint64_t outcomes(std::size_t i) const { return outcomes_[i].value(); }
  std::uint64_t errors(std::size_t reason) const { return errors_[reason].value(); }
  const Histograms& request_duration() const { return duration_; }    // series = route
  const Histograms& time_to_first_token() const { return ttft_; }     // series = backend slot
  const Histograms& time_per_output_token() const { return tpot_; }   // series = backend slot
  std::uint64_t tokens(std::size_t backend_slot, TokenType t) const {
    return tokens_[backend_slot * 2 + static_cast<std::size_t>(t)].value();
  }
  std::uint64_t upstream_errors(std::size_t backend_slot, std::size_t reason) const {
    return upstream_errors_[backend_slot * error_reasons().size() + reason].value();
  }
  std::uint64_t attempts(std::size_t route) const { return attempts_[route].value(); }
  std::uint64_t retries(std::size_t route) const { return retries_[route].value(); }
  std::uint64_t fallbacks(std::size_t route) const { return fallbacks_[route].value(); }
  std::uint64_t rate_limited(std::size_t kind) const { return rate_limited_[kind].value(); }
  std::int64_t in_flight() const { return in_flight_.value(); }
  std::int64_t open_streams() const { return open_streams_.value(); }
  // Null when layout().custom_labels is empty.
  const CustomSeries* custom() const { return custom_.get(); }

 private:
  std::size_t backend_slot(int backend) const;

  MetricsLayout layout_;
  std::vector<Counter> requests_;  // [route][backend slot][status class]
  std::vector<Counter> outcomes_;
  std::vector<Counter> errors_;
  Histograms duration_;
  Histograms ttft_;
  Histograms tpot_;
  std::vector<Counter> tokens_;           // [backend slot][token type]
  std::vector<Counter> upstream_errors_;  // [backend slot][reason]
  std::vector<Counter> attempts_, retries_, fallbacks_;  // [route]
  std::vector<Counter> rate_limited_;
  Gauge in_flight_, open_streams_;
  std::unique_ptr<CustomSeries> custom_;
};

}  // namespace llmproxy::metrics
