#include "sim/event_log.h"

#include <gtest/gtest.h>

#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::sim {
namespace {

using namespace std::chrono_literals;

TimePoint at(Duration d) { return TimePoint{} + d; }

TEST(EventLog, RenderingIsStable) {
  EventLog log;
  log.add(at(1500ms) + 7ns, "gateway", "connect", "backend-1:8000");
  log.add(at(0s), "world", "start", "");
  EXPECT_EQ(log.render(),
            "1.500000007 gateway connect backend-1:8000\n"
            "0.000000000 world start\n");
  EXPECT_EQ(log.size(), 2u);
}

TEST(EventLog, HashFollowsContentAndOrder) {
  EventLog a, b, c, hashed_only(false);
  for (EventLog* l : {&a, &b, &hashed_only}) {
    l->add(at(1s), "h", "x", "1");
    l->add(at(2s), "h", "y", "2");
  }
  c.add(at(2s), "h", "y", "2");
  c.add(at(1s), "h", "x", "1");
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(a.hash(), hashed_only.hash());
  EXPECT_TRUE(hashed_only.records().empty());
  EXPECT_NE(a.hash(), c.hash());
  EXPECT_EQ(hex64(0xabcULL), "0000000000000abc");
}

// A small echo workload whose timing depends on the hosts' seeded generators.
env::Task<void> echo_server(SimEnv& env, env::Acceptor& acceptor) {
  for (;;) {
    error_code ec;
    auto stream = co_await acceptor.accept(ec);
    if (ec) co_return;
    char buf[256];
    const std::size_t n = co_await stream->read_some(asio::buffer(buf), kNoDeadline, ec);
    if (ec) continue;
    co_await env.sleep_for(std::chrono::microseconds(env.rng().below(5000)), ec);
    co_await stream->write(asio::buffer(buf, n), kNoDeadline, ec);
  }
}

env::Task<void> client(SimEnv& env, int requests) {
  for (int i = 0; i < requests; ++i) {
    error_code ec;
    co_await env.sleep_for(std::chrono::microseconds(env.rng().below(20000)), ec);
    auto stream = co_await env.connect("server", 80, env.now() + 1s, ec);
    if (ec) continue;
    const std::string msg = "request " + std::to_string(i);
    co_await stream->write(asio::buffer(msg), kNoDeadline, ec);
    char buf[256];
    co_await stream->read_some(asio::buffer(buf), env.now() + 1s, ec);
    env.world().record(env.name(), "client-done", ec ? ec.message() : "ok");
  }
}

void echo_scenario(World& world) {
  world.network().set_jitter(300us);
  world.network().stream_options().random_read_split = true;
  SimEnv server(world, "server");
  SimEnv c1(world, "client-1");
  SimEnv c2(world, "client-2");
  error_code ec;
  auto acceptor = server.listen("", 80, false, ec);
  world.spawn(echo_server(server, *acceptor));
  world.spawn(client(c1, 20));
  world.spawn(client(c2, 20));
  world.network().at(at(100ms), [](Network& n) { n.set_host_fault("server", Fault::refuse); });
  world.network().at(at(150ms), [](Network& n) { n.set_host_fault("server", Fault::none); });
  world.run_until(at(10s));
  acceptor->close();
  world.run_until_idle();
}

TEST(Determinism, SameSeedSameLog) {
  const DeterminismReport report = check_determinism(WorldOptions{.seed = 11}, echo_scenario);
  EXPECT_TRUE(report.deterministic) << report.describe();
  EXPECT_GT(report.records_first, 100u);
  std::printf("%s\n", report.describe().c_str());
}

TEST(Determinism, DifferentSeedsDiffer) {
  World a(WorldOptions{.seed = 1});
  echo_scenario(a);
  World b(WorldOptions{.seed = 2});
  echo_scenario(b);
  EXPECT_NE(a.log().hash(), b.log().hash());
}

TEST(Determinism, ReportsTheFirstDivergentEvent) {
  int run = 0;
  const auto leaky = [&run](World& world) {
    ++run;  // state outside the world: the classic determinism bug
    world.record("world", "a");
    world.schedule(at(1s), [&world, r = run] { world.record("world", "b", r == 1 ? "x" : "y"); });
    world.schedule(at(2s), [&world] { world.record("world", "c"); });
    world.run_until_idle();
  };
  const DeterminismReport report = check_determinism(WorldOptions{.seed = 3}, leaky);
  EXPECT_FALSE(report.deterministic);
  ASSERT_TRUE(report.first_divergence.has_value());
  EXPECT_EQ(*report.first_divergence, 1u);
  EXPECT_EQ(report.line_first, "1.000000000 world b x\n");
  EXPECT_EQ(report.line_second, "1.000000000 world b y\n");
  EXPECT_NE(report.describe().find("first divergent event #1"), std::string::npos);
}

}  // namespace
}  // namespace llmproxy::sim
