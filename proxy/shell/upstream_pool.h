// Idle keep-alive connections to backends, one pool per event loop (so no
// locks). A connection is returned only after a response was read completely,
// with nothing left over, and the backend did not ask to close it (the
// session decides). An idle connection is only ever written to, never read:
// any byte or EOF that arrives while it is idle means the backend has closed
// it or is not speaking HTTP/1.1 as agreed, so take() closes it instead of
// handing out a connection whose next "response" would not belong to the
// next request (as nginx does).
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
  // idle_max, and connections that became readable while idle (data, EOF or
  // an error: Stream::peek, one non-blocking system call), are closed
  // instead of returned.
  std::unique_ptr<env::Stream> take(std::size_t backend, TimePoint now);

  // Keeps the connection for reuse unless the pool for this backend is full.
  void give_back(std::size_t backend, std::unique_ptr<env::Stream> s, TimePoint now,
                 std::size_t max_idle);

  std::size_t idle_count(std::size_t backend) const { return idle_[backend].size(); }
  // Idle connections closed by take() because they had become readable.
  std::uint64_t closed_readable() const { return closed_readable_; }
  void close_all();
  // Config reload: backend i takes the idle connections `from` keeps for
  // `from_index` (the same backend under the previous config).
  void adopt(std::size_t i, UpstreamPool& from, std::size_t from_index);

 private:
  struct Idle {
    std::unique_ptr<env::Stream> stream;
    TimePoint since;
  };
  std::vector<std::deque<Idle>> idle_;
  Duration idle_max_;
  std::uint64_t closed_readable_ = 0;
};

}  // namespace llmproxy::shell
