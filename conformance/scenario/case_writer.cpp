#include "conformance/scenario/case_writer.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "fake_backends/fault_spec.h"

namespace llmproxy::conform {
namespace {

// Durations as the config and scenario readers take them: whole
// milliseconds, or microseconds when finer.
std::string dur(Duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (us % 1000 == 0) return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

// A YAML double-quoted string (fault specs and reasons are plain ASCII).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

namespace {

// A number as the config reader reads it back exactly (shortest form).
std::string num(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Scenario::rate_limit as the config's `rate_limit:` (in memory; conform
// shares it as the scenario's `shared_limiter:` says).
std::string rate_limit_yaml(const config::RateLimitConfig& c) {
  std::ostringstream y;
  y << "rate_limit:\n  enabled: true\n  storage: memory\n";
  const auto& g = c.global;
  y << "  global:\n    enabled: " << (g.enabled ? "true" : "false")
    << "\n    requests_per_second: " << num(g.requests_per_second)
    << "\n    requests_per_minute: " << num(g.requests_per_minute)
    << "\n    burst_size: " << g.burst_size << "\n";
  const auto& k = c.per_key;
  y << "  per_key:\n    enabled: " << (k.enabled ? "true" : "false")
    << "\n    requests_per_second: " << num(k.requests_per_second)
    << "\n    requests_per_minute: " << num(k.requests_per_minute)
    << "\n    tokens_per_minute: " << k.tokens_per_minute
    << "\n    max_concurrent: " << k.max_concurrent << "\n    burst_size: " << k.burst_size << "\n";
  return y.str();
}

}  // namespace

std::string case_config_yaml(const harness::Scenario& sc) {
  std::ostringstream y;
  y << "# A kept simulation case (seed " << sc.seed << "); see its scenario file.\n";
  // A case generated from a config (through the composition root) keeps
  // that config as it is, plus the limits it was given as settings
  // (Scenario::rate_limit replaces what the config's would build, so a
  // config with its own is not a case this writer can keep).
  if (!sc.config_yaml.empty()) {
    const bool own_limits = ("\n" + sc.config_yaml).find("\nrate_limit:") != std::string::npos;
    if (sc.rate_limit && own_limits)
      throw std::invalid_argument("a scenario with both Scenario::rate_limit and a config rate_limit cannot be kept");
    y << sc.config_yaml;
    if (sc.rate_limit) y << rate_limit_yaml(*sc.rate_limit);
    return y.str();
  }
  y << "server:\n  read_timeout: " << dur(sc.gateway.read_timeout)
    << "\n  idle_timeout: " << dur(sc.gateway.idle_timeout)
    << "\n  drain_timeout: " << dur(sc.gateway.drain_timeout) << "\n";
  if (sc.rate_limit) y << rate_limit_yaml(*sc.rate_limit);
  y << "backends:\n";
  const auto& t = sc.backend_template;
  for (int i = 0; i < sc.backends; ++i) {
    const std::string host = "backend-" + std::to_string(i);
    y << "  - name: " << host << "\n    url: http://" << host << ":8000\n";
    if (t.timeout.count() > 0) y << "    timeout: " << dur(t.timeout) << "\n";
    if (t.connect_timeout.count() > 0) y << "    connect_timeout: " << dur(t.connect_timeout) << "\n";
    if (t.first_byte_timeout.count() > 0)
      y << "    first_byte_timeout: " << dur(t.first_byte_timeout) << "\n";
    if (t.stream_idle_timeout.count() > 0)
      y << "    stream_idle_timeout: " << dur(t.stream_idle_timeout) << "\n";
  }
  return y.str();
}

namespace {

// One request of `workload.each`; what equals the harness's default is
// left out.
std::string request_yaml(const harness::ClientRequest& q) {
  std::ostringstream y;
  y << "    - {at: " << dur(q.at) << ", stream: " << (q.stream ? "true" : "false")
    << ", include_usage: " << (q.ask_usage ? "true" : "false")
    << ", prompt_words: " << q.prompt_words;
  if (!q.fault.empty()) y << ", fault: " << quoted(q.fault);
  if (q.cancel_after_bytes) y << ", cancel_after_bytes: " << *q.cancel_after_bytes;
  if (q.cancel_after && *q.cancel_after != harness::kClientGuard)
    y << ", cancel_after: " << dur(*q.cancel_after);
  if (q.method != "POST") y << ", method: " << q.method;
  if (q.path != "/v1/chat/completions") y << ", path: " << quoted(q.path);
  if (q.model != "fake-model") y << ", model: " << quoted(q.model);
  if (q.max_tokens) y << ", max_tokens: " << q.max_tokens;
  if (q.split_at) y << ", split_at: " << *q.split_at << ", split_pause: " << dur(q.split_pause);
  // The harness ignores pipeline_partial on a split request (gateway_sim.h).
  if (q.pipeline_partial && !q.split_at) y << ", pipeline_partial: true";
  if (!q.headers.empty()) {
    y << ", headers: [";
    std::size_t from = 0;
    for (std::size_t end; (end = q.headers.find("\r\n", from)) != std::string::npos; from = end + 2)
      y << (from ? ", " : "") << quoted(q.headers.substr(from, end - from));
    y << "]";
  }
  y << "}\n";
  return y.str();
}

// The gateway process and its signals: workers, instances, drain, reload,
// the shared limiter.
std::string process_yaml(const harness::Scenario& sc, const std::string& reload_file) {
  std::ostringstream y;
  if (sc.workers != 1) y << "workers: " << sc.workers << "\n";
  if (sc.gateways != 1) y << "gateways: " << sc.gateways << "\n";
  if (sc.drain_at) y << "drain: {at: " << dur(*sc.drain_at) << "}\n";
  if (sc.reload_at && !reload_file.empty())
    y << "reload: {at: " << dur(*sc.reload_at) << ", config: " << reload_file << "}\n";
  else if (sc.reload_at)
    y << "# not replayed: a reload at " << dur(*sc.reload_at) << " to a config built in code\n";
  if (sc.rate_limit) y << "shared_limiter: {latency: " << dur(sc.limiter_latency) << "}\n";
  return y.str();
}

// A fake's profile as a flow map; what equals the default is left out
// (models always: the scenario default accepts any model).
std::string profile_yaml(const fake::Profile& p) {
  std::ostringstream y;
  y << "{ttft: " << dur(p.ttft) << ", itl: " << dur(p.itl) << ", output_tokens: " << p.output_tokens;
  if (p.max_concurrency) y << ", max_concurrency: " << p.max_concurrency;
  if (p.idle_timeout.count() > 0) y << ", idle_timeout: " << dur(p.idle_timeout);
  y << ", models: [";
  for (std::size_t i = 0; i < p.models.size(); ++i) y << (i ? ", " : "") << quoted(p.models[i]);
  return y.str() + "]}";
}

// Each fake of a config's backends (Scenario::fakes): its profile and its
// fault timeline, by the backend's name, so the replay's fakes behave as
// the run's did. Generated backends (no config) all run Scenario::profile.
std::string backends_yaml(const harness::Scenario& sc) {
  if (!sc.backends_from_config || sc.fakes.empty()) return "";
  std::ostringstream y;
  y << "backends:\n";
  const auto& bs = sc.gateway.backends;
  for (std::size_t i = 0; i < sc.fakes.size() && i < bs.size(); ++i) {
    y << "  " << quoted(bs[i].name) << ":\n    profile: " << profile_yaml(sc.fakes[i].profile) << "\n";
    std::string faults;
    for (const auto& w : sc.fakes[i].faults)  // an empty spec changes nothing (and prints as "")
      if (!(w.spec == fake::FaultSpec{})) faults += "      - " + quoted(fake::print_fault_window(w)) + "\n";
    if (!faults.empty()) y << "    faults:\n" << faults;
  }
  return y.str();
}

}  // namespace

std::string case_scenario_yaml(const harness::Scenario& sc, const std::string& name,
                               const std::string& config_file, const std::string& why,
                               const std::string& reload_file) {
  std::ostringstream y;
  y << "name: " << name << "\n";
  y << "description: " << quoted("Kept from a failing simulation property (seed " +
                                 std::to_string(sc.seed) + "): " + why)
    << "\n";
  y << "config: " << config_file << "\n";
  y << "seed: " << sc.seed << "\n";
  y << "random_read_split: " << (sc.random_read_split ? "true" : "false") << "\n";
  y << process_yaml(sc, reload_file);
  y << "default_backend: " << profile_yaml(sc.profile) << "\n";
  y << backends_yaml(sc);
  y << "workload:\n  each:\n";
  for (const auto& q : sc.requests) y << request_yaml(q);
  y << "# The invariants are checked on every run; add expectations as needed.\n";
  return y.str();
}

std::optional<KeptCase> keep_case(const harness::Scenario& sc, const std::string& dir,
                                  const std::string& name, const std::string& why,
                                  std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  KeptCase k;
  k.config_path = (fs::path(dir) / (name + ".config.yaml")).string();
  k.scenario_path = (fs::path(dir) / (name + ".yaml")).string();
  const std::string reload_file = sc.reload_config_yaml.empty() ? "" : name + ".reload.yaml";
  if (!reload_file.empty()) {
    k.reload_config_path = (fs::path(dir) / reload_file).string();
    std::ofstream r(k.reload_config_path);
    r << "# The config a kept simulation case reloads to; see its scenario file.\n"
      << sc.reload_config_yaml;
    if (!r) {
      error = "cannot write " + k.reload_config_path;
      return std::nullopt;
    }
  }
  std::ofstream c(k.config_path), s(k.scenario_path);
  c << case_config_yaml(sc);
  s << case_scenario_yaml(sc, name, name + ".config.yaml", why, reload_file);
  if (!c || !s) {
    error = "cannot write " + k.scenario_path;
    return std::nullopt;
  }
  return k;
}

std::string keep_failing_case(const harness::Scenario& sc, const std::string& name,
                              const std::string& why) {
  std::string error;
  const auto kept = keep_case(sc, kept_cases_dir(), name, why, error);
  if (!kept) return "could not keep the case: " + error + "\n";
  return "kept as " + kept->scenario_path + " (with " + kept->config_path +
         "); replay: llmproxy conform --scenario " + kept->scenario_path + "\n";
}

std::string kept_cases_dir() {
  const char* d = std::getenv("LLMPROXY_KEEP_CASES");
  return d && *d ? std::string(d) : std::string("failed-cases");
}

}  // namespace llmproxy::conform
