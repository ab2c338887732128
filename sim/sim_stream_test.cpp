#include "sim/sim_stream.h"

#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <string>
#include <vector>

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

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world.network().set_default_latency(1ms);
    make({});
  }
  void make(const StreamOptions& options) {
    auto pair = make_connection(world, EndpointSpec{&client_host, 50000},
                                EndpointSpec{&server_host, 80}, options);
    c = std::move(pair.first);
    s = std::move(pair.second);
  }

  World world{1};
  Host& client_host = world.network().host("client");
  Host& server_host = world.network().host("server");
  std::unique_ptr<SimStream> c, s;
};

TEST_F(StreamTest, DataArrivesAfterTheOneWayLatency) {
  OpResult w, r;
  world.spawn(write_once(world, *c, "hello", kNoDeadline, w));
  world.spawn(read_once(world, *s, 64, kNoDeadline, r));
  world.run_until_idle();
  EXPECT_TRUE(w.done);
  EXPECT_FALSE(w.ec);
  EXPECT_EQ(w.n, 5u);
  EXPECT_EQ(w.at, at(0s));  // accepted into the pipe at once
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.data, "hello");
  EXPECT_EQ(r.at, at(1ms));
}

TEST_F(StreamTest, PartialReadsReturnWhatArrivedUpToTheBuffer) {
  OpResult w, r1, r2, r3;
  world.spawn(write_once(world, *c, "0123456789", kNoDeadline, w));
  world.run_until_idle();
  world.spawn(read_once(world, *s, 4, kNoDeadline, r1));
  world.run_until_idle();
  world.spawn(read_once(world, *s, 4, kNoDeadline, r2));
  world.run_until_idle();
  world.spawn(read_once(world, *s, 100, kNoDeadline, r3));
  world.run_until_idle();
  EXPECT_EQ(r1.data, "0123");
  EXPECT_EQ(r2.data, "4567");
  EXPECT_EQ(r3.data, "89");
}

TEST_F(StreamTest, GatherWriteOfSeveralBuffers) {
  OpResult r;
  std::string a = "abc", b = "", d = "defg";
  error_code ec;
  std::size_t written = 0;
  auto writer = [&]() -> env::Task<void> {
    const asio::const_buffer bufs[] = {asio::buffer(a), asio::buffer(b), asio::buffer(d)};
    written = co_await c->write(std::span<const asio::const_buffer>(bufs), kNoDeadline, ec);
    c->shutdown_send();
  };
  world.spawn(writer());
  world.spawn(read_all(world, *s, 2, r));
  world.run_until_idle();
  EXPECT_FALSE(ec);
  EXPECT_EQ(written, 7u);
  EXPECT_EQ(r.data, "abcdefg");
  EXPECT_EQ(r.ec, asio::error::eof);
}

TEST_F(StreamTest, BackPressureIsBoundedByTheReceiveBuffer) {
  make(StreamOptions{.receive_buffer = 1000});
  OpResult w;
  std::string payload(5000, 'x');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  world.spawn(write_once(world, *c, payload, at(1s), w));
  world.run_until_idle();
  // Nobody reads: exactly one window was accepted before the deadline.
  EXPECT_TRUE(w.done);
  EXPECT_EQ(w.ec, asio::error::timed_out);
  EXPECT_EQ(w.n, 1000u);
  EXPECT_EQ(w.at, at(1s));

  // A blocked writer resumes as the reader drains the buffer.
  make(StreamOptions{.receive_buffer = 1000});
  OpResult w2, r;
  world.spawn(write_once(world, *c, payload, kNoDeadline, w2));
  world.run_until_idle();
  EXPECT_FALSE(w2.done);
  world.spawn(read_all(world, *s, 300, r));
  world.run_for(1s);
  EXPECT_TRUE(w2.done);
  EXPECT_FALSE(w2.ec);
  EXPECT_EQ(w2.n, 5000u);
  c->shutdown_send();
  world.run_until_idle();
  EXPECT_EQ(r.data, payload);
  EXPECT_EQ(r.ec, asio::error::eof);
}

