#include "conformance/scenario/scenario_file.h"

#include <gtest/gtest.h>

namespace llmproxy::conform {
namespace {

using namespace std::chrono_literals;

std::optional<ScenarioFile> load(const std::string& text, std::vector<std::string>& errors) {
  return load_scenario_text(text, "dir/s.yaml", errors);
}

TEST(ScenarioFile, ReadsEveryPart) {
  std::vector<std::string> errors;
  const auto f = load(R"(
name: flapping
description: d
config: ../examples/x.yaml
seeds: 4
default_backend: {ttft: 20ms, itl: 5ms, output_tokens: 8}
backends:
  primary:
    profile: {ttft: 100ms, max_concurrency: 4}
    faults:
      - {from: 2s, to: 5s, fault: "status=503"}
      - "status=429,retry_after=1"
  "http://10.0.0.2:8000":
    request_fault: "p=0.5,status=500"
workload: {rate: 20, duration: 10s, stream: 0.5, model: m, api_keys: [k1, k2]}
expect:
  status: {200: ">= 0.99", 5xx: 0, other: "<= 1%"}
  attempts_per_request_max: 4
  backend_share: {primary: 0.5}
  share_tolerance: 0.1
  upstream_requests_max: {primary: 100}
  failover_within: 1s
  no_done_on_truncated: true
)",
                      errors);
  ASSERT_TRUE(f) << (errors.empty() ? "" : errors.front());
  EXPECT_EQ(f->name, "flapping");
  EXPECT_EQ(f->config, "examples/x.yaml");
  EXPECT_EQ(f->seeds, 4u);
  ASSERT_EQ(f->backends.size(), 2u);
  EXPECT_EQ(f->backends[0].key, "primary");
  EXPECT_EQ(f->backends[0].profile.ttft, 100ms);
  EXPECT_EQ(f->backends[0].profile.itl, 5ms);  // from default_backend
  EXPECT_EQ(f->backends[0].profile.max_concurrency, 4u);
  ASSERT_EQ(f->backends[0].faults.size(), 2u);
  EXPECT_EQ(f->backends[0].faults[0].from, 2s);
  EXPECT_EQ(f->backends[0].faults[0].to, 5s);
  EXPECT_EQ(f->backends[0].faults[0].spec.status, 503);
  EXPECT_EQ(f->backends[0].faults[1].to, Duration::max());
  EXPECT_EQ(f->backends[1].faults.at(0).spec.probability, 0.5);
  EXPECT_EQ(f->workload.requests, 200u);
  EXPECT_EQ(f->workload.interval, 50ms);
  EXPECT_EQ(f->workload.stream, 0.5);
  EXPECT_EQ(f->workload.api_keys.size(), 2u);
  const auto& st = f->expect.status;
  EXPECT_TRUE(st.at("200").ratio);
  EXPECT_EQ(st.at("200").op, Bound::Op::ge);
  EXPECT_FALSE(st.at("5xx").ratio);
  EXPECT_TRUE(st.at("other").ratio);
  EXPECT_DOUBLE_EQ(st.at("other").value, 0.01);
  EXPECT_EQ(f->expect.attempts_per_request_max, 4u);
  EXPECT_EQ(f->expect.failover_within, 1s);
}

TEST(ScenarioFile, ReadsTheProcessSignalsAndRequestShapes) {
  std::vector<std::string> errors;
  const auto f = load(R"(
name: drain-and-reload
workers: 3
gateways: 2
drain: {at: 1500ms}
reload: {at: 700ms, config: b.yaml}
shared_limiter: {latency: 2ms}
workload:
  each:
    - {at: 0ms, method: GET, path: /ready}
    - {at: 5ms, split_at: 40, split_pause: 1s, headers: ["Authorization: Bearer k1", "X-Odd:  two  spaces"]}
    - {at: 9ms, pipeline_partial: true, model: other-model, max_tokens: 12}
)",
                      errors);
  ASSERT_TRUE(f) << (errors.empty() ? "" : errors.front());
  EXPECT_EQ(f->workers, 3);
  EXPECT_EQ(f->gateways, 2);
  EXPECT_EQ(f->drain_at, 1500ms);
  ASSERT_TRUE(f->reload);
  EXPECT_EQ(f->reload->at, 700ms);
  EXPECT_EQ(f->reload->config, "dir/b.yaml");  // beside the scenario, as `config:`
  EXPECT_EQ(f->shared_limiter_latency, 2ms);
  const auto& e = f->workload.each;
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].method, "GET");
  EXPECT_EQ(e[0].path, "/ready");
  EXPECT_EQ(e[1].method, "POST");
  EXPECT_FALSE(e[1].path);  // workload.path
  EXPECT_EQ(e[1].split_at, 40u);
  EXPECT_EQ(e[1].split_pause, 1s);
  EXPECT_EQ(e[1].headers, (std::vector<std::string>{"Authorization: Bearer k1", "X-Odd:  two  spaces"}));
  EXPECT_TRUE(e[2].pipeline_partial);
  EXPECT_EQ(e[2].model, "other-model");
  EXPECT_EQ(e[2].max_tokens, 12u);
}

