#include "conformance/scenario/scenario_run.h"

#include <gtest/gtest.h>

#include "conformance/scenario/case_writer.h"
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

// A failing property's case, kept as a scenario file, reads back as the
// same requests, faults, cancels, profile and seed (#11: shrunk failures
// kept automatically).
TEST(ScenarioRun, AKeptCaseReadsBackAsTheSameCase) {
  harness::Scenario sc;
  sc.seed = 123456789;
  sc.backends = 2;
  sc.profile.ttft = 7ms;
  sc.profile.itl = 1500us;
  sc.profile.output_tokens = 5;
  sc.backend_template.timeout = 60s;
  sc.backend_template.first_byte_timeout = 250ms;
  harness::ClientRequest a;
  a.at = 3ms;
  a.stream = true;
  a.ask_usage = true;
  a.prompt_words = 4;
  a.fault = "stall_after=1,for=700ms";
  a.cancel_after_bytes = 12;
  a.cancel_after = 10min;
  harness::ClientRequest b;
  b.at = 40ms;
  b.fault = "status=400,code=context_length_exceeded";
  b.cancel_after = 300ms;
  sc.requests = {a, b};

  const std::string config = case_config_yaml(sc);
  EXPECT_NE(config.find("url: http://backend-1:8000"), std::string::npos) << config;
  EXPECT_NE(config.find("first_byte_timeout: 250ms"), std::string::npos) << config;
  const auto f = scenario(case_scenario_yaml(sc, "kept", "kept.config.yaml", "a \"reason\""));
  ASSERT_TRUE(f.seed.has_value());
  EXPECT_EQ(*f.seed, 123456789u);
  EXPECT_EQ(f.default_profile.ttft, 7ms);
  EXPECT_EQ(f.default_profile.itl, 1500us);
  ASSERT_EQ(f.workload.each.size(), 2u);

  shell::ShellConfig gw;
  for (int i = 0; i < 2; ++i) {
    shell::BackendTarget t = sc.backend_template;
    t.name = "backend-" + std::to_string(i);
    t.host = t.name;
    t.port = 8000;
    t.host_header = t.name + ":8000";
    gw.backends.push_back(t);
  }
  std::vector<std::string> problems;
  const auto back = build_scenario(f, gw, *f.seed, problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(back.requests.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.requests[i].at, sc.requests[i].at);
    EXPECT_EQ(back.requests[i].stream, sc.requests[i].stream);
    EXPECT_EQ(back.requests[i].ask_usage, sc.requests[i].ask_usage);
    EXPECT_EQ(back.requests[i].prompt_words, sc.requests[i].prompt_words);
    EXPECT_EQ(back.requests[i].fault, sc.requests[i].fault);
    EXPECT_EQ(back.requests[i].cancel_after_bytes, sc.requests[i].cancel_after_bytes);
  }
  EXPECT_EQ(back.requests[1].cancel_after, 300ms);
  EXPECT_EQ(back.profile.output_tokens, 5u);
  // And it runs: this case holds every invariant.
  const CaseResult r = run_case(f, gw, *f.seed);
  EXPECT_TRUE(r.passed()) << (r.failures.empty() ? "" : r.trace);
}

TEST(ScenarioRun, EachExcludesTheCountedWorkload) {
  std::vector<std::string> errors;
  const auto f = load_scenario_text("name: s\nworkload: {requests: 3, each: [{at: 0ms}]}\n", "t.yaml",
                                    errors);
  EXPECT_FALSE(f);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.front().find("each lists the requests"), std::string::npos) << errors.front();
}

}  // namespace
}  // namespace llmproxy::conform