TEST_F(StreamTest, FinDeliversRemainingBytesThenEofAndHalfCloseStillReceives) {
  OpResult w, r, back;
  world.spawn(write_once(world, *c, "abc", kNoDeadline, w));
  world.run_until_idle();
  c->shutdown_send();
  world.spawn(read_all(world, *s, 64, r));
  world.run_until_idle();
  EXPECT_EQ(r.data, "abc");
  EXPECT_EQ(r.ec, asio::error::eof);
  EXPECT_TRUE(c->is_open());

  OpResult w2;
  world.spawn(write_once(world, *s, "xyz", kNoDeadline, w2));
  world.spawn(read_once(world, *c, 64, kNoDeadline, back));
  world.run_until_idle();
  EXPECT_EQ(back.data, "xyz");

  OpResult after;  // writing after our own shutdown_send
  world.spawn(write_once(world, *c, "late", kNoDeadline, after));
  world.run_until_idle();
  EXPECT_EQ(after.ec, asio::error::broken_pipe);
}

TEST_F(StreamTest, ResetGivesThePeerConnectionResetForPendingAndLaterOps) {
  OpResult pending, data_lost;
  world.spawn(write_once(world, *c, "lost", kNoDeadline, data_lost));
  world.spawn(read_once(world, *s, 64, kNoDeadline, pending));
  world.run_until(at(100us));  // "lost" is still in flight
  c->reset();
  world.run_until_idle();
  EXPECT_EQ(pending.ec, asio::error::connection_reset);
  EXPECT_EQ(pending.at, at(100us) + 1ms);  // the RST travels like data
  EXPECT_TRUE(pending.data.empty());       // the in-flight data was dropped

  OpResult later_read, later_write, own;
  world.spawn(read_once(world, *s, 64, kNoDeadline, later_read));
  world.spawn(write_once(world, *s, "x", kNoDeadline, later_write));
  world.spawn(read_once(world, *c, 64, kNoDeadline, own));
  world.run_until_idle();
  EXPECT_EQ(later_read.ec, asio::error::connection_reset);
  EXPECT_EQ(later_write.ec, asio::error::connection_reset);
  EXPECT_EQ(own.ec, asio::error::bad_descriptor);
  EXPECT_FALSE(c->is_open());
}

TEST_F(StreamTest, CloseWithUnreadDataResetsLikeRealTcp) {
  OpResult w, r;
  world.spawn(write_once(world, *c, "request", kNoDeadline, w));
  world.spawn(read_once(world, *c, 64, kNoDeadline, r));
  world.run_until(at(5ms));
  s->close();  // never read "request"
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::connection_reset);
}

TEST_F(StreamTest, CloseIsAFinAndLaterDataIsAnsweredWithReset) {
  OpResult r;
  world.spawn(read_once(world, *c, 64, kNoDeadline, r));
  s->close();
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::eof);
  EXPECT_EQ(r.at, at(1ms));

  OpResult w, w2;
  world.spawn(write_once(world, *c, "anyone?", kNoDeadline, w));
  world.run_until_idle();
  EXPECT_FALSE(w.ec);  // accepted locally, like a real send()
  world.spawn(write_once(world, *c, "again", kNoDeadline, w2));
  world.run_until_idle();
  EXPECT_EQ(w2.ec, asio::error::connection_reset);
}

TEST_F(StreamTest, ReadDeadlineTimesOutExactly) {
  OpResult r;
  world.spawn(read_once(world, *s, 64, at(500ms), r));
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::timed_out);
  EXPECT_EQ(r.at, at(500ms));
  EXPECT_TRUE(s->is_open());
}

