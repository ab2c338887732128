// How fast the simulator runs: virtual seconds simulated per real (CPU)
// second, reported as the counter virtual_s_per_real_s.
//
//   sim_speed/timers/N       N periodic tasks on one host, each sleeping a
//                            seeded-random period in [1 ms, 100 ms) and
//                            waking again (~20 N wake-ups per virtual
//                            second): the event heap and timers only.
//   sim_speed/gateway/N      the conformance harness (run_gateway_sim): N
//                            streaming chat requests, start times spread
//                            uniformly over 10 virtual minutes, through the
//                            real gateway Worker to 2 fake backends (ttft
//                            200 ms, itl 20 ms, 128 tokens), the gateway
//                            built from a config through the composition
//                            root (proxy/server/gateway.h) as `conform`
//                            builds it. One iteration is one whole run,
//                            world setup and teardown included.
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conformance/harness/gateway_sim.h"
#include "proxy/core/config/load.h"
#include "proxy/core/random.h"
#include "proxy/server/gateway.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace {

using namespace std::chrono_literals;
using llmproxy::Duration;
using llmproxy::to_seconds;
namespace sim = llmproxy::sim;
namespace env = llmproxy::env;
namespace harness = llmproxy::harness;

// One periodic task; it stops after the wake-up that follows `stop`.
env::Task<void> periodic(sim::SimEnv& host, Duration period, const bool& stop,
                         std::uint64_t& wakeups) {
  auto timer = host.make_timer();
  auto next = host.now() + period;
  while (!stop) {
    env::error_code ec;
    co_await timer->sleep_until(next, ec);
    if (ec) break;
    ++wakeups;
    next += period;
  }
}

void BM_Timers(benchmark::State& state) {
  const auto tasks = static_cast<std::size_t>(state.range(0));
  sim::WorldOptions options;
  options.keep_log_records = false;
  sim::World world(options);
  sim::SimEnv host(world, "timers");
  llmproxy::Rng rng = world.rng_for("periods");
  bool stop = false;
  std::uint64_t wakeups = 0;
  for (std::size_t i = 0; i < tasks; ++i) {
    const Duration period = 1ms + std::chrono::microseconds(rng.below(99'000));
    world.spawn(periodic(host, period, stop, wakeups));
  }
  // Virtual time per iteration: ~200k wake-ups whatever the task count.
  const Duration slice = 10s * 1000 / static_cast<Duration::rep>(tasks);
  const std::uint64_t steps0 = world.steps();
  for (auto _ : state) world.run_for(slice);
  const double virtual_s = to_seconds(slice) * static_cast<double>(state.iterations());
  state.counters["virtual_s_per_real_s"] =
      benchmark::Counter(virtual_s, benchmark::Counter::kIsRate);
  state.counters["wakeups/s"] =
      benchmark::Counter(static_cast<double>(wakeups), benchmark::Counter::kIsRate);
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(world.steps() - steps0), benchmark::Counter::kIsRate);
  stop = true;
  world.run_for(100ms);  // every task wakes once more and ends
}
BENCHMARK(BM_Timers)->Name("sim_speed/timers")->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Two backends, everything else at its defaults, as a user's minimal file.
std::shared_ptr<const llmproxy::server::Gateway> build_gateway() {
  const char* yaml = "backends:\n  - {name: backend-0, url: 'http://backend-0:8000'}\n"
                     "  - {name: backend-1, url: 'http://backend-1:8000'}\n";
  const auto loaded = llmproxy::config::load_config_string(yaml, "sim_speed.yaml", "", [](std::string_view) {
    return std::optional<std::string>();
  });
  if (!loaded.ok()) throw std::runtime_error("sim_speed.yaml does not load");
  std::string error;
  llmproxy::server::BuildOptions options;
  options.simulated = true;
  auto gateway = llmproxy::server::Gateway::build(*loaded.config, error, options);
  if (!gateway) throw std::runtime_error(error);
  return gateway;
}

harness::Scenario gateway_scenario(std::size_t requests) {
  static const auto gateway = build_gateway();
  harness::Scenario sc;
  sc.seed = 7;
  sc.gateway = *gateway->shell_config();
  sc.backends_from_config = true;
  // Each run a fresh process, as each `conform` run has.
  sc.worker_options = [](env::Env& env) { return gateway->worker_options(gateway->start_process(), env, 0); };
  sc.profile.ttft = 200ms;
  sc.profile.itl = 20ms;
  sc.profile.output_tokens = 128;
  llmproxy::Rng rng(sc.seed);
  const Duration span = 10min;
  for (std::size_t i = 0; i < requests; ++i) {
    harness::ClientRequest r;
    r.stream = true;
    r.at = Duration(static_cast<Duration::rep>(rng.uniform() * static_cast<double>(span.count())));
    sc.requests.push_back(r);
  }
  // Every request has ended ~3 s after its start; the harness then settles
  // for 1 s and shuts down for 1 s.
  sc.horizon = span + 10s;
  return sc;
}

void BM_Gateway(benchmark::State& state) {
  const harness::Scenario sc = gateway_scenario(static_cast<std::size_t>(state.range(0)));
  double virtual_s = 0;
  std::size_t ok = 0, failed = 0;
  for (auto _ : state) {
    const harness::SimOutcome out = harness::run_gateway_sim(sc);
    // finished = the end of the horizon; the harness adds 2 virtual seconds.
    virtual_s += to_seconds(out.finished.time_since_epoch()) + 2.0;
    for (const auto& c : out.clients) {
      if (c.response.status == 200 && c.response.complete) {
        ++ok;
      } else {
        ++failed;
      }
    }
  }
  if (failed) state.SkipWithError("some simulated requests failed");
  state.counters["virtual_s_per_real_s"] =
      benchmark::Counter(virtual_s, benchmark::Counter::kIsRate);
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(ok + failed), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Gateway)->Name("sim_speed/gateway")->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
