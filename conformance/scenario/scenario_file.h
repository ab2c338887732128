// A conformance scenario file (conformance/scenarios/*.yaml, or a user's):
// which config it is meant for, how each backend behaves (profile and fault
// timeline), the client workload, and what must hold afterwards. Loading is
// strict: an unknown key, a wrong type or a bad value is an error that names
// file:line. Every key is documented in docs/conform.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fake_backends/fake_config.h"
#include "fake_backends/fault_spec.h"
#include "proxy/core/time.h"

namespace llmproxy::conform {

// A bound on a count or a ratio: "<= 3", ">= 0.99", "== 0", "5", "100%".
// A value written with a decimal point or a % sign is a ratio of the
// requests; an integer is an exact count.
struct Bound {
  enum class Op : std::uint8_t { eq, ne, lt, le, gt, ge };
  Op op = Op::eq;
  double value = 0;
  bool ratio = false;
  std::string text;  // as written, for messages

  bool holds(double count, double total) const;
};

struct BackendBehaviour {
  std::string key;  // backend name or URL, as written in the scenario
  int line = 0;
  fake::Profile profile;
  std::vector<fake::FaultWindow> faults;
};

// One request of an explicit workload (`workload.each`), as a shrunk
// property case writes it: everything per request instead of drawn.
struct OneRequest {
  Duration at{0};
  bool stream = false;
  bool include_usage = false;
  int prompt_words = 8;
  std::string fault;  // x-fake-fault header
  std::optional<Duration> cancel_after;
  std::optional<std::size_t> cancel_after_bytes;
  std::string method = "POST";         // GET sends no body (e.g. GET /ready)
  std::optional<std::string> path;     // null: workload.path
  std::optional<std::string> model;    // null: workload.model
  std::optional<std::uint32_t> max_tokens;  // null: workload.max_tokens
  std::vector<std::string> headers;    // extra header lines, "Name: value"
  // Sent in two parts: the first split_at bytes, a pause, the rest.
  std::optional<std::size_t> split_at;
  Duration split_pause{0};
  bool pipeline_partial = false;       // a next request's first line 5 ms behind
};

struct Workload {
  std::vector<OneRequest> each;  // when given, exactly these requests (the rest is unused)
  std::size_t requests = 10;
  Duration start{0};                           // first request
  Duration interval = std::chrono::milliseconds(100);  // between request starts
  double stream = 0;                           // fraction of streaming requests (true = 1)
  bool include_usage = false;
  std::string model = "fake-model";
  std::uint32_t max_tokens = 0;
  int prompt_words = 8;
  std::string path = "/v1/chat/completions";
  std::vector<std::string> api_keys;           // sent in turn as Authorization: Bearer
  std::string fault;                           // x-fake-fault header on every request
  double cancel = 0;                           // fraction of requests that give up early
  std::optional<Duration> cancel_after;        // ... after this long
  std::optional<std::size_t> cancel_after_bytes;  // ... or after this many body bytes
  std::size_t slow_read_bytes = 0;             // slow clients: bytes per read ...
  Duration slow_read_pause{0};                 // ... and the pause after each read
  Duration client_timeout = std::chrono::minutes(10);  // a client gives up after this
};

struct Expectations {
  std::map<std::string, Bound> status;       // "200", "2xx", "other"
  std::map<std::string, Bound> error_codes;  // catalogue code of the gateway's errors
  std::map<std::string, Bound> outcomes;     // completed, error, rejected, client_cancel
  std::optional<std::uint32_t> attempts_per_request_max;
  std::optional<std::uint32_t> attempts_per_request_min;
  std::map<std::string, double> backend_share;  // backend name or URL → share of 2xx answers
  double share_tolerance = 0.02;
  std::map<std::string, std::uint64_t> upstream_requests_max;  // backend → upstream requests
  std::optional<Duration> max_latency;
  std::optional<Duration> p99_latency;
  std::optional<Duration> p50_latency;
  std::optional<Duration> failover_within;
  std::optional<Duration> recovers_within;
  bool retry_after_honoured = false;
  bool jittered_retries = false;
  int line = 0;
};

// `reload:`: SIGHUP at `at`; the gateway reloads to `config`.
struct ReloadStep {
  Duration at{0};
  std::string config;  // resolved against the scenario's folder
  int line = 0;
};

struct ScenarioFile {
  std::string path;
  std::string name;
  std::string description;
  std::string config;  // resolved against the scenario's folder; "" = none given
  std::uint64_t seeds = 3;
  std::optional<std::uint64_t> seed;  // `seed:` run exactly this one (a kept failing case)
  bool random_read_split = true;      // reads return a seeded-random share of what is there
  std::vector<BackendBehaviour> backends;
  fake::Profile default_profile;  // `default_backend:` (models "*" unless set)
  std::optional<int> workers;     // null: the config's server.workers (0 there: 1)
  int gateways = 1;               // gateway instances; request i goes to i % gateways
  std::optional<Duration> drain_at;  // `drain: {at: …}`: SIGTERM then
  std::optional<ReloadStep> reload;
  // `shared_limiter: {latency: …}`: the config's rate limits in one
  // in-memory limiter every instance reaches this far away.
  std::optional<Duration> shared_limiter_latency;
  int line_of_shared_limiter = 0;
  Workload workload;
  Expectations expect;
};

// Loads and checks `path`. On failure returns nullopt and appends
// "file:line: message" lines to `errors`.
std::optional<ScenarioFile> load_scenario_file(const std::string& path,
                                               std::vector<std::string>& errors);
// The same from text (`path` names it in messages and resolves `config`).
std::optional<ScenarioFile> load_scenario_text(const std::string& text, const std::string& path,
                                               std::vector<std::string>& errors);

}  // namespace llmproxy::conform