TEST(ScenarioFile, TheNewKeysAreCheckedStrictly) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load(R"(
name: x
workers: 0
drain: {after: 1s}
reload: {at: 1s}
shared_limiter: {}
workload:
  each:
    - {method: PUT, path: v1/x}
    - {headers: ["no colon here", "Bad Name: v"], split_pause: 1s}
    - {split_at: 3, pipeline_partial: true}
)",
                    errors));
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_NE(all.find(":3: workers must be an integer in [1, 64]"), std::string::npos) << all;
  EXPECT_NE(all.find(":4: unknown key 'after' in drain"), std::string::npos) << all;
  EXPECT_NE(all.find(":4: drain needs at"), std::string::npos) << all;
  EXPECT_NE(all.find(":5: reload needs at (the time of the SIGHUP) and config"), std::string::npos) << all;
  EXPECT_NE(all.find(":6: shared_limiter needs latency"), std::string::npos) << all;
  EXPECT_NE(all.find(":9: workload.each[].method must be GET or POST"), std::string::npos) << all;
  EXPECT_NE(all.find(":9: workload.each[].path must start with /"), std::string::npos) << all;
  EXPECT_NE(all.find(":10: workload.each[].headers[]: 'no colon here' is not a header line"), std::string::npos) << all;
  EXPECT_NE(all.find(":10: workload.each[].headers[]: 'Bad Name: v' is not a header line"), std::string::npos) << all;
  EXPECT_NE(all.find(":10: workload.each[]: split_pause needs split_at"), std::string::npos) << all;
  EXPECT_NE(all.find(":11: workload.each[]: give split_at or pipeline_partial, not both"), std::string::npos) << all;
}

TEST(ScenarioFile, UnknownKeysAreErrorsWithTheirLine) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load("name: x\nworkload:\n  requests: 3\n  rqeuests: 4\n", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("dir/s.yaml:4: unknown key 'rqeuests' in workload", 0), 0u) << errors[0];
}

TEST(ScenarioFile, BadValuesAreErrors) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load(R"(
name: x
backends:
  a: {faults: [{from: 2s, to: 1s, fault: "status=503"}], request_fault: "bogus=1"}
workload: {rate: 2, interval: 1s, stream: maybe}
expect: {status: {200: "about half"}, max_latency: soon}
)",
                    errors));
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_NE(all.find(":4: backends.a.faults[]: 'to' must be after 'from'"), std::string::npos) << all;
  EXPECT_NE(all.find(":4: backends.a.request_fault.fault: unknown fault key 'bogus'"), std::string::npos) << all;
  EXPECT_NE(all.find("workload.stream must be a number"), std::string::npos) << all;
  EXPECT_NE(all.find("give rate or interval, not both"), std::string::npos) << all;
  EXPECT_NE(all.find(":6: expect.status.200: 'about half' is not a bound"), std::string::npos) << all;
  EXPECT_NE(all.find("expect.max_latency must be a duration"), std::string::npos) << all;
}

// A bare timeline entry may carry its own window, in the form kept cases
// write (fake::print_fault_window); a request_fault is for the whole run.
TEST(ScenarioFile, BareTimelineEntriesMayCarryTheirWindow) {
  std::vector<std::string> errors;
  const auto f = load("name: w\nbackends:\n  a:\n    faults: [\"from=6s,to=7500ms,down\", \"to=1s,hang\"]\n",
                      errors);
  ASSERT_TRUE(f) << (errors.empty() ? "" : errors.front());
  ASSERT_EQ(f->backends.at(0).faults.size(), 2u);
  const auto& w = f->backends[0].faults[0];
  EXPECT_EQ(w.from, 6s);
  EXPECT_EQ(w.to, 7500ms);
  EXPECT_EQ(w.spec.health, fake::HealthMode::down);
  EXPECT_EQ(f->backends[0].faults[1].from, 0s);
  EXPECT_EQ(f->backends[0].faults[1].to, 1s);
  EXPECT_TRUE(f->backends[0].faults[1].spec.hang);
  errors.clear();
  EXPECT_FALSE(load("name: w\nbackends:\n  a: {request_fault: \"from=1s,hang\"}\n", errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.front().find("only allowed in a timeline window"), std::string::npos) << errors.front();
}

TEST(ScenarioFile, RepeatedKeysAreErrorsNotMerged) {
  // YAML keeps both copies; a second `expect:` must not quietly replace or
  // extend the first (found by fuzz/scenario_file).
  std::vector<std::string> errors;
  EXPECT_FALSE(load(R"(
name: x
seeds: 3
expect: {status: {200: "1.0"}}
seeds: 7
backends: {a: {}, a: {}}
expect: {status: {200: 0, 200: 1}}
)",
                    errors));
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_NE(all.find(":5: duplicate key 'seeds' in the scenario"), std::string::npos) << all;
  EXPECT_NE(all.find(":6: duplicate key 'a' in backends"), std::string::npos) << all;
  EXPECT_NE(all.find(":7: duplicate key 'expect' in the scenario"), std::string::npos) << all;
  EXPECT_EQ(errors.size(), 3u) << all;  // the repeated entries are not read at all
}

TEST(ScenarioFile, KeysMustBeNames) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load("name: x\nexpect: {status: {[200]: 1}}\n", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(":2: expect.status: keys must be plain names"), std::string::npos) << errors[0];
}

TEST(ScenarioFile, NeedsAName) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load("seeds: 2\n", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("needs a name"), std::string::npos);
}

TEST(ScenarioFile, SyntaxErrorsNameTheLine) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load("name: x\nexpect: {status: [\n", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("dir/s.yaml:", 0), 0u);
}

TEST(Bound, CountsAndRatios) {
  Bound exact;
  exact.value = 3;
  EXPECT_TRUE(exact.holds(3, 10));
  EXPECT_FALSE(exact.holds(4, 10));
  Bound share;
  share.op = Bound::Op::ge;
  share.value = 0.9;
  share.ratio = true;
  EXPECT_TRUE(share.holds(9, 10));
  EXPECT_FALSE(share.holds(8, 10));
  Bound none;
  none.op = Bound::Op::le;
  EXPECT_TRUE(none.holds(0, 0));
}

}  // namespace
}  // namespace llmproxy::conform
