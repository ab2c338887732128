#include "conformance/scenario/scenario_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "conformance/harness/checks.h"
#include "conformance/harness/composition.h"
#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/random_scenario.h"
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

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A kept case, loaded back as conform loads it: the scenario file and its
// config(s), built through the composition root.
struct Reloaded {
  ScenarioFile file;
  std::shared_ptr<const server::Gateway> gateway, reload_to;
};
Reloaded keep_and_load(const harness::Scenario& sc, const std::string& name) {
  const std::string dir = ::testing::TempDir() + "kept-cases-" + name;
  std::string error;
  const auto kept = keep_case(sc, dir, name, "test", error);
  EXPECT_TRUE(kept) << error;
  Reloaded r;
  if (!kept) return r;
  std::vector<std::string> errors;
  const auto f = load_scenario_file(kept->scenario_path, errors);
  EXPECT_TRUE(f) << (errors.empty() ? "" : errors.front()) << "\n" << read_text(kept->scenario_path);
  if (!f) return r;
  r.file = *f;
  r.gateway = harness::simulated_gateway(read_text(f->config), f->config);
  if (f->reload) r.reload_to = harness::simulated_gateway(read_text(f->reload->config), f->reload->config);
  EXPECT_EQ(f->reload.has_value(), !kept->reload_config_path.empty());
  return r;
}

// Every request field a kept case writes reads back into the same client.
void expect_same_requests(const std::vector<harness::ClientRequest>& a,
                          const std::vector<harness::ClientRequest>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    EXPECT_EQ(a[i].at, b[i].at);
    EXPECT_EQ(a[i].stream, b[i].stream);
    EXPECT_EQ(a[i].ask_usage, b[i].ask_usage);
    EXPECT_EQ(a[i].prompt_words, b[i].prompt_words);
    EXPECT_EQ(a[i].max_tokens, b[i].max_tokens);
    EXPECT_EQ(a[i].fault, b[i].fault);
    EXPECT_EQ(a[i].method, b[i].method);
    EXPECT_EQ(a[i].path, b[i].path);
    EXPECT_EQ(a[i].model, b[i].model);
    EXPECT_EQ(a[i].headers, b[i].headers);
    EXPECT_EQ(a[i].cancel_after_bytes, b[i].cancel_after_bytes);
    EXPECT_EQ(a[i].cancel_after.value_or(harness::kClientGuard),
              b[i].cancel_after.value_or(harness::kClientGuard));
    EXPECT_EQ(a[i].split_at, b[i].split_at);
    EXPECT_EQ(a[i].split_pause, b[i].split_pause);
    // The harness ignores pipeline_partial on a split request; so does the file.
    EXPECT_EQ(a[i].pipeline_partial && !a[i].split_at, b[i].pipeline_partial);
  }
}

