#include "sim/world.h"

#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/sim_env.h"

namespace llmproxy::sim {
namespace {

using namespace std::chrono_literals;
using env::Task;

TimePoint at(Duration d) { return TimePoint{} + d; }

TEST(World, EventsFireInTimeOrderAndTiesInSchedulingOrder) {
  World world(1);
  std::vector<std::string> order;
  world.schedule(at(2s), [&] { order.push_back("b@2"); });
  world.schedule(at(1s), [&] { order.push_back("a@1"); });
  world.schedule(at(2s), [&] { order.push_back("c@2"); });
  world.schedule(at(1s), [&] { order.push_back("d@1"); });
  world.run_until_idle();
  EXPECT_EQ(order, (std::vector<std::string>{"a@1", "d@1", "b@2", "c@2"}));
  EXPECT_EQ(world.now(), at(2s));
}

TEST(World, CancelledEventsDoNotFire) {
  World world(1);
  bool fired = false;
  EventId id = world.schedule(at(1s), [&] { fired = true; });
  EXPECT_TRUE(world.pending(id));
  EXPECT_TRUE(world.cancel(id));
  EXPECT_FALSE(world.cancel(id));
  world.run_until_idle();
  EXPECT_FALSE(fired);
  EXPECT_EQ(world.now(), at(0s));  // nothing to jump to
}

TEST(World, RunUntilStopsAtTheLimitAndSetsTheClock) {
  World world(1);
  int fired = 0;
  world.schedule(at(1s), [&] { ++fired; });
  world.schedule(at(3s), [&] { ++fired; });
  world.run_until(at(2s));
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(world.now(), at(2s));
  world.run_for(1s);  // an event exactly at the limit fires
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(world.now(), at(3s));
}

TEST(World, WallClockIsEpochPlusVirtualTime) {
  World world(1);
  const WallTime start = world.wall_now();
  EXPECT_EQ(start, WorldOptions{}.wall_epoch);
  world.run_for(90s);
  EXPECT_EQ(world.wall_now() - start, Duration(90s));
}

TEST(World, TimersFireAtExactlyTheirVirtualDeadline) {
  World world(1);
  SimEnv env(world, "gateway");
  std::vector<TimePoint> woke;
  auto sleeper = [&](Duration d) -> Task<void> {
    auto timer = env.make_timer();
    error_code ec;
    co_await timer->sleep_until(env.now() + d, ec);
    EXPECT_FALSE(ec);
    woke.push_back(env.now());
  };
  world.spawn(sleeper(1500ms));
  world.spawn(sleeper(250us));
  world.spawn(sleeper(7s));
  world.run_until_idle();
  EXPECT_EQ(woke, (std::vector<TimePoint>{at(250us), at(1500ms), at(7s)}));
}

TEST(World, SleepInThePastCompletesThroughTheQueueNotInline) {
  World world(1);
  SimEnv env(world, "gateway");
  std::vector<std::string> order;
  auto a = [&]() -> Task<void> {
    auto timer = env.make_timer();
    error_code ec;
    order.push_back("a-before");
    co_await timer->sleep_until(env.now() - 1s, ec);
    EXPECT_FALSE(ec);
    order.push_back("a-after");
  };
  auto b = [&]() -> Task<void> {
    order.push_back("b");
    co_return;
  };
  world.spawn(a());
  world.spawn(b());
  world.run_until_idle();
  EXPECT_EQ(order, (std::vector<std::string>{"a-before", "b", "a-after"}));
}

TEST(World, TimerCancelAndDestructionAbort) {
  World world(1);
  SimEnv env(world, "gateway");
  auto timer = env.make_timer();
  std::vector<error_code> results;
  auto sleeper = [&](env::Timer& t) -> Task<void> {
    error_code ec;
    co_await t.sleep_until(at(10s), ec);
    results.push_back(ec);
  };
  world.spawn(sleeper(*timer));
  world.spawn(sleeper(*timer));  // re-arming aborts the first, as in asio
  world.schedule(at(1s), [&] { timer->cancel(); });
  world.run_until_idle();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], asio::error::operation_aborted);
  EXPECT_EQ(results[1], asio::error::operation_aborted);
  EXPECT_EQ(world.now(), at(1s));
  EXPECT_EQ(world.pending_events(), 0u);

