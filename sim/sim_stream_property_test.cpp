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

}  // namespace
}  // namespace llmproxy::sim
