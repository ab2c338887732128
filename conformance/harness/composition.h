// Simulated gateway processes built through the composition root
// (proxy/server/gateway.h) exactly as `serve` builds its workers: one
// Gateway::start_process() per gateway instance, and worker i's options
// from Gateway::worker_options(process, env, i), so the workers share the
// health board, admission budget, in-process limiter and metrics hub as
// they do in production.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/harness/gateway_sim.h"
#include "proxy/server/gateway.h"

namespace llmproxy::harness {

// Scenario::start_process for `gateway`. When `processes` is given, the
// process started for instance i is kept at (*processes)[i], replacing the
// previous run's (e.g. to read the metrics hub after the run, or to reload
// it); it must outlive the run.
std::function<WorkerFactory(std::size_t)> through_composition_root(
    std::shared_ptr<const server::Gateway> gateway,
    std::vector<std::shared_ptr<server::Gateway::Process>>* processes = nullptr);

// Scenario::reload from `from` to `to` for processes started by
// through_composition_root(from, processes): each instance's process state
// after the reload (Gateway::reload_process) and its workers' new options,
// as serve's SIGHUP handler makes them. `processes` must outlive the run.
std::function<ReloadTo(std::size_t)> reload_through_composition_root(
    std::shared_ptr<const server::Gateway> from, std::shared_ptr<const server::Gateway> to,
    std::vector<std::shared_ptr<server::Gateway::Process>>* processes);

// `sc` (set up by use_gateway(sc, from)) reloads to `to` at `at`: its
// processes start through the composition root and are kept by the
// scenario itself, Scenario::reload makes their state and options after the
// SIGHUP as serve does, and backends only `to` names (by host:port) are
// served by fakes from the start (Scenario::reload_backends).
void reload_during(Scenario& sc, const std::shared_ptr<const server::Gateway>& from,
                   const std::shared_ptr<const server::Gateway>& to, Duration at);

// A config (YAML text) built for the simulator (BuildOptions::simulated);
// throws std::runtime_error naming the problem when it does not load or
// build.
std::shared_ptr<const server::Gateway> simulated_gateway(std::string_view yaml,
                                                         const std::string& name = "sim.yaml");

// The knobs of a generated gateway config (gateway_yaml): generated
// backends backend-0… on http://backend-i:8000, as run_gateway_sim names
// its fakes. Zero durations and counts leave a setting out.
struct ConfigKnobs {
  int backends = 2;
  int workers = 1;
  Duration drain_timeout = std::chrono::seconds(30);
  Duration first_byte_timeout{0}, stream_idle_timeout{0};
  int max_retries = 0;
  Duration retry_initial_wait = std::chrono::milliseconds(10);
  Duration retry_max_wait = std::chrono::milliseconds(100);
  double retry_jitter = 0;
  Duration health_interval{0}, health_timeout{0};  // health checks when interval > 0
  int global_rps = 0, global_burst = 0;             // rate limits when global_rps > 0
  int key_max_concurrent = 0, key_tokens_per_minute = 0;
  bool limits_on_redis = false;  // the limits' store: Redis at redis.internal:6379
  std::string redis_fail_mode = "open";
};
std::string gateway_yaml(const ConfigKnobs& k);

// `sc` set up to run `gateway` as serve would: its runtime settings, its
// backends as fakes (backends_from_config), its processes through the
// composition root, its Redis rate-limit cache (if any) served by a fake
// Redis, and server.workers workers per instance (at least 1).
void use_gateway(Scenario& sc, const std::shared_ptr<const server::Gateway>& gateway);

// A config for a property to draw the rest of and build with use_config:
// backends b0…b(n-1) on http://bi:8000, each otherwise as `each` (its
// timeouts; name and url are set here). Each is served by a fake of its
// own on its own simulated host, with Scenario::profile unless
// Scenario::fakes says otherwise.
config::Config config_with_backends(int n, const config::BackendConfig& each);

// `sc` set up from a config drawn in code, as from a user's file: the
// config as YAML (changed_sections_yaml), loaded and built through the
// composition root (simulated_gateway, use_gateway); the text becomes
// Scenario::config_yaml, so a kept case writes exactly this config. Throws
// std::runtime_error when the text does not load back into `c` (a setting
// the printer and the loader disagree on) or does not build.
void use_config(Scenario& sc, const config::Config& c);

}  // namespace llmproxy::harness
