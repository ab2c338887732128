// `llmproxy conform`: runs scenario files (conformance/scenarios/*.yaml or
// the user's own) against the user's unmodified config in the simulator:
// the real request path, every backend URL of the config served by a fake
// that behaves as the scenario says, virtual time. Prints a pass/fail table;
// for a failure, what failed, the request's attempt trace and the one command
// that replays it. --baseline runs the same scenarios and seeds on a second
// config and prints the behavioural difference. docs/conform.md has it all.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario/report.h"
#include "conformance/scenario/scenario_file.h"
#include "conformance/scenario/scenario_run.h"
#include "proxy/app/commands.h"
#include "proxy/server/gateway.h"
#include "proxy/core/config/load.h"
#include "proxy/core/log/log.h"

namespace llmproxy::app {
namespace {

struct Options {
  std::string config;
  std::vector<std::string> scenarios;
  std::optional<std::uint64_t> seed;
  std::optional<std::uint64_t> seeds;
  std::string report;
  std::string baseline;
};

bool parse_count(const char* s, std::uint64_t& out, std::uint64_t min) {
  char* end = nullptr;
  if (!s || *s == '-' || *s == '\0') return false;
  out = std::strtoull(s, &end, 10);
  return *end == '\0' && out >= min;
}

int usage_error(const std::string& message) {
  std::cerr << "llmproxy conform: " << message << "\n" << find_command("conform")->usage;
  return kExitUsage;
}

// Loads a config for the simulator, built through the same composition
// root as `serve` (server/gateway.h); each run starts fresh processes from
// it (run_case). Features this build does not implement are reported but
// do not stop the run (the scenario then shows what the gateway does
// without them); any other problem does. A rate limit on Redis runs the
// config's own Redis store (the real client and scripts) against a fake
// Redis at the configured address (harness/sim_redis.h).
std::shared_ptr<const server::Gateway> load_gateway(const std::string& path) {
  static std::map<std::string, std::shared_ptr<const server::Gateway>> cache;
  if (const auto it = cache.find(path); it != cache.end()) return it->second;
  const config::LoadResult r = config::load_config_file(path, util::process_env());
  for (const auto& d : r.diagnostics) {
    if (d.kind == config::Diagnostic::Kind::not_implemented)
      std::cerr << config::format_diagnostic(d) << " (the simulated gateway runs without it)\n";
    else
      std::cerr << config::format_diagnostic(d) << '\n';
  }
  if (!r.config || r.has_schema_errors()) return nullptr;
  if (r.config->backends.empty()) {
    std::cerr << path << ": the config has no backends; there is nothing to simulate\n";
    return nullptr;
  }
  std::string error;
  server::BuildOptions bo;
  bo.simulated = true;
  auto gateway = server::Gateway::build(*r.config, error, bo);
  if (!gateway) {
    std::cerr << path << ": " << error << '\n';
    return nullptr;
  }
  for (const auto& m : gateway->left_out())
    std::cerr << path << ": " << m << ": the simulated gateway runs without it\n";
  cache.emplace(path, gateway);
  return gateway;
}

std::string quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs every scenario against `config_override` (or each scenario's own
// config). Returns false when a config or scenario cannot be used.
bool run_all(const std::vector<conform::ScenarioFile>& files, const std::string& config_override,
             const Options& o, std::vector<conform::ScenarioRuns>& out) {
  for (const auto& f : files) {
    const std::string config_path = config_override.empty() ? f.config : config_override;
    if (config_path.empty()) {
      std::cerr << f.path << ": no config: give --config FILE or set `config:` in the scenario\n";
      return false;
    }
    const auto gateway = load_gateway(config_path);
    if (!gateway) return false;
    // A scenario's `reload:` names its own second config, whatever --config says.
    std::shared_ptr<const server::Gateway> reload_to;
    if (f.reload && !(reload_to = load_gateway(f.reload->config))) return false;
    std::vector<std::uint64_t> seeds;
    if (o.seed) {
      seeds.push_back(*o.seed);
    } else if (f.seed && !o.seeds) {
      seeds.push_back(*f.seed);
    } else {
      const std::uint64_t n = o.seeds ? *o.seeds : f.seeds;
      for (std::uint64_t s = 1; s <= n; ++s) seeds.push_back(s);
    }
    conform::ScenarioRuns runs;
    runs.name = f.name;
    runs.path = f.path;
    runs.replay = [config_path, path = f.path](std::uint64_t seed) {
      return "llmproxy conform --config " + quote(config_path) + " --scenario " + quote(path) + " --seed " +
             std::to_string(seed);
    };
    for (const std::uint64_t s : seeds) runs.cases.push_back(conform::run_case(f, gateway, s, reload_to));
    out.push_back(std::move(runs));
  }
  return true;
}

}  // namespace

int run_conform(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= argc) return false;
      into = argv[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::cout << find_command("conform")->usage;
      return kExitOk;
    } else if (a == "--config" || a == "-c") {
      if (!value(o.config)) return usage_error("--config needs a FILE");
    } else if (a == "--scenario") {
      // One or more paths, up to the next option.
      const std::size_t before = o.scenarios.size();
      while (i + 1 < argc && argv[i + 1][0] != '-') o.scenarios.push_back(argv[++i]);
      if (o.scenarios.size() == before) return usage_error("--scenario needs a PATH");
    } else if (a == "--seed") {
      std::uint64_t v = 0;
      if (i + 1 >= argc || !parse_count(argv[++i], v, 0)) return usage_error("--seed needs a number");
      o.seed = v;
    } else if (a == "--seeds") {
      std::uint64_t v = 0;
      if (i + 1 >= argc || !parse_count(argv[++i], v, 1)) return usage_error("--seeds needs a count >= 1");
      o.seeds = v;
    } else if (a == "--report") {
      if (!value(o.report)) return usage_error("--report needs a FILE");
    } else if (a == "--baseline") {
      if (!value(o.baseline)) return usage_error("--baseline needs a FILE");
    } else {
      return usage_error("unknown argument '" + a + "'");
    }
  }
  if (o.scenarios.empty()) return usage_error("give at least one --scenario PATH");
  if (o.seed && o.seeds) return usage_error("give --seed or --seeds, not both");

