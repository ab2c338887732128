#include "sim/sim_env.h"

#include <gtest/gtest.h>

#include "sim/sim_test_util.h"

namespace llmproxy::sim {
namespace {

using namespace std::chrono_literals;
using testing::OpResult;
using testing::read_once;
using testing::write_once;

TimePoint at(Duration d) { return TimePoint{} + d; }

struct ConnectResult {
  bool done = false;
  error_code ec;
  TimePoint at{};
  std::unique_ptr<env::Stream> stream;
};

env::Task<void> connect_to(SimEnv& env, std::string host, std::uint16_t port,
                           TimePoint deadline, ConnectResult& r) {
  World& world = env.world();
  r.stream = co_await env.connect(host, port, deadline, r.ec);
  r.at = world.now();  // env may be gone by now
  r.done = true;
}

env::Task<void> accept_one(SimEnv& env, env::Acceptor& acceptor, ConnectResult& r) {
  r.stream = co_await acceptor.accept(r.ec);
  r.at = env.now();
  r.done = true;
}

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override { world.network().set_default_latency(2ms); }
  World world{5};
  SimEnv client{world, "client"};
  SimEnv server{world, "backend-1"};
};

TEST_F(EnvTest, ConnectAcceptAndTalk) {
  error_code ec;
  auto acceptor = server.listen("0.0.0.0", 8000, false, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(acceptor->port(), 8000);
  ConnectResult conn, acc;
  world.spawn(connect_to(client, "backend-1", 8000, kNoDeadline, conn));
  world.spawn(accept_one(server, *acceptor, acc));
  world.run_until_idle();
  ASSERT_FALSE(conn.ec);
  ASSERT_FALSE(acc.ec);
  EXPECT_EQ(acc.at, at(2ms));   // SYN arrival
  EXPECT_EQ(conn.at, at(4ms));  // one round trip
  EXPECT_EQ(conn.stream->remote_address(), "10.0.0.2:8000");
  EXPECT_EQ(acc.stream->remote_ip(), client.ip());

  OpResult w, r;
  world.spawn(write_once(world, *conn.stream, "ping", kNoDeadline, w));
  world.spawn(read_once(world, *acc.stream, 16, kNoDeadline, r));
  world.run_until_idle();
  EXPECT_EQ(r.data, "ping");
}

TEST_F(EnvTest, ConnectByIpAndLocalhost) {
  error_code ec;
  auto acceptor = server.listen("", 9000, false, ec);
  ConnectResult by_ip, local;
  world.spawn(connect_to(client, server.ip(), 9000, kNoDeadline, by_ip));
  world.spawn(connect_to(server, "localhost", 9000, kNoDeadline, local));
  world.run_until_idle();
  EXPECT_FALSE(by_ip.ec);
  EXPECT_FALSE(local.ec);
  EXPECT_EQ(acceptor->port(), 9000);
}

TEST_F(EnvTest, NoListenerIsRefusedAfterOneRoundTrip) {
  ConnectResult r;
  world.spawn(connect_to(client, "backend-1", 1234, kNoDeadline, r));
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::connection_refused);
  EXPECT_EQ(r.at, at(4ms));
  EXPECT_EQ(r.stream, nullptr);
}

TEST_F(EnvTest, UnknownHostIsNotFound) {
  ConnectResult r;
  world.spawn(connect_to(client, "nowhere.example", 80, kNoDeadline, r));
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::host_not_found);
  EXPECT_EQ(r.at, at(0s));
}

TEST_F(EnvTest, ConnectWithAPassedDeadlineFailsAtOnce) {
  error_code ec;
  auto acceptor = server.listen("", 8000, false, ec);
  world.run_for(1s);
  ConnectResult r;
  world.spawn(connect_to(client, "backend-1", 8000, at(1s), r));
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::timed_out);
  EXPECT_EQ(r.at, at(1s));
  EXPECT_EQ(static_cast<SimAcceptor*>(acceptor.get())->backlog(), 0u);
}

