// The gateway's request-path cost per request, in real (CPU) time, measured
// in the deterministic simulator so nothing but code runs: no kernel, no
// scheduler, no load generator competing for the two cores.
//
//   request_path/direct/...   clients talk to the fake backend directly
//   request_path/relay/...    through a dumb byte relay: one more simulated
//                             hop, no HTTP work (what the hop itself costs)
//   request_path/gateway/...  through the real shell::Worker
//
// Each iteration is a batch of 128 requests (16-token answers, ttft = itl = 0)
// over keep-alive connections held by 1 or 16 clients, as wrk holds its
// connections. gateway minus direct is the gateway's cost per request plus
// the simulated hop; gateway minus relay is the gateway's own work.
// Counters: requests/s (CPU time), and its inverse cpu/request.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/request_path/test_bed.h"

namespace {

using llmproxy::bench::BatchResult;
using llmproxy::bench::Path;
using llmproxy::bench::TestBed;

constexpr std::size_t kBatch = 128;

void request_path(benchmark::State& state, Path path, bool stream, std::size_t clients) {
  llmproxy::fake::Profile profile;
  profile.ttft = llmproxy::Duration{0};
  profile.itl = llmproxy::Duration{0};
  profile.output_tokens = 16;
  TestBed bed(path, profile, clients);
  const std::string request = llmproxy::bench::chat_request(stream);
  const std::size_t per_client = kBatch / clients;

  // One batch before timing: the gateway's upstream pool fills, buffers grow.
  BatchResult warm = bed.run_batch(request, per_client);
  if (warm.failed) {
    state.SkipWithError("requests failed during warm-up");
    return;
  }
  std::size_t ok = 0, failed = 0, bytes = 0;
  for (auto _ : state) {
    const BatchResult r = bed.run_batch(request, per_client);
    ok += r.ok;
    failed += r.failed;
    bytes += r.body_bytes;
  }
  if (failed) state.SkipWithError("some requests failed");
  const auto requests = static_cast<double>(ok + failed);
  state.SetItemsProcessed(static_cast<std::int64_t>(ok + failed));
  state.counters["requests/s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["cpu/request"] =
      benchmark::Counter(requests, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["body_B/request"] = requests > 0 ? static_cast<double>(bytes) / requests : 0;
}

const bool registered = [] {
  for (Path path : {Path::direct, Path::relay, Path::gateway}) {
    for (bool stream : {false, true}) {
      for (std::size_t clients : {std::size_t{1}, std::size_t{16}}) {
        const std::string name = std::string("request_path/") + llmproxy::bench::to_string(path) +
                                 (stream ? "/stream" : "/nonstream") +
                                 "/clients:" + std::to_string(clients);
        benchmark::RegisterBenchmark(name.c_str(),
                                     [=](benchmark::State& s) {
                                       request_path(s, path, stream, clients);
                                     })
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
