#include "conformance/scenario/scenario_run.h"

#include <gtest/gtest.h>

#include "conformance/scenario/report.h"

namespace llmproxy::conform {
namespace {

using namespace std::chrono_literals;

shell::ShellConfig two_backends() {
  shell::ShellConfig c;
  for (const char* name : {"one", "two"}) {
    shell::BackendTarget b;
    b.name = name;
    b.host = std::string("10.9.0.") + (name[0] == 'o' ? "1" : "2");
    b.port = 8000;
    b.host_header = b.host + ":8000";
    b.timeout = 30s;
    b.connect_timeout = 2s;
    c.backends.push_back(b);
  }
  return c;
}

ScenarioFile scenario(const std::string& text) {
  std::vector<std::string> errors;
  auto f = load_scenario_text(text, "t.yaml", errors);
  EXPECT_TRUE(f) << (errors.empty() ? "" : errors.front());
  return f ? *f : ScenarioFile{};
}

TEST(ScenarioRun, FindsBackendsByNameOrUrl) {
  const auto c = two_backends();
  EXPECT_EQ(find_backend(c, "two"), 1u);
  EXPECT_EQ(find_backend(c, "http://10.9.0.1:8000"), 0u);
  EXPECT_EQ(find_backend(c, "http://10.9.0.2:8000/v1"), 1u);
  EXPECT_EQ(find_backend(c, "three"), 2u);
}

TEST(ScenarioRun, BuildsTheWorkloadAndFakes) {
  const auto f = scenario(R"(
name: s
backends:
  two: {profile: {ttft: 1s}, faults: [{from: 1s, to: 2s, fault: "status=503"}]}
  nowhere: {}
workload: {requests: 4, start: 1s, interval: 250ms, stream: true, api_keys: [a, b]}
)");
  std::vector<std::string> problems;
  const auto sc = build_scenario(f, two_backends(), 7, problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("backend 'nowhere' is not in the config"), std::string::npos);
  EXPECT_TRUE(sc.backends_from_config);
  ASSERT_EQ(sc.fakes.size(), 2u);
  EXPECT_EQ(sc.fakes[1].profile.ttft, 1s);
  EXPECT_EQ(sc.fakes[1].faults.size(), 1u);
  EXPECT_TRUE(sc.fakes[0].faults.empty());
  ASSERT_EQ(sc.requests.size(), 4u);
  EXPECT_EQ(sc.requests[3].at, 1750ms);
  EXPECT_TRUE(sc.requests[2].stream);
  EXPECT_EQ(sc.requests[1].headers, "Authorization: Bearer b\r\n");
}

TEST(ScenarioRun, HealthyBackendsPass) {
  const auto f = scenario(R"(
name: healthy
workload: {requests: 10, interval: 50ms, stream: 0.5}
expect:
  status: {200: "1.0"}
  outcomes: {completed: 10}
  attempts_per_request_max: 1
  backend_share: {one: 0.5, two: 0.5}
  upstream_requests_max: {one: 5}
)");
  const auto r = run_case(f, two_backends(), 3);
  for (const auto& x : r.failures) ADD_FAILURE() << x.check << " " << x.request_id << " " << x.detail;
  EXPECT_EQ(r.metrics.requests, 10u);
  EXPECT_EQ(r.metrics.ok, 10u);
  EXPECT_EQ(r.metrics.served_by.at("one"), 5u);
}

TEST(ScenarioRun, AFailureNamesTheRequestAndTracesIt) {
  const auto f = scenario(R"(
name: outage
backends:
  one: {faults: [{from: 0s, to: 10s, fault: "status=503"}]}
  two: {faults: [{from: 0s, to: 10s, fault: "status=503"}]}
workload: {requests: 4, interval: 100ms}
expect:
  status: {200: "1.0"}
  failover_within: 1s
)");
  const auto r = run_case(f, two_backends(), 1);
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.failures[0].check, "expect.status.200: 1.0");
  EXPECT_EQ(r.failures[0].request_id, "req-0");
  EXPECT_NE(r.trace.find("attempt 1: one (10.9.0.1:8000)"), std::string::npos) << r.trace;
  EXPECT_NE(r.trace.find("status 503"), std::string::npos) << r.trace;
  ASSERT_TRUE(r.metrics.failover);
  EXPECT_EQ(*r.metrics.failover, Duration::max());
  bool failover_failed = false;
  for (const auto& x : r.failures) failover_failed |= x.check == "expect.failover_within: 1.000s";
  EXPECT_TRUE(failover_failed);

  ScenarioRuns runs;
  runs.name = "outage";
  runs.path = "t.yaml";
  runs.cases.push_back(r);
  runs.replay = [](std::uint64_t s) { return "replay-me " + std::to_string(s); };
  EXPECT_NE(format_failure(runs).find("replay: replay-me 1"), std::string::npos);
  EXPECT_NE(format_table({runs}).find("FAIL"), std::string::npos);
  const std::string xml = junit_xml({runs}, "suite");
  EXPECT_NE(xml.find("<failure message=\"expect.status.200: 1.0 [req-0]\">"), std::string::npos) << xml;
}

TEST(ScenarioRun, SameSeedSameRun) {
  const auto f = scenario(R"(
name: noisy
backends:
  one: {request_fault: "p=0.5,status=500"}
workload: {requests: 20, interval: 10ms, stream: 0.5}
)");
  const auto a = run_case(f, two_backends(), 11);
  const auto b = run_case(f, two_backends(), 11);
  EXPECT_EQ(a.metrics.status, b.metrics.status);
  EXPECT_EQ(a.metrics.latencies, b.metrics.latencies);
}

}  // namespace
}  // namespace llmproxy::conform
