// Metrics in the simulator (issue #12 item 7): the gateway built through the
// composition root from a config with metrics on (the same wiring `serve`
// uses), a random workload with uniformly drawn faults, and then the
// exposition compared with what happened, judged from outside (the clients'
// responses and the fake backends' own counts), not from the gateway's
// record:
//   - llmproxy_requests_total summed per status class equals the number of
//     client responses with that status class;
//   - time-to-first-token observations equal the streams whose client got
//     bytes of a backend event;
//   - requests and streams in flight are 0 at the end;
//   - the text parses as Prometheus exposition (strict parser).
// A failing case prints its seed; RC_PARAMS="replay=…" reproduces it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/keep_failure.h"
#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/random_faults.h"
#include "conformance/harness/uniform_gen.h"
#include "proxy/core/config/load.h"
#include "proxy/core/metrics/exposition_parser.h"
#include "proxy/modules/metrics/metrics_module.h"
#include "proxy/server/gateway.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;
using metrics::testing::parse_exposition;

constexpr std::string_view kConfig = R"(
server:
  listen: "127.0.0.1:8080"
routing:
  first_byte_timeout: 2s
  stream_idle_timeout: 2s
  retry:
    enabled: true
    max_retries: 1
metrics:
  enabled: true
  custom_labels: [model]
backends:
  - name: a
    url: "http://backend-a:8000"
  - name: b
    url: "http://backend-b:8000"
)";

std::shared_ptr<const server::Gateway> build_gateway() {
  const auto r = config::load_config_string(kConfig, "metrics_sim.yaml", ".", {});
  if (!r.config) throw std::runtime_error("metrics_sim.yaml does not load");
  std::string error;
  server::BuildOptions bo;
  bo.simulated = true;
  auto g = server::Gateway::build(*r.config, error, bo);
  if (!g) throw std::runtime_error(error);
  return g;
}

std::string status_class(int status) {
  if (status < 100 || status > 599) return "none";
  return std::to_string(status / 100) + "xx";
}

RC_GTEST_PROP(MetricsSim, ExpositionMatchesTheWorkload, ()) {
  static const auto gateway = build_gateway();
  Scenario sc;
  sc.seed = *rc::gen::arbitrary<std::uint64_t>();
  sc.gateway = *gateway->shell_config();
  sc.backends_from_config = true;
  sc.config_yaml = std::string(kConfig);  // a kept case's config
  std::shared_ptr<server::Gateway::Process> process;
  sc.worker_options = [&](env::Env& env) {
    process = gateway->start_process();
    return gateway->worker_options(process, env, 0);
  };
  const auto faults = available_faults(true, true);
  const int n = *uniform<int>(1, 25);
  std::map<std::string, int> kinds;
  for (int i = 0; i < n; ++i) {
    ClientRequest q;
    q.at = std::chrono::milliseconds(*uniform<int>(0, 3000));
    q.stream = *coin();
    // The fakes serve fake-model; another model is their 404.
    q.model = *coin() ? "fake-model" : "no-such-model";
    const FaultKind k = *uniform_element(faults);
    Rng r(sc.seed + static_cast<std::uint64_t>(i));
    q.fault = k == FaultKind::none ? "" : fault_spec(k, r);
    ++kinds[fault_kind_name(k)];
    sc.requests.push_back(q);
  }
  for (const auto& [k, c] : kinds) RC_TAG(k);
  const KeepIfFails keep(sc, "MetricsSim-ExpositionMatchesTheWorkload-failure");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);
  RC_ASSERT(process && process->metrics);

  std::string text;
  process->metrics->render(text);
  RC_LOG() << text;
  const auto ex = parse_exposition(text);
  RC_ASSERT(ex.error.empty());

  // Per status class, as the clients saw it (a client that got no status
  // line counts as "none").
  std::map<std::string, int> by_class;
  // Streams whose client got bytes of a backend event (anything before
  // the gateway's own error event, if one came).
  int first_tokens = 0;
  for (std::size_t i = 0; i < out.clients.size(); ++i) {
    const auto& c = out.clients[i];
    ++by_class[status_class(c.response.status)];
    const std::string& body = c.response.body;
    if (sc.requests[i].stream && c.response.status == 200 && !body.empty() &&
        !body.starts_with("data: {\"error\""))
      ++first_tokens;
  }
  for (const auto& [cls, count] : by_class) {
    const double got = ex.sum("llmproxy_requests_total", {{"status_class", cls}});
    RC_ASSERT(static_cast<int>(got) == count);
  }
  RC_ASSERT(static_cast<int>(ex.sum("llmproxy_requests_total")) == n);
  // Every stream that delivered a token had its first token timed.
  RC_ASSERT(static_cast<int>(ex.sum("llmproxy_time_to_first_token_seconds_count")) == first_tokens);
  RC_ASSERT(ex.sum("llmproxy_requests_in_flight") == 0);
  RC_ASSERT(ex.sum("llmproxy_open_streams") == 0);
  // The custom label splits the same total.
  RC_ASSERT(static_cast<int>(ex.sum("llmproxy_requests_by_label_total")) == n);
}

}  // namespace
}  // namespace llmproxy::harness