  // A folder stands for its *.yaml files, in name order.
  std::vector<std::string> paths;
  for (const auto& p : o.scenarios) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) in_dir.push_back(e.path().string());
      }
      std::sort(in_dir.begin(), in_dir.end());
      paths.insert(paths.end(), in_dir.begin(), in_dir.end());
    } else {
      paths.push_back(p);
    }
  }
  std::vector<conform::ScenarioFile> files;
  std::vector<std::string> errors;
  for (const auto& p : paths)
    if (auto f = conform::load_scenario_file(p, errors)) files.push_back(std::move(*f));
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << e << '\n';
    return kExitUsage;
  }
  if (files.empty()) return usage_error("no scenario files found");

  // The gateway's own logs would drown the report.
  log::LoggerOptions quiet;
  quiet.level = log::Level::error;
  quiet.sink = stderr;
  log::configure(quiet);

  std::vector<conform::ScenarioRuns> runs;
  if (!run_all(files, o.config, o, runs)) return kExitUsage;
  std::vector<conform::ScenarioRuns> baseline;
  if (!o.baseline.empty() && !run_all(files, o.baseline, o, baseline)) return kExitUsage;

  std::cout << conform::format_table(runs);
  bool all_passed = true;
  for (const auto& r : runs) {
    if (r.passed()) continue;
    all_passed = false;
    std::cout << '\n' << conform::format_failure(r);
  }
  if (!baseline.empty()) {
    const std::string current = o.config.empty() ? "(each scenario's config)" : o.config;
    std::cout << '\n' << conform::baseline_diff(baseline, runs, o.baseline, current);
  }
  if (!o.report.empty()) {
    std::ofstream rep(o.report, std::ios::binary | std::ios::trunc);
    rep << conform::junit_xml(runs, "llmproxy.conform");
    if (!rep) {
      std::cerr << "llmproxy conform: cannot write " << o.report << '\n';
      return kExitProblems;
    }
  }
  std::size_t cases = 0, failed = 0;
  for (const auto& r : runs)
    for (const auto& c : r.cases) {
      ++cases;
      failed += c.passed() ? 0 : 1;
    }
  std::cout << '\n' << (cases - failed) << " of " << cases << " runs passed\n";
  return all_passed ? kExitOk : kExitProblems;
}

}  // namespace llmproxy::app