  // Still usable after cancel; destroying it aborts the pending sleep.
  world.spawn(sleeper(*timer));
  world.schedule(at(2s), [&] { timer.reset(); });
  world.run_until_idle();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2], asio::error::operation_aborted);
  EXPECT_EQ(world.parked_ops(), 0u);
}

TEST(World, SleepingForeverSchedulesNothing) {
  World world(1);
  SimEnv env(world, "gateway");
  auto timer = env.make_timer();
  error_code result;
  auto sleeper = [&]() -> Task<void> {
    error_code ec;
    co_await timer->sleep_until(TimePoint::max(), ec);
    result = ec;
  };
  world.spawn(sleeper());
  world.run_until_idle();
  EXPECT_EQ(world.now(), at(0s));
  EXPECT_EQ(world.parked_ops(), 1u);
  timer->cancel();
  world.run_until_idle();
  EXPECT_EQ(result, asio::error::operation_aborted);
}

TEST(World, OrWithATimerCancelsTheLosingOperation) {
  using namespace boost::asio::experimental::awaitable_operators;
  World world(1);
  SimEnv env(world, "gateway");
  bool done = false;
  auto body = [&]() -> Task<void> {
    auto slow = env.make_timer();
    auto fast = env.make_timer();
    error_code ec_slow, ec_fast;
    auto result = co_await (slow->sleep_until(at(10s), ec_slow) ||
                            fast->sleep_until(at(1s), ec_fast));
    EXPECT_EQ(result.index(), 1u);
    EXPECT_EQ(env.now(), at(1s));
    EXPECT_EQ(ec_slow, asio::error::operation_aborted);
    EXPECT_FALSE(ec_fast);
    done = true;
  };
  world.spawn(body());
  world.run_until_idle();
  EXPECT_TRUE(done);
  // The losing sleep left no event behind: the clock did not jump to 10s.
  EXPECT_EQ(world.now(), at(1s));
  EXPECT_EQ(world.pending_events(), 0u);
}

TEST(World, AnEscapedExceptionFailsTheRun) {
  World world(1);
  auto body = [&]() -> Task<void> {
    co_await asio::post(world.executor(), asio::use_awaitable);
    throw std::runtime_error("boom");
  };
  world.spawn(body());
  try {
    world.run_until_idle();
    FAIL() << "run should have failed";
  } catch (const SimFailure& e) {
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos) << e.what();
  }
}

TEST(World, AnExceptionInAnEventFailsTheRun) {
  World world(1);
  world.schedule(at(1s), [] { throw std::runtime_error("event boom"); });
  EXPECT_THROW(world.run_until_idle(), SimFailure);
}

TEST(World, LivelockHitsTheStepLimit) {
  WorldOptions options;
  options.max_steps_per_instant = 10'000;
  World world(options);
  auto spin = [&]() -> Task<void> {
    for (;;) co_await asio::post(world.executor(), asio::use_awaitable);
  };
  world.spawn(spin());
  try {
    world.run_until_idle();
    FAIL() << "livelock not detected";
  } catch (const SimFailure& e) {
    EXPECT_NE(std::string(e.what()).find("livelock"), std::string::npos) << e.what();
  }
}

TEST(World, TotalStepLimit) {
  WorldOptions options;
  options.max_steps = 1000;
  World world(options);
  std::function<void()> tick = [&] { world.schedule_after(1ms, tick); };
  world.schedule(at(0s), tick);
  EXPECT_THROW(world.run_until_idle(), SimFailure);
}

