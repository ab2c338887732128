#include "sim/network.h"

#include <gtest/gtest.h>

#include "sim/sim_env.h"
#include "sim/sim_test_util.h"

namespace llmproxy::sim {
namespace {

using namespace std::chrono_literals;
using testing::OpResult;
using testing::read_all;
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

env::Task<void> accept_one(env::Acceptor& acceptor, ConnectResult& r) {
  r.stream = co_await acceptor.accept(r.ec);
  r.done = true;
}

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world.network().set_default_latency(1ms);
    error_code ec;
    acceptor = server.listen("", 80, false, ec);
    ASSERT_FALSE(ec);
  }
  World world{9};
  SimEnv client{world, "client"};
  SimEnv server{world, "server"};
  std::unique_ptr<env::Acceptor> acceptor;
};

TEST_F(NetworkTest, RefuseFailsAfterOneRoundTrip) {
  world.network().set_host_fault("server", Fault::refuse);
  ConnectResult r;
  world.spawn(connect_to(client, "server", 80, kNoDeadline, r));
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::connection_refused);
  EXPECT_EQ(r.at, at(2ms));
}

TEST_F(NetworkTest, HangNeverCompletesSoTheDeadlineFires) {
  world.network().set_host_fault("server", Fault::hang);
  ConnectResult r, acc;
  world.spawn(connect_to(client, "server", 80, at(3s), r));
  world.spawn(accept_one(*acceptor, acc));
  world.run_until(at(10s));
  EXPECT_EQ(r.ec, asio::error::timed_out);
  EXPECT_EQ(r.at, at(3s));
  EXPECT_FALSE(acc.done);  // the listener never saw it
}

TEST_F(NetworkTest, BlackHoleConnectsButSwallowsEverything) {
  world.network().set_host_fault("server", Fault::black_hole);
  ConnectResult r, acc;
  world.spawn(connect_to(client, "server", 80, kNoDeadline, r));
  world.spawn(accept_one(*acceptor, acc));
  world.run_until(at(1s));
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.at, at(2ms));
  OpResult w, rd;
  world.spawn(write_once(world, *r.stream, std::string(1 << 20, 'x'), kNoDeadline, w));
  world.spawn(read_once(world, *r.stream, 64, at(5s), rd));
  world.run_until(at(10s));
  EXPECT_FALSE(w.ec);
  EXPECT_EQ(w.n, 1u << 20);
  EXPECT_EQ(rd.ec, asio::error::timed_out);
  EXPECT_EQ(rd.at, at(5s));
  EXPECT_FALSE(acc.done);
}

TEST_F(NetworkTest, PairFaultsTakePrecedenceAndCanBeCleared) {
  SimEnv other(world, "other");
  world.network().set_host_fault("server", Fault::refuse);
  world.network().set_pair_fault("other", "server", Fault::none);
  world.network().set_pair_fault("client", "server", Fault::hang);
  EXPECT_EQ(world.network().fault_for(client.host(), server.host()), Fault::hang);
  EXPECT_EQ(world.network().fault_for(other.host(), server.host()), Fault::refuse);
  world.network().set_pair_fault("client", "server", Fault::none);
  world.network().set_host_fault("server", Fault::none);
  EXPECT_EQ(world.network().fault_for(client.host(), server.host()), Fault::none);
}

TEST_F(NetworkTest, FaultChangesScheduledAtVirtualTimes) {
  world.network().at(at(1s), [](Network& n) { n.set_host_fault("server", Fault::refuse); });
  world.network().at(at(2s), [](Network& n) { n.set_host_fault("server", Fault::none); });
  ConnectResult before, during, after;
  world.spawn(connect_to(client, "server", 80, kNoDeadline, before));
  world.schedule(at(1500ms), [&] { world.spawn(connect_to(client, "server", 80, kNoDeadline, during)); });
  world.schedule(at(2500ms), [&] { world.spawn(connect_to(client, "server", 80, kNoDeadline, after)); });
  world.run_until_idle();
  EXPECT_FALSE(before.ec);
  EXPECT_EQ(during.ec, asio::error::connection_refused);
  EXPECT_FALSE(after.ec);
}

TEST_F(NetworkTest, PerPairLatency) {
  world.network().set_latency("client", "server", 40ms);
  ConnectResult r, acc;
  world.spawn(connect_to(client, "server", 80, kNoDeadline, r));
  world.spawn(accept_one(*acceptor, acc));
  world.run_until_idle();
  EXPECT_EQ(r.at, at(80ms));
  OpResult w, rd;
  world.spawn(write_once(world, *r.stream, "x", kNoDeadline, w));
  world.spawn(read_once(world, *acc.stream, 8, kNoDeadline, rd));
  world.run_until_idle();
  EXPECT_EQ(rd.at, at(120ms));
}

