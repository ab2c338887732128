// Config reload in the simulator (issue #12 item 6, BEHAVIOR §13): a gateway
// built through the composition root from config A serves a random workload
// of plain requests and streams; at a random virtual time T it reloads to
// config B (the same steps `serve` takes on SIGHUP: Gateway::build,
// reload_process, Worker::reload). Both configs are drawn: a backend list
// over three fake hosts (B may drop hosts, rename a backend, change
// weights and strategy) and a global rate limit (none, or one of two).
// Judged from outside (the clients' responses and the upstream tap):
//   - no request fails: every client gets a complete 200, or a 429 from a
//     rate limit of the config its request ran on;
//   - a request sent after T reaches only hosts of B and its record names
//     only backends of B; a stream open across T completes;
//   - the limits in effect are B's after T: with a new limit, admissions
//     after T stay within burst + rate·elapsed; with the limit unchanged the
//     counters carry over, so the bound holds over the whole run; a request
//     sent before T is never refused by a limit only B has;
//   - every worker frees its old generation before the run ends (once the
//     requests that pinned it ended).
// Request times are multiples of 10 ms and T is 5 ms off that grid, so
// "before" and "after" are never ambiguous.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>

#include "conformance/harness/composition.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/uniform_gen.h"
#include "conformance/harness/upstream_transcript.h"
#include "proxy/core/config/load.h"
#include "proxy/server/gateway.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;

constexpr const char* kHosts[] = {"host-a", "host-b", "host-c"};

struct Limit {
  int per_second = 0;  // 0 = no rate limit
  int burst = 1;
  bool operator==(const Limit&) const = default;
};

struct DrawnConfig {
  std::vector<std::size_t> hosts;   // indexes into kHosts
  std::vector<std::string> names;   // backend name per host
  std::vector<int> weights;
  bool weighted = false;
  Limit limit;
};

std::string yaml_of(const DrawnConfig& c, int workers) {
  std::string y = "server:\n  listen: \"127.0.0.1:8080\"\n  workers: " + std::to_string(workers) + "\n";
  y += std::string("routing:\n  load_balance: ") + (c.weighted ? "weighted" : "round_robin") + "\n";
  if (c.limit.per_second > 0) {
    y += "rate_limit:\n  enabled: true\n  global:\n    enabled: true\n";
    y += "    requests_per_second: " + std::to_string(c.limit.per_second) + "\n";
    y += "    burst_size: " + std::to_string(c.limit.burst) + "\n";
  }
  y += "backends:\n";
  for (std::size_t i = 0; i < c.hosts.size(); ++i) {
    y += "  - name: " + c.names[i] + "\n";
    y += std::string("    url: \"http://") + kHosts[c.hosts[i]] + ":8000\"\n";
    y += "    weight: " + std::to_string(c.weights[i]) + "\n";
  }
  return y;
}


const Limit kLimits[] = {{0, 1}, {5, 3}, {20, 10}};

DrawnConfig draw_config(bool all_hosts) {
  DrawnConfig c;
  for (std::size_t h = 0; h < std::size(kHosts); ++h) {
    if (!all_hosts && *uniform(0, 2) == 0) continue;
    c.hosts.push_back(h);
    // A renamed backend on the same url is a different backend.
    const bool renamed = !all_hosts && *uniform(0, 3) == 0;
    c.names.push_back(std::string(renamed ? "renamed-" : "") + kHosts[h]);
    c.weights.push_back(*uniform(1, 5));
  }
  if (c.hosts.empty()) {
    c.hosts.push_back(*uniform<std::size_t>(0, std::size(kHosts)));
    c.names.push_back(std::string("only-") + kHosts[c.hosts[0]]);
    c.weights.push_back(1);
  }
  c.weighted = *coin();
  c.limit = kLimits[*uniform<std::size_t>(0, std::size(kLimits))];
  return c;
}

// Admissions at the given times stay within a GCRA bound from `from` on.
bool within_bound(const std::vector<TimePoint>& admitted, TimePoint from, const Limit& l) {
  for (const TimePoint end : admitted) {
    if (end < from) continue;
    std::size_t n = 0;
    for (const TimePoint t : admitted) n += (t >= from && t <= end) ? 1 : 0;
    const double elapsed = to_seconds(end - from);
    if (static_cast<double>(n) > l.burst + l.per_second * elapsed + 1) return false;
  }
  return true;
}