// The rate-limit and request-path properties' shape: backends from a config
// built through the composition root, limits passed as settings, a store
// 3 ms away shared by two gateway instances, read splitting. The kept case
// carries every field and replays as the same run.
TEST(ScenarioRun, AKeptCaseCarriesEveryNewField) {
  harness::Scenario sc;
  sc.seed = 99;
  sc.profile.output_tokens = 4;
  config::BackendConfig each;
  each.timeout = 60s;
  each.connect_timeout = 2s;
  config::Config cfg = harness::config_with_backends(2, each);
  cfg.server.drain_timeout = 800ms;
  cfg.server.workers = 2;
  harness::use_config(sc, cfg);
  sc.gateways = 2;
  sc.drain_at = 1200ms;
  sc.random_read_split = true;
  config::RateLimitConfig rl;
  rl.enabled = true;
  rl.global.requests_per_second = 2.5;
  rl.global.burst_size = 3;
  rl.per_key.requests_per_minute = 90;
  rl.per_key.max_concurrent = 2;
  rl.per_key.tokens_per_minute = 700;
  sc.rate_limit = rl;
  sc.limiter_latency = 3ms;
  for (int i = 0; i < 8; ++i) {
    harness::ClientRequest q;
    q.at = std::chrono::milliseconds(150 * i);
    q.stream = i % 2 == 1;
    q.max_tokens = static_cast<std::uint32_t>(i);
    q.headers = "Authorization: Bearer key" + std::to_string(i % 3) + "\r\nX-Two: a  b\r\n";
    q.cancel_after = harness::kClientGuard;
    if (i == 2) q.split_at = 0, q.split_pause = 1500ms;  // idle across the drain
    if (i == 3) q.split_at = 30, q.split_pause = 5ms;
    if (i == 4) q.pipeline_partial = true;
    if (i == 5) q.method = "GET", q.path = "/ready";
    if (i == 6) q.model = "no-such-model";
    sc.requests.push_back(q);
  }
  const Reloaded back = keep_and_load(sc, "every-field");
  ASSERT_TRUE(back.gateway);
  EXPECT_EQ(back.gateway->config().rate_limit, rl);  // written into the config
  std::vector<std::string> problems;
  const harness::Scenario replay = build_scenario(back.file, back.gateway, 99, nullptr, problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  expect_same_requests(sc.requests, replay.requests);
  EXPECT_EQ(replay.workers, 2);
  EXPECT_EQ(replay.gateways, 2);
  EXPECT_EQ(replay.drain_at, 1200ms);
  EXPECT_EQ(replay.gateway.drain_timeout, 800ms);
  EXPECT_EQ(replay.rate_limit, rl);
  EXPECT_EQ(replay.limiter_latency, 3ms);
  EXPECT_EQ(replay.random_read_split, true);
  // The same run: the same event log, so the same clients admitted,
  // refused and cut.
  const auto original = harness::run_gateway_sim(sc);
  const auto replayed = harness::run_gateway_sim(replay);
  EXPECT_EQ(original.event_log_hash, replayed.event_log_hash);
  ASSERT_EQ(original.clients.size(), replayed.clients.size());
  for (std::size_t i = 0; i < original.clients.size(); ++i)
    EXPECT_EQ(original.clients[i].response.status, replayed.clients[i].response.status) << "req-" << i;
  EXPECT_TRUE(harness::check_invariants(replay, replayed).empty());
}

// A kept case built through the composition root (llmproxy-sim's workers,
// redis, drain and reload kinds) replays as exactly the run it came from:
// the same event log, so the same failure.
TEST(ScenarioRun, AKeptCaseReplaysAsTheSameRun) {
  for (const std::uint64_t seed : {1, 2, 3, 4, 8, 9, 13, 14, 18, 19}) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (" +
                 harness::scenario_kind_name(harness::scenario_kind(seed)) + ")");
    const harness::Scenario sc = harness::random_scenario(seed);
    const Reloaded back = keep_and_load(sc, "seed-" + std::to_string(seed));
    ASSERT_TRUE(back.gateway);
    std::vector<std::string> problems;
    const harness::Scenario replay =
        build_scenario(back.file, back.gateway, *back.file.seed, back.reload_to, problems);
    ASSERT_TRUE(problems.empty()) << problems.front();
    expect_same_requests(sc.requests, replay.requests);
    EXPECT_EQ(replay.workers, sc.workers);
    EXPECT_EQ(replay.drain_at, sc.drain_at);
    EXPECT_EQ(replay.reload_at, sc.reload_at);
    const auto a = harness::run_gateway_sim(sc);
    const auto b = harness::run_gateway_sim(replay);
    EXPECT_EQ(a.event_log_hash, b.event_log_hash);
    EXPECT_EQ(harness::describe(harness::check_invariants(sc, a)),
              harness::describe(harness::check_invariants(replay, b)));
  }
}

