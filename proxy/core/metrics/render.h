// The /metrics exposition: every worker's WorkerMetrics merged at scrape
// time (sums; histograms bucket by bucket) plus what the scraper reads from
// shared state, in the Prometheus text format 0.0.4 (prometheus_text.h).
// Runs on the scraping thread, concurrently with the workers' writes
// (cells.h says what a scrape can and cannot see).
//
// Families, in output order (prefix llmproxy_, base units, counters end in
// _total; names from the OpenTelemetry GenAI conventions where one fits):
//   build_info{version,commit}                              gauge, always 1
//   requests_total{route,backend,status_class}              counter
//       status_class "1xx".."5xx", or "none" when no status was sent (the
//       client left first); backend "none" when no backend was involved
//   request_outcomes_total{outcome}                         counter
//       completed | error | rejected | client_cancel | other
//   errors_total{reason}                                    counter
//       requests that ended with an error the gateway produced, by the
//       error catalogue's metric_label
//   request_duration_seconds{route}                         histogram (latency_buckets)
//   time_to_first_token_seconds{backend}                    histogram (latency_buckets), streams
//   time_per_output_token_seconds{backend}                  histogram (kTimePerOutputTokenBuckets)
//   tokens_total{backend,type="input"|"output"}             counter
//   upstream_errors_total{backend,reason}                   counter, each failed attempt
//   upstream_attempts_total{route}                          counter
//   retries_total{route}                                    counter
//   fallbacks_total{route}                                  counter
//   rate_limited_total{limit}                               counter
//       requests | tokens | concurrency | store_error | other
//   requests_in_flight                                      gauge, sum over workers
//   open_streams                                            gauge, sum over workers
//   backend_healthy{backend}                                gauge, 1 healthy / 0 not
//   backend_circuit_state{backend}                          gauge, 0 closed / 1 half-open / 2 open
//   requests_by_label_total{<custom labels>}                counter   } only with
//   tokens_by_label_total{<custom labels>,type}             counter   } custom_labels
// Retries and fallbacks are labelled by route, not backend: a request's
// retries may have hit several backends, and upstream_errors_total already
// says which backend failed.
//
// Which series appear: series over configured or fixed small sets are
// written from the first scrape, zeros included, so rate() sees them start:
// per-backend series of configured backends (TTFT, time per output token,
// tokens, health, circuit), rate_limited_total for the four known kinds, the
// gauges. Series that are products of dimensions or follow traffic appear
// with their first event, which keeps the exposition short:
// requests_total, request_outcomes_total, errors_total, upstream_errors_total,
// the custom-label families, the "other" values and the backend "none";
// request_duration_seconds and the route counters (attempts, retries,
// fallbacks) appear for a route once it has ended a request.
//
// Custom labels: each worker keeps at most custom_label_cap tuples
// (custom_series.h). The merge walks workers in order and each worker's
// tuples in first-seen order; the first custom_label_cap distinct tuples
// (distinct as written, after escaping) get their own series, every other
// tuple and every worker's overflow counts under the tuple whose values are
// all "other". A real tuple whose values are all "other" is that series.
// Totals are kept: the sum over requests_by_label_total equals the requests
// the workers recorded.
//
// All workers must have been built from the same MetricsLayout; backend
// names come from the first worker's layout. A configured backend named
// "none", or a custom label named "type" or "le", would clash with the
// labels above; the config check must refuse them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proxy/core/metrics/worker_metrics.h"

namespace llmproxy::metrics {

// The gauge values of llmproxy_backend_circuit_state (not routing's enum
// order: the number grows with how shut the backend is).
enum class CircuitGauge : std::uint8_t { closed = 0, half_open = 1, open = 2 };

struct BackendScrape {
  bool healthy = true;
  CircuitGauge circuit = CircuitGauge::closed;
};

// What the scraper reads from shared state at scrape time. The circuit
// breaker is per worker; how the shell combines the workers' states (for
// example the most open one) is its choice.
struct ScrapeState {
  std::span<const BackendScrape> backends;  // index = backend index; extra entries ignored
  std::string_view version;                 // build_info version
  std::string_view commit;                  // build_info commit
};

// Replaces `out`'s contents with the exposition (its capacity is reused).
void render_metrics(std::span<const WorkerMetrics* const> workers, const ScrapeState& state, std::string& out);

}  // namespace llmproxy::metrics