TEST(World, ARealTimerOnTheSimulatedContextFailsLoudly) {
  World world(1);
  EXPECT_FALSE(world.has_os_reactor());
  world.run_until_idle();  // fine
  {
    // What a stray real timer in simulated code would do.
    asio::steady_timer real_timer(world.io_context());
  }
  EXPECT_TRUE(world.has_os_reactor());
  try {
    world.run_until_idle();
    FAIL() << "the reactor went unnoticed";
  } catch (const SimFailure& e) {
    EXPECT_NE(std::string(e.what()).find("reactor"), std::string::npos) << e.what();
  }
}

TEST(World, TenVirtualMinutesOfTimersTakeWellUnderASecond) {
  World world(7);
  SimEnv env(world, "gateway");
  std::uint64_t wakeups = 0;
  auto ticker = [&](Duration period) -> Task<void> {
    auto timer = env.make_timer();
    error_code ec;
    while (env.now() + period <= at(10min)) {
      co_await timer->sleep_until(env.now() + period, ec);
      ++wakeups;
    }
  };
  for (int i = 1; i <= 20; ++i) world.spawn(ticker(std::chrono::milliseconds(100 + i)));
  const auto start = std::chrono::steady_clock::now();
  world.run_until(at(10min));
  const auto real = std::chrono::steady_clock::now() - start;
  const double seconds = std::chrono::duration<double>(real).count();
  std::printf("10 virtual minutes, %llu timer wakeups, %llu steps: %.3f s real\n",
              static_cast<unsigned long long>(wakeups),
              static_cast<unsigned long long>(world.steps()), seconds);
  EXPECT_GT(wakeups, 100'000u);
  EXPECT_LT(seconds, 5.0);  // generous for sanitizer builds on a shared machine
}

TEST(World, SubSeedsAreKeyedByNameNotByOrder) {
  World a(42), b(42), c(43);
  Rng a1 = a.rng_for("balancer");
  Rng a2 = a.rng_for("client-1");
  Rng b2 = b.rng_for("client-1");  // asked in another order
  Rng b1 = b.rng_for("balancer");
  Rng c1 = c.rng_for("balancer");
  const auto x = a1.next();
  EXPECT_EQ(x, b1.next());
  EXPECT_EQ(a2.next(), b2.next());
  EXPECT_NE(x, c1.next());
  EXPECT_NE(a.rng_for("balancer").next(), a.rng_for("balancer2").next());
}

Task<void> accept_then_hold(env::Acceptor& acceptor) {
  error_code ec;
  auto stream = co_await acceptor.accept(ec);
  if (!stream) co_return;
  char buf[16];
  co_await stream->read_some(asio::buffer(buf), kNoDeadline, ec);  // owns the stream
}

Task<void> connect_and_hold(SimEnv& env, std::uint16_t port) {
  error_code ec;
  auto stream = co_await env.connect("server", port, kNoDeadline, ec);
  if (!stream) co_return;
  auto timer = env.make_timer();
  co_await timer->sleep_until(at(1h), ec);
}

TEST(World, DestroyingTheWorldWithPendingOperationsIsClean) {
  // Run under ASan/LSan: frames that own streams whose own handlers own the
  // frames must all be freed.
  auto world = std::make_unique<World>(3);
  auto client = std::make_unique<SimEnv>(*world, "client");
  auto server = std::make_unique<SimEnv>(*world, "server");
  error_code ec;
  auto acceptor = server->listen("", 80, false, ec);
  ASSERT_FALSE(ec);
  world->spawn(accept_then_hold(*acceptor));
  world->spawn(accept_then_hold(*acceptor));
  world->spawn(connect_and_hold(*client, 80));
  world->spawn(connect_and_hold(*client, 81));  // refused
  world->network().set_host_fault("server", Fault::none);
  world->run_for(1s);
  EXPECT_GT(world->parked_ops(), 0u);
  // Objects made from the world go first (as the rules require), the world
  // last, while coroutine frames that own streams are still suspended.
  acceptor.reset();
  client.reset();
  server.reset();
  world.reset();
}

}  // namespace
}  // namespace llmproxy::sim