RC_GTEST_PROP(ReloadSim, ReloadUnderLoadLosesNothingAndAppliesTheNewConfig, ()) {
  const DrawnConfig a = draw_config(true);
  const DrawnConfig b = draw_config(false);
  const int workers = *uniform(1, 4);
  const auto gw_a = simulated_gateway(yaml_of(a, workers), "reload_a.yaml");
  const auto gw_b = simulated_gateway(yaml_of(b, workers), "reload_b.yaml");
  Scenario sc;
  use_gateway(sc, gw_a);  // server.workers workers, through the composition root
  sc.seed = *rc::gen::arbitrary<std::uint64_t>();
  sc.profile.ttft = 20ms;
  sc.profile.itl = 5ms;
  sc.profile.output_tokens = *uniform(1, 60);
  const Duration reload_at = std::chrono::milliseconds(10 * *uniform(10, 290) + 5);
  std::vector<std::shared_ptr<server::Gateway::Process>> processes;
  sc.start_process = through_composition_root(gw_a, &processes);
  sc.reload_at = reload_at;
  sc.reload = reload_through_composition_root(gw_a, gw_b, &processes);
  const int n = *uniform(1, 40);
  for (int i = 0; i < n; ++i) {
    ClientRequest q;
    q.at = std::chrono::milliseconds(10 * *uniform(0, 300));
    q.stream = *coin();
    sc.requests.push_back(q);
  }
  // One request after the reload at least (the run ends with the last one).
  ClientRequest last;
  last.at = reload_at + 5ms;
  last.stream = *coin();
  sc.requests.push_back(last);
  sc.horizon = 10min;
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);
  RC_ASSERT(out.reloads.size() == 1u);
  RC_ASSERT(out.reloads[0].done);
  RC_ASSERT(out.reloads[0].old_generations_freed);

  std::set<std::string> b_hosts, b_names;
  for (std::size_t i = 0; i < b.hosts.size(); ++i) {
    b_hosts.insert(std::string(kHosts[b.hosts[i]]) + ":8000");
    b_names.insert(b.names[i]);
  }
  const auto exchanges = all_exchanges(out.upstream);
  std::vector<TimePoint> admitted_before, admitted_after;
  int across = 0;
  for (std::size_t i = 0; i < out.clients.size(); ++i) {
    const auto& c = out.clients[i];
    const bool after = sc.requests[i].at > reload_at;
    const Limit& limit = after ? b.limit : a.limit;
    const TimePoint sent = out.started + sc.requests[i].at;
    RC_ASSERT(c.connected);
    if (c.response.status == 429) {
      RC_ASSERT(limit.per_second > 0);
      continue;
    }
    RC_ASSERT(c.response.status == 200);
    RC_ASSERT(c.response.complete);
    if (sc.requests[i].stream) {
      RC_ASSERT(c.response.body.find("[DONE]") != std::string::npos);
      RC_ASSERT(c.response.body.find("\"error\"") == std::string::npos);
      if (!after && c.end > out.started + reload_at) ++across;
    }
    (after ? admitted_after : admitted_before).push_back(sent);
    if (!after) continue;
    for (const auto& x : exchanges)
      if (x.request_id == c.request_id) RC_ASSERT(b_hosts.count(x.peer) == 1u);
  }
  for (const auto& rec : out.records) {
    if (rec.start <= out.started + reload_at) continue;
    if (!rec.backend.empty()) RC_ASSERT(b_names.count(rec.backend) == 1u);
  }
  RC_CLASSIFY(across > 0, "stream open across the reload");
  RC_CLASSIFY(a.limit == b.limit && a.limit.per_second > 0, "limit carried over");
  RC_CLASSIFY(!(a.limit == b.limit) && b.limit.per_second > 0, "new limit");
  const TimePoint t = out.started + reload_at;
  if (b.limit.per_second > 0) {
    if (a.limit == b.limit) {
      std::vector<TimePoint> all = admitted_before;
      all.insert(all.end(), admitted_after.begin(), admitted_after.end());
      std::sort(all.begin(), all.end());
      RC_ASSERT(within_bound(all, out.started, b.limit));
    } else {
      RC_ASSERT(within_bound(admitted_after, t, b.limit));
    }
  }
}

}  // namespace
}  // namespace llmproxy::harness