TEST_F(NetworkTest, PartitionStallsEstablishedConnectionsUntilItHeals) {
  ConnectResult r, acc;
  world.spawn(connect_to(client, "server", 80, kNoDeadline, r));
  world.spawn(accept_one(*acceptor, acc));
  world.run_until(at(10ms));
  ASSERT_FALSE(r.ec);
  world.network().partition_between("client", "server", at(1s), at(5s));
  world.run_until(at(1s));
  OpResult w, rd;
  world.spawn(write_once(world, *r.stream, "across", kNoDeadline, w));
  world.spawn(read_all(world, *acc.stream, 64, rd));
  world.run_until(at(4s));
  EXPECT_TRUE(w.done);  // accepted locally
  EXPECT_TRUE(rd.data.empty());
  world.run_until(at(6s));
  EXPECT_EQ(rd.data, "across");  // retransmitted after the heal
  r.stream->shutdown_send();
  world.run_until_idle();
  EXPECT_EQ(rd.ec, asio::error::eof);
  EXPECT_EQ(rd.at, at(6s) + 1ms);
}

TEST_F(NetworkTest, ConnectDuringAPartitionWaitsForTheHealOrTheDeadline) {
  world.network().partition("client", "server");
  ConnectResult timed, waits;
  world.spawn(connect_to(client, "server", 80, at(2s), timed));
  world.spawn(connect_to(client, "server", 80, kNoDeadline, waits));
  world.schedule(at(3s), [&] { world.network().heal("client", "server"); });
  world.run_until_idle();
  EXPECT_EQ(timed.ec, asio::error::timed_out);
  EXPECT_EQ(timed.at, at(2s));
  EXPECT_FALSE(waits.ec);
  EXPECT_EQ(waits.at, at(3s) + 2ms);
}

TEST_F(NetworkTest, ResetConnectionsIsAHostCrashAsPeersSeeIt) {
  ConnectResult r, acc;
  world.spawn(connect_to(client, "server", 80, kNoDeadline, r));
  world.spawn(accept_one(*acceptor, acc));
  world.run_until(at(10ms));
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(world.network().open_connections(), 1u);
  OpResult client_read, server_read;
  world.spawn(read_once(world, *r.stream, 16, kNoDeadline, client_read));
  world.spawn(read_once(world, *acc.stream, 16, kNoDeadline, server_read));
  world.run_until(at(1s));
  EXPECT_EQ(world.network().reset_connections("server"), 1u);
  world.network().set_host_fault("server", Fault::refuse);
  world.run_until_idle();
  EXPECT_EQ(server_read.ec, asio::error::operation_aborted);
  EXPECT_EQ(client_read.ec, asio::error::connection_reset);
  EXPECT_EQ(client_read.at, at(1s) + 1ms);
  r.stream.reset();
  acc.stream.reset();
  world.run_until_idle();
  EXPECT_EQ(world.network().open_connections(), 0u);
}

TEST_F(NetworkTest, JitterKeepsEachDirectionInOrder) {
  world.network().set_jitter(5ms);
  ConnectResult r, acc;
  world.spawn(connect_to(client, "server", 80, kNoDeadline, r));
  world.spawn(accept_one(*acceptor, acc));
  world.run_until(at(10ms));
  std::string expected;
  auto writer = [&]() -> env::Task<void> {
    for (int i = 0; i < 200; ++i) {
      const std::string piece = std::to_string(i) + ",";
      expected += piece;
      error_code ec;
      const asio::const_buffer b[] = {asio::buffer(piece)};
      co_await r.stream->write(std::span<const asio::const_buffer>(b), kNoDeadline, ec);
      co_await client.sleep_for(100us, ec);
    }
    r.stream->shutdown_send();
  };
  OpResult rd;
  world.spawn(writer());
  world.spawn(read_all(world, *acc.stream, 7, rd));
  world.run_until_idle();
  EXPECT_EQ(rd.data, expected);
}

TEST_F(NetworkTest, WorldTeardownDuringAPartitionStallIsClean) {
  // Under ASan/LSan: a heal callback owns a connection when the world dies.
  OpResult wr, rd;
  auto w = std::make_unique<World>(4);
  {
    Host& a = w->network().host("a");
    Host& b = w->network().host("b");
    auto [x, y] = make_connection(*w, {&a, 1}, {&b, 2}, {});
    w->network().partition("a", "b");
    w->spawn(write_once(*w, *x, "stuck", kNoDeadline, wr));
    w->spawn(read_once(*w, *y, 16, kNoDeadline, rd));
    w->run_for(1s);
    EXPECT_TRUE(wr.done);
    EXPECT_FALSE(rd.done);
    EXPECT_EQ(w->network().open_connections(), 1u);
  }  // both streams closed; the connection lives on in the heal callback
  w->run_for(1s);
  w.reset();
}

}  // namespace
}  // namespace llmproxy::sim
