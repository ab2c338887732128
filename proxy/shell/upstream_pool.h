// Idle keep-alive connections to backends, one pool per event loop (so no
// locks). A connection is returned only after a response was read completely
// and the backend did not ask to close it.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "proxy/env/env.h"

namespace llmproxy::shell {

class UpstreamPool {
 public:
  UpstreamPool(std::size_t backend_count, Duration idle_max)
      : idle_(backend_count), idle_max_(idle_max) {}

  // An idle connection to backend i, or null. Connections idle longer than
  // idle_max are closed instead of returned.
  std::unique_ptr<env::Stream> take(std::size_t backend, TimePoint now);

  // Keeps the connection for reuse unless the pool for this backend is full.
  void give_back(std::size_t backend, std::unique_ptr<env::Stream> s, TimePoint now,
                 std::size_t max_idle);

  std::size_t idle_count(std::size_t backend) const { return idle_[backend].size(); }
  void close_all();

 private:
  struct Idle {
    std::unique_ptr<env::Stream> stream;
    TimePoint since;
  };
  std::vector<std::deque<Idle>> idle_;
  Duration idle_max_;
};

}  // namespace llmproxy::shell
