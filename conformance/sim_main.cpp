// llmproxy-sim: runs the gateway's real request path in the simulator on
// scenarios drawn from seeds, checks the invariants, and prints for every
// failing seed the one command that replays it.
//
//   llmproxy-sim --seed 42                 one scenario, verbose
//   llmproxy-sim --seeds 500 [--from 1]    many scenarios, one line each
//   llmproxy-sim --seed 42 --check-determinism
//                                          run twice, report the first
//                                          divergent event if any
//   --max-requests N                       workload size (default 9)
//   --hashes                               one line per seed with its event-log
//                                          hash, to compare separate processes
//                                          (scripts/check-determinism does)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "conformance/harness/checks.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/random_scenario.h"
#include "proxy/core/log/log.h"
#include "sim/event_log.h"
#include "sim/world.h"

using namespace llmproxy;

namespace {

int usage() {
  std::fputs(
      "usage: llmproxy-sim (--seed S | --seeds N [--from S]) [--check-determinism]\n"
      "                    [--max-requests N] [--verbose] [--hashes]\n",
      stderr);
  return 2;
}

bool parse_u64(const char* s, std::uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(s, &end, 10);
  return end && *end == '\0' && end != s;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 0, seeds = 0, from = 1, max_requests = 9;
  bool have_seed = false, determinism = false, verbose = false, hashes = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&](std::uint64_t& v) { return i + 1 < argc && parse_u64(argv[++i], v); };
    if (a == "--seed" && next(seed)) {
      have_seed = true;
    } else if (a == "--seeds" && next(seeds)) {
    } else if (a == "--from" && next(from)) {
    } else if (a == "--max-requests" && next(max_requests)) {
    } else if (a == "--check-determinism") {
      determinism = true;
    } else if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else if (a == "--hashes") {
      hashes = true;
    } else {
      return usage();
    }
  }
  if (have_seed == (seeds > 0) || max_requests == 0) return usage();
  if (have_seed) {
    from = seed;
    seeds = 1;
    verbose = true;
  }
  if (!verbose) {
    log::LoggerOptions quiet;
    quiet.level = log::Level::error;
    log::configure(quiet);
  }

  std::uint64_t failed = 0;
  for (std::uint64_t s = from; s < from + seeds; ++s) {
    const auto sc = harness::random_scenario(s, static_cast<int>(max_requests));
    std::string problem;
    try {
      const auto out = harness::run_gateway_sim(sc);
      const auto v = harness::check_invariants(sc, out);
      if (!v.empty()) problem = harness::describe(v);
      if (determinism && problem.empty()) {
        sim::WorldOptions o;
        o.seed = s;
        const auto report = sim::check_determinism(
            o, [&](sim::World& w) { harness::run_gateway_sim_in(w, sc); });
        if (!report.deterministic) problem = "  not deterministic:\n" + report.describe() + "\n";
      }
      if (hashes)
        std::printf("seed %llu hash %s\n", static_cast<unsigned long long>(s),
                    out.event_log_hash.c_str());
      else if (verbose || !problem.empty())
        std::printf("seed %llu: %s, %zu requests, %zu records, event log %s\n",
                    static_cast<unsigned long long>(s), problem.empty() ? "ok" : "FAILED",
                    sc.requests.size(), out.records.size(), out.event_log_hash.c_str());
    } catch (const std::exception& e) {
      problem = std::string("  the run failed: ") + e.what() + "\n";
      std::printf("seed %llu: FAILED\n", static_cast<unsigned long long>(s));
    }
    if (!problem.empty()) {
      ++failed;
      std::printf("%s", harness::describe(sc).c_str());
      std::printf("%s", problem.c_str());
      std::printf("replay: %s --seed %llu%s\n", argv[0], static_cast<unsigned long long>(s),
                  determinism ? " --check-determinism" : "");
    }
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(seeds - failed),
              static_cast<unsigned long long>(failed));
  return failed == 0 ? 0 : 1;
}
