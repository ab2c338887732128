// Property: whatever the write sizes, read sizes, window and latency, bytes
// cross a simulated stream complete, unmodified and in order.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "sim/sim_stream.h"

namespace llmproxy::sim {
namespace {

using namespace std::chrono_literals;

env::Task<void> write_chunks(SimStream& s, const std::vector<std::string>& chunks,
                             std::vector<std::size_t>& written) {
  for (const auto& chunk : chunks) {
    error_code ec;
    written.push_back(co_await s.write(asio::buffer(chunk), kNoDeadline, ec));
    if (ec) co_return;
  }
  s.shutdown_send();
}

env::Task<void> read_everything(SimStream& s, std::vector<std::size_t> read_sizes,
                                std::string& out, error_code& end) {
  for (std::size_t i = 0;; ++i) {
    std::string buf(read_sizes[i % read_sizes.size()], '\0');
    error_code ec;
    const std::size_t n = co_await s.read_some(asio::buffer(buf), kNoDeadline, ec);
    if (ec) {
      end = ec;
      co_return;
    }
    RC_ASSERT(n >= 1u);
    RC_ASSERT(n <= buf.size());
    out.append(buf.data(), n);
  }
}

RC_GTEST_PROP(SimStreamProperty, BytesArriveIdenticalAndInOrder, ()) {
  const auto chunks = *rc::gen::container<std::vector<std::string>>(
      rc::gen::resize(3000, rc::gen::arbitrary<std::string>()));
  const auto read_sizes =
      *rc::gen::nonEmpty(rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 5000)));
  StreamOptions options;
  options.receive_buffer = *rc::gen::inRange<std::size_t>(1, 10000);
  options.random_read_split = *rc::gen::arbitrary<bool>();
  const auto latency_us = *rc::gen::inRange(0, 5000);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();

  World world(seed);
  world.network().set_default_latency(std::chrono::microseconds(latency_us));
  Host& a = world.network().host("a");
  Host& b = world.network().host("b");
  auto [writer, reader] = make_connection(world, {&a, 1000}, {&b, 2000}, options);

  std::vector<std::size_t> written;
  std::string received;
  error_code end;
  world.spawn(write_chunks(*writer, chunks, written));
  world.spawn(read_everything(*reader, read_sizes, received, end));
  world.run_until_idle();

  std::string expected;
  for (const auto& c : chunks) expected += c;
  RC_ASSERT(written.size() == chunks.size());
  for (std::size_t i = 0; i < chunks.size(); ++i) RC_ASSERT(written[i] == chunks[i].size());
  RC_ASSERT(end == asio::error::eof);
  RC_ASSERT(received == expected);
}

// Both ends driven by a random sequence of operations, including shutdown,
// close, reset, cancel and deadlines: nothing crashes or leaks, every
// received byte stream is a prefix of what the other side's writes had
// accepted, and once both ends are gone nothing is left parked or open.
struct EndState {
  std::string accepted;  // prefixes of this end's writes the stream accepted
  std::string received;  // bytes this end read
  bool reading = false, writing = false;
};

env::Task<void> random_write(World& world, SimStream& s, std::string data, TimePoint deadline,
                             EndState& st) {
  st.writing = true;
  error_code ec;
  (void)world;
  const asio::const_buffer b[] = {asio::buffer(data)};
  const std::size_t n = co_await s.write(std::span<const asio::const_buffer>(b), deadline, ec);
  RC_ASSERT(n <= data.size());
  if (!ec) RC_ASSERT(n == data.size());
  st.accepted.append(data, 0, n);
  st.writing = false;
}

env::Task<void> random_read(SimStream& s, std::size_t size, TimePoint deadline, EndState& st) {
  st.reading = true;
  std::string buf(size, '\0');
  error_code ec;
  const std::size_t n = co_await s.read_some(asio::buffer(buf), deadline, ec);
  if (ec) RC_ASSERT(n == 0u);
  st.received.append(buf.data(), n);
  st.reading = false;
}

RC_GTEST_PROP(SimStreamProperty, RandomOperationSequencesStayConsistent, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto steps = *rc::gen::inRange(1, 60);
  EndState ends[2];
  World world(seed);
  Rng rng(seed);
  world.network().set_default_latency(std::chrono::microseconds(rng.below(2000)));
  world.network().set_jitter(std::chrono::microseconds(rng.below(500)));
  Host& a = world.network().host("a");
  Host& b = world.network().host("b");
  StreamOptions options;
  options.receive_buffer = 1 + rng.below(4000);
  options.random_read_split = rng.below(2) == 0;
  auto pair = make_connection(world, {&a, 1000}, {&b, 2000}, options);
  std::unique_ptr<SimStream> streams[2] = {std::move(pair.first), std::move(pair.second)};

  for (int i = 0; i < steps; ++i) {
    const int side = static_cast<int>(rng.below(2));
    SimStream& s = *streams[side];
    const TimePoint deadline = rng.below(3) == 0
                                   ? world.now() + std::chrono::microseconds(rng.below(5000))
                                   : kNoDeadline;
    switch (rng.below(10)) {
      case 0: case 1: case 2:
        if (!ends[side].writing) {
          std::string data(rng.below(6000), '\0');
          for (auto& c : data) c = static_cast<char>(rng.below(256));
          world.spawn(random_write(world, s, std::move(data), deadline, ends[side]));
        }
        break;
      case 3: case 4: case 5:
        if (!ends[side].reading) world.spawn(random_read(s, 1 + rng.below(3000), deadline, ends[side]));
        break;
      case 6: s.shutdown_send(); break;
      case 7: if (rng.below(4) == 0) { rng.below(2) ? s.close() : s.reset(); } break;
      case 8: s.cancel(); break;
      default: world.run_for(std::chrono::microseconds(rng.below(10000))); break;
    }
  }
  world.run_for(std::chrono::seconds(1));
  // Destroying both ends ends pending writes, which then report how much
  // they had put on the wire (a blocked write's accepted part is readable).
  streams[0].reset();
  streams[1].reset();
  world.run_until_idle();
  for (int side = 0; side < 2; ++side) {
    const std::string& sent = ends[1 - side].accepted;
    const std::string& got = ends[side].received;
    RC_ASSERT(got.size() <= sent.size());
    RC_ASSERT(sent.compare(0, got.size(), got) == 0);
  }
  RC_ASSERT(world.parked_ops() == 0u);
  RC_ASSERT(world.network().open_connections() == 0u);
}

}  // namespace
}  // namespace llmproxy::sim
