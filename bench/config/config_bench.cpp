// Loading and printing examples/full.yaml (every module): the cost of a
// check-config run or a SIGHUP reload, minus the file read.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "proxy/core/config/load.h"
#include "proxy/core/config/print.h"

namespace {

// $LLMPROXY_EXAMPLES_DIR, else ./examples (run from the repo root), else the
// examples beside this source file.
std::string examples_dir() {
  if (const char* d = std::getenv("LLMPROXY_EXAMPLES_DIR")) return d;
  if (std::filesystem::exists("examples/full.yaml")) return "examples";
  return (std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "examples").string();
}

std::string full_yaml() {
  std::ifstream in(examples_dir() + "/full.yaml", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::optional<std::string> no_env(std::string_view) { return std::nullopt; }

void BM_LoadFullExample(benchmark::State& state) {
  const std::string text = full_yaml();
  const std::string dir = examples_dir();
  for (auto _ : state) {
    auto r = llmproxy::config::load_config_string(text, "full.yaml", dir, no_env);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_LoadFullExample);

void BM_PrintFullExample(benchmark::State& state) {
  const auto r = llmproxy::config::load_config_string(full_yaml(), "full.yaml", examples_dir(), no_env);
  if (!r.config) {
    state.SkipWithError("full.yaml did not load");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(llmproxy::config::print_config(*r.config, true));
}
BENCHMARK(BM_PrintFullExample);

}  // namespace

BENCHMARK_MAIN();