TEST_F(StreamTest, DeadlineAlreadyPassedFailsAtOnceLikeTheRealEnv) {
  OpResult w, r_past, r_now, w_past;
  world.spawn(write_once(world, *c, "data", kNoDeadline, w));
  world.run_until(at(1s));
  // Data is waiting, yet a passed deadline wins (proxy/env/real does the same).
  world.spawn(read_once(world, *s, 64, at(1s) - 1ms, r_past));
  world.spawn(read_once(world, *s, 64, at(1s), r_now));
  world.spawn(write_once(world, *c, "more", at(500ms), w_past));
  world.run_until_idle();
  EXPECT_EQ(r_past.ec, asio::error::timed_out);
  EXPECT_EQ(r_now.ec, asio::error::timed_out);
  EXPECT_EQ(w_past.ec, asio::error::timed_out);
  EXPECT_EQ(w_past.n, 0u);
  OpResult r;
  world.spawn(read_once(world, *s, 64, at(2s), r));
  world.run_until_idle();
  EXPECT_EQ(r.data, "data");  // nothing was consumed
}

TEST_F(StreamTest, CancelAbortsAndTheStreamStaysUsable) {
  OpResult r1, r2, w;
  world.spawn(read_once(world, *s, 64, kNoDeadline, r1));
  world.schedule(at(100ms), [&] { s->cancel(); });
  world.run_until_idle();
  EXPECT_EQ(r1.ec, asio::error::operation_aborted);
  EXPECT_EQ(r1.at, at(100ms));
  world.spawn(read_once(world, *s, 64, kNoDeadline, r2));
  world.spawn(write_once(world, *c, "still here", kNoDeadline, w));
  world.run_until_idle();
  EXPECT_EQ(r2.data, "still here");
}

TEST_F(StreamTest, ReadRacedAgainstATimerIsCancelledCleanly) {
  using namespace boost::asio::experimental::awaitable_operators;
  SimEnv env(world, "server");
  bool done = false;
  auto body = [&]() -> env::Task<void> {
    char buf[16];
    error_code read_ec, timer_ec;
    auto timer = env.make_timer();
    auto r = co_await (s->read_some(asio::buffer(buf), kNoDeadline, read_ec) ||
                       timer->sleep_until(at(2s), timer_ec));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(read_ec, asio::error::operation_aborted);
    EXPECT_EQ(env.now(), at(2s));
    // The stream is still usable: the next read gets the next bytes.
    const std::size_t n = co_await s->read_some(asio::buffer(buf), kNoDeadline, read_ec);
    EXPECT_EQ(std::string(buf, n), "late");
    done = true;
  };
  world.spawn(body());
  OpResult w;
  world.schedule(at(3s), [&] { world.spawn(write_once(world, *c, "late", kNoDeadline, w)); });
  world.run_until_idle();
  EXPECT_TRUE(done);
  EXPECT_EQ(world.parked_ops(), 0u);
}

TEST_F(StreamTest, DestroyingAStreamAbortsItsPendingOperations) {
  OpResult r, peer;
  world.spawn(read_once(world, *s, 64, kNoDeadline, r));
  world.spawn(read_once(world, *c, 64, kNoDeadline, peer));
  world.schedule(at(100ms), [&] { s.reset(); });
  world.run_until_idle();
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
  EXPECT_EQ(peer.ec, asio::error::eof);  // destruction closes: FIN
  EXPECT_EQ(world.parked_ops(), 0u);
}

TEST_F(StreamTest, ConcurrentReadsAreRejected) {
  OpResult r1, r2;
  world.spawn(read_once(world, *s, 64, at(1s), r1));
  world.spawn(read_once(world, *s, 64, at(1s), r2));
  world.run_until_idle();
  EXPECT_EQ(r1.ec, asio::error::timed_out);
  EXPECT_EQ(r2.ec, asio::error::already_started);
}

TEST_F(StreamTest, AddressesAreNameBased) {
  EXPECT_EQ(client_host.ip, "10.0.0.1");
  EXPECT_EQ(server_host.ip, "10.0.0.2");
  EXPECT_EQ(c->remote_address(), "10.0.0.2:80");
  EXPECT_EQ(c->remote_ip(), "10.0.0.2");
  EXPECT_EQ(s->remote_address(), "10.0.0.1:50000");
  EXPECT_EQ(s->local_address(), "10.0.0.2:80");
}