// The routing properties' shape: a config drawn in code (retry, a fallback
// chain, a circuit breaker, health checks) run through the composition root,
// and backends with their own profiles and fault timelines.
harness::Scenario routing_case() {
  harness::Scenario sc;
  sc.seed = 4242;
  config::Config cfg;
  for (const char* name : {"b0", "b1", "b2"}) {
    config::BackendConfig b;
    b.name = name;
    b.url = std::string("http://") + name + ":8000";
    b.timeout = 60s;
    b.connect_timeout = 2s;
    b.first_byte_timeout = 400ms;
    cfg.backends.push_back(b);
  }
  auto& r = cfg.routing;
  r.load_balance = config::LoadBalance::least_conn;
  r.retry.enabled = true;
  r.retry.max_retries = 2;
  r.retry.initial_wait = 20ms;
  r.retry.max_wait = 300ms;
  r.retry.jitter = 0.3;
  r.fallback = {config::FallbackRule{"b0", {"b2", "b1"}, {}}};
  r.circuit_breaker.enabled = true;
  r.circuit_breaker.consecutive_failures = 2;
  r.circuit_breaker.cool_down = 700ms;
  r.circuit_breaker.max_cool_down = 3s;
  cfg.health_check.enabled = true;
  cfg.health_check.interval = 250ms;
  cfg.health_check.timeout = 100ms;
  cfg.health_check.unhealthy_threshold = 1;
  cfg.health_check.healthy_threshold = 2;
  harness::use_config(sc, cfg);
  const char* faults[3][2] = {{"to=1200ms,status=503", "from=2s,to=2700ms,reset_before_headers"},
                              {"p=0.4,status=429,retry_after=1", "from=1s,to=2500ms,health=down"},
                              {"from=500ms,to=1s,hang", "p=0.5,stall_after=2,for=150ms"}};
  for (std::size_t i = 0; i < 3; ++i) {
    harness::FakeBackend fb;
    fb.profile.ttft = std::chrono::milliseconds(10 + 15 * i);
    fb.profile.itl = 3ms;
    fb.profile.output_tokens = 6;
    fb.profile.max_concurrency = i == 1 ? 2 : 0;
    for (const char* text : faults[i]) {
      fake::FaultWindow w;
      std::string error;
      EXPECT_TRUE(fake::parse_fault_window(text, w, error)) << text << ": " << error;
      fb.faults.push_back(w);
    }
    sc.fakes.push_back(fb);
  }
  for (int i = 0; i < 24; ++i) {
    harness::ClientRequest q;
    q.at = std::chrono::milliseconds(130 * i);
    q.stream = i % 2 == 0;
    q.cancel_after = harness::kClientGuard;
    if (i % 7 == 3) q.cancel_after_bytes = 60;
    sc.requests.push_back(q);
  }
  return sc;
}

// A kept routing case carries its config and every backend's profile and
// fault timeline, so it replays as exactly the run it came from.
TEST(ScenarioRun, AKeptRoutingCaseReplaysAsTheSameRun) {
  const harness::Scenario sc = routing_case();
  // The kept config is what was drawn: the changed sections only.
  for (const char* section : {"backends:", "routing:", "health_check:"})
    EXPECT_NE(("\n" + sc.config_yaml).find(std::string("\n") + section), std::string::npos) << section;
  EXPECT_EQ(sc.config_yaml.find("server:"), std::string::npos) << sc.config_yaml;
  const Reloaded back = keep_and_load(sc, "routing");
  ASSERT_TRUE(back.gateway);
  EXPECT_EQ(back.gateway->config().routing, harness::simulated_gateway(sc.config_yaml)->config().routing);
  EXPECT_EQ(back.gateway->config().health_check.interval, 250ms);
  std::vector<std::string> problems;
  const harness::Scenario replay = build_scenario(back.file, back.gateway, *back.file.seed, nullptr, problems);
  ASSERT_TRUE(problems.empty()) << problems.front();
  ASSERT_EQ(replay.fakes.size(), sc.fakes.size());
  for (std::size_t i = 0; i < sc.fakes.size(); ++i) {
    SCOPED_TRACE("backend b" + std::to_string(i));
    EXPECT_EQ(replay.fakes[i].faults, sc.fakes[i].faults);
    EXPECT_EQ(replay.fakes[i].profile.ttft, sc.fakes[i].profile.ttft);
    EXPECT_EQ(replay.fakes[i].profile.max_concurrency, sc.fakes[i].profile.max_concurrency);
  }
  expect_same_requests(sc.requests, replay.requests);
  const auto a = harness::run_gateway_sim(sc);
  const auto b = harness::run_gateway_sim(replay);
  EXPECT_EQ(a.event_log_hash, b.event_log_hash);
  // The faults did bite: requests were retried or fell back, and the open
  // circuit or the health checks turned some away without an attempt.
  std::size_t several = 0, none = 0;
  for (const auto& rec : a.records) {
    several += rec.attempt_log.size() > 1;
    none += rec.attempt_log.empty();
  }
  EXPECT_GT(several, 0u);
  EXPECT_GT(none, 0u);
  EXPECT_EQ(harness::describe(harness::check_invariants(sc, a)),
            harness::describe(harness::check_invariants(replay, b)));
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