TEST_F(EnvTest, PortZeroAllocatesAndReusePortSharesRoundRobin) {
  error_code ec;
  auto a0 = server.listen("", 0, false, ec);
  ASSERT_FALSE(ec);
  auto a1 = server.listen("", 0, false, ec);
  EXPECT_NE(a0->port(), a1->port());

  auto first = server.listen("", 7000, true, ec);
  ASSERT_FALSE(ec);
  auto second = server.listen("", 7000, true, ec);
  ASSERT_FALSE(ec);
  auto third = server.listen("", 7000, false, ec);
  EXPECT_EQ(ec, asio::error::address_in_use);
  EXPECT_EQ(third, nullptr);
  auto other = server.listen("client", 7000, false, ec);  // not our address
  EXPECT_TRUE(ec);

  ConnectResult c1, c2, c3;
  world.spawn(connect_to(client, "backend-1", 7000, kNoDeadline, c1));
  world.spawn(connect_to(client, "backend-1", 7000, kNoDeadline, c2));
  world.spawn(connect_to(client, "backend-1", 7000, kNoDeadline, c3));
  world.run_until_idle();
  auto* f = static_cast<SimAcceptor*>(first.get());
  auto* s = static_cast<SimAcceptor*>(second.get());
  EXPECT_EQ(f->backlog(), 2u);
  EXPECT_EQ(s->backlog(), 1u);
}

TEST_F(EnvTest, ClosingTheAcceptorAbortsAcceptsResetsBacklogAndRefusesLater) {
  error_code ec;
  auto acceptor = server.listen("", 8000, false, ec);
  ConnectResult queued, acc;
  world.spawn(connect_to(client, "backend-1", 8000, kNoDeadline, queued));
  world.run_until_idle();
  ASSERT_FALSE(queued.ec);
  OpResult r;
  world.spawn(read_once(world, *queued.stream, 16, kNoDeadline, r));
  acceptor->close();
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::connection_reset);

  world.spawn(accept_one(server, *acceptor, acc));
  world.run_until_idle();
  EXPECT_EQ(acc.ec, asio::error::bad_descriptor);

  ConnectResult later;
  world.spawn(connect_to(client, "backend-1", 8000, kNoDeadline, later));
  world.run_until_idle();
  EXPECT_EQ(later.ec, asio::error::connection_refused);

  // A pending accept ends with operation_aborted on close.
  auto again = server.listen("", 8000, false, ec);
  ASSERT_FALSE(ec);
  ConnectResult pending;
  world.spawn(accept_one(server, *again, pending));
  world.schedule_after(1s, [&] { again->close(); });
  world.run_until_idle();
  EXPECT_EQ(pending.ec, asio::error::operation_aborted);
}

TEST_F(EnvTest, ClocksAndRngAreVirtualAndSeeded) {
  EXPECT_EQ(client.now(), at(0s));
  world.run_for(3s);
  EXPECT_EQ(client.now(), at(3s));
  EXPECT_EQ(client.wall_now(), WorldOptions{}.wall_epoch + 3s);
  World other(5);
  SimEnv same_name(other, "client");
  EXPECT_EQ(client.rng().next(), same_name.rng().next());
  EXPECT_NE(client.rng().next(), server.rng().next());
}

TEST_F(EnvTest, SleepForUsesTheVirtualClock) {
  TimePoint woke{};
  auto body = [&]() -> env::Task<void> {
    error_code ec;
    co_await client.sleep_for(250ms, ec);
    woke = client.now();
  };
  world.spawn(body());
  world.run_until_idle();
  EXPECT_EQ(woke, at(250ms));
}

TEST_F(EnvTest, DestroyingAnEnvAbortsItsPendingConnects) {
  auto doomed = std::make_unique<SimEnv>(world, "client-9");
  world.network().set_host_fault("backend-1", Fault::hang);
  ConnectResult r;
  world.spawn(connect_to(*doomed, "backend-1", 80, kNoDeadline, r));
  world.run_for(1s);
  EXPECT_FALSE(r.done);
  doomed.reset();
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
}

}  // namespace
}  // namespace llmproxy::sim
