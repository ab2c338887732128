// The client, watched while the gateway waits on a backend for it: a
// client that goes away cancels the upstream request at once (vLLM frees
// the slot) instead of when the next byte is written. A readiness watch,
// not a read: no buffer is held, and bytes that arrive (a pipelined next
// request) stay in the kernel.
//
// State (one enum, not flags):
//   off        not waiting on a backend
//   watching   a readiness watch is set on the client
//   pipelined  the client sent its next request already, so readiness
//              would fire again and again: upstream reads instead wake at
//              least every kCheckEvery (read_deadline()) and check() peeks
//   gone       the client closed or reset (a pipelined request followed by
//              a hang-up counts, as nginx judges EPOLLRDHUP): the watched
//              upstream stream was cancelled
#pragma once

#include <cstdint>

#include "proxy/env/env.h"

namespace llmproxy::shell {

class ClientWatch final : private env::ReadListener {
 public:
  static constexpr Duration kCheckEvery = std::chrono::milliseconds(200);

  ClientWatch(env::Env& env, env::Stream& client) : env_(env), client_(client) {}
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;

  // From now until stop(), a client that leaves cancels `upstream`.
  void start(env::Stream& upstream);
  void stop();
  bool gone() const { return state_ == State::gone; }

  // The deadline an upstream read should use instead of `deadline`.
  TimePoint read_deadline(TimePoint deadline) const {
    return state_ == State::pipelined && next_check_ < deadline ? next_check_ : deadline;
  }
  // An upstream read ended (with `ec`) only so that the client could be
  // looked at: the short wait ran out before `deadline`, or the watch
  // cancelled the read when the client pipelined.
  bool woke_for_client(const env::error_code& ec, TimePoint deadline) const;
  // Pipelined: peeks at the client when a check is due; true when it left.
  bool check();

 private:
  enum class State : std::uint8_t { off, watching, pipelined, gone };
  void on_readable() override;
  void left();

  env::Env& env_;
  env::Stream& client_;
  env::Stream* upstream_ = nullptr;
  State state_ = State::off;
  TimePoint next_check_{};
};

}  // namespace llmproxy::shell
