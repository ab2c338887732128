#include "conformance/scenario/case_writer.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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

std::string case_config_yaml(const harness::Scenario& sc) {
  std::ostringstream y;
  y << "# A kept simulation case (seed " << sc.seed << "); see its scenario file.\n";
  // A case generated from a config (through the composition root) keeps
  // that config as it is.
  if (!sc.config_yaml.empty()) return y.str() + sc.config_yaml;
  y << "server:\n  read_timeout: " << dur(sc.gateway.read_timeout)
    << "\n  idle_timeout: " << dur(sc.gateway.idle_timeout) << "\n";
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

std::string case_scenario_yaml(const harness::Scenario& sc, const std::string& name,
                               const std::string& config_file, const std::string& why) {
  std::ostringstream y;
  y << "name: " << name << "\n";
  y << "description: " << quoted("Kept from a failing simulation property (seed " +
                                 std::to_string(sc.seed) + "): " + why)
    << "\n";
  y << "config: " << config_file << "\n";
  y << "seed: " << sc.seed << "\n";
  y << "random_read_split: " << (sc.random_read_split ? "true" : "false") << "\n";
  y << "default_backend:\n  ttft: " << dur(sc.profile.ttft) << "\n  itl: " << dur(sc.profile.itl)
    << "\n  output_tokens: " << sc.profile.output_tokens << "\n";
  y << "workload:\n  each:\n";
  for (const auto& q : sc.requests) {
    y << "    - {at: " << dur(q.at) << ", stream: " << (q.stream ? "true" : "false")
      << ", include_usage: " << (q.ask_usage ? "true" : "false")
      << ", prompt_words: " << q.prompt_words;
    if (!q.fault.empty()) y << ", fault: " << quoted(q.fault);
    if (q.cancel_after_bytes) y << ", cancel_after_bytes: " << *q.cancel_after_bytes;
    if (q.cancel_after && *q.cancel_after < std::chrono::minutes(10))
      y << ", cancel_after: " << dur(*q.cancel_after);
    y << "}\n";
    // What the scenario format cannot say yet is kept as a note, so the
    // case is complete for whoever turns it into a scenario by hand.
    if (q.method != "POST" || q.path != "/v1/chat/completions")
      y << "      # (not replayed yet) " << q.method << " " << q.path << "\n";
    if (q.split_at)
      y << "      # (not replayed yet) split_at: " << *q.split_at << ", split_pause: "
        << dur(q.split_pause) << "\n";
    if (!q.headers.empty()) y << "      # (not replayed yet) headers: " << quoted(q.headers) << "\n";
  }
  if (sc.drain_at)
    y << "# (not replayed yet) SIGTERM drain at " << dur(*sc.drain_at) << " with " << sc.workers
      << " workers\n";
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
  std::ofstream c(k.config_path), s(k.scenario_path);
  c << case_config_yaml(sc);
  s << case_scenario_yaml(sc, name, name + ".config.yaml", why);
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
