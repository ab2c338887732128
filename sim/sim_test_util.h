// Small coroutine helpers shared by the simulator's own tests.
#pragma once

#include <string>
#include <vector>

#include "proxy/env/env.h"
#include "sim/world.h"

namespace llmproxy::sim::testing {

struct OpResult {
  bool done = false;
  std::size_t n = 0;
  error_code ec;
  TimePoint at{};
  std::string data;
};

// One read_some of up to `max` bytes.
inline env::Task<void> read_once(World& world, env::Stream& s, std::size_t max,
                                 TimePoint deadline, OpResult& r) {
  std::string buf(max, '\0');
  r.n = co_await s.read_some(asio::buffer(buf), deadline, r.ec);
  r.data.assign(buf.data(), r.n);
  r.at = world.now();
  r.done = true;
}

// Reads until an error (eof included); records every read size.
inline env::Task<void> read_all(World& world, env::Stream& s, std::size_t chunk, OpResult& r,
                                std::vector<std::size_t>* sizes = nullptr) {
  std::string buf(chunk, '\0');
  for (;;) {
    error_code ec;
    const std::size_t n = co_await s.read_some(asio::buffer(buf), kNoDeadline, ec);
    if (ec) {
      r.ec = ec;
      break;
    }
    if (sizes) sizes->push_back(n);
    r.data.append(buf.data(), n);
    r.n += n;
  }
  r.at = world.now();
  r.done = true;
}

inline env::Task<void> write_once(World& world, env::Stream& s, std::string data,
                                  TimePoint deadline, OpResult& r) {
  r.n = co_await s.write(asio::buffer(data), deadline, r.ec);
  r.at = world.now();
  r.done = true;
}

}  // namespace llmproxy::sim::testing