TEST_F(StreamTest, RandomReadSplitsStillDeliverEverything) {
  make(StreamOptions{.receive_buffer = 4096, .random_read_split = true});
  std::string payload(20000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  OpResult w, r;
  std::vector<std::size_t> sizes;
  auto writer = [&]() -> env::Task<void> {
    co_await write_once(world, *c, payload, kNoDeadline, w);
    c->shutdown_send();
  };
  world.spawn(writer());
  world.spawn(read_all(world, *s, 1024, r, &sizes));
  world.run_until_idle();
  EXPECT_EQ(r.data, payload);
  EXPECT_GT(sizes.size(), payload.size() / 1024);  // split below the buffer size
}

TEST_F(StreamTest, MaxReadCapsEveryRead) {
  make(StreamOptions{.max_read = 3});
  OpResult w, r;
  std::vector<std::size_t> sizes;
  world.spawn(write_once(world, *c, "abcdefgh", kNoDeadline, w));
  world.run_until_idle();
  c->shutdown_send();
  world.spawn(read_all(world, *s, 64, r, &sizes));
  world.run_until_idle();
  EXPECT_EQ(r.data, "abcdefgh");
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 2}));
}

// Records when a readiness watch told its listener, and what peek() said then.
struct Listener final : env::ReadListener {
  Listener(World& w, env::Stream& s) : world(w), stream(s) {}
  void on_readable() override {
    ++told;
    at = world.now();
    seen = stream.peek();
  }
  World& world;
  env::Stream& stream;
  int told = 0;
  TimePoint at{};
  env::Readiness seen = env::Readiness::nothing;
};

TEST_F(StreamTest, WatchTellsWhenBytesArriveAndConsumesNothing) {
  Listener l(world, *s);
  s->watch_readable(l);
  world.run_until_idle();
  EXPECT_EQ(l.told, 0);
  EXPECT_EQ(s->peek(), env::Readiness::nothing);
  OpResult w, r;
  world.spawn(write_once(world, *c, "next request", kNoDeadline, w));
  world.run_until_idle();
  EXPECT_EQ(l.told, 1);
  EXPECT_EQ(l.at, at(1ms));
  EXPECT_EQ(l.seen, env::Readiness::data);
  // Told once per watch; the bytes are still there for a read.
  world.run_until_idle();
  EXPECT_EQ(l.told, 1);
  world.spawn(read_once(world, *s, 64, kNoDeadline, r));
  world.run_until_idle();
  EXPECT_EQ(r.data, "next request");
}

TEST_F(StreamTest, WatchTellsEofAndResetAndAnAlreadyReadableStreamAtOnce) {
  Listener l(world, *s);
  c->shutdown_send();
  world.run_until_idle();
  s->watch_readable(l);  // EOF is already there: told, posted, not inline
  EXPECT_EQ(l.told, 0);
  world.run_until_idle();
  EXPECT_EQ(l.told, 1);
  EXPECT_EQ(l.seen, env::Readiness::eof);

  make({});
  Listener l2(world, *s);
  s->watch_readable(l2);
  c->reset();
  world.run_until_idle();
  EXPECT_EQ(l2.told, 1);
  EXPECT_EQ(l2.seen, env::Readiness::failed);
}

TEST_F(StreamTest, UnwatchOrDestroyingTheStreamMeansTheListenerIsNeverTold) {
  Listener l(world, *s);
  s->watch_readable(l);
  OpResult w;
  world.spawn(write_once(world, *c, "x", kNoDeadline, w));
  world.run_for(500us);
  s->unwatch_readable();
  world.run_until_idle();
  EXPECT_EQ(l.told, 0);

  // Readable already, watched, then destroyed before the posted notice runs.
  s->watch_readable(l);
  s.reset();
  world.run_until_idle();
  EXPECT_EQ(l.told, 0);
}

}  // namespace
}  // namespace llmproxy::sim
