// A hostile HTTP/1.1 upstream for isolation tests: every answer it gives is
// labelled with the request it answers, and it misbehaves on purpose in the
// ways that made a gateway hand one client's answer to another (interim 1xx
// heads, bytes past Content-Length, bytes or a close on an idle keep-alive
// connection, a body after a HEAD answer, a close just after a request
// arrived). Written against env.h like FakeServer, so the same upstream runs
// on loopback sockets and in the simulator.
//
// Protocol with the test's clients: a request carries `X-Tag: <tag>`; the
// answer's body is `{"tag":"<tag>"}` (or an SSE stream whose every event
// carries the tag, when the target is /stream). Bytes it sends on its own
// (extra responses, idle writes) carry a tag that no client used
// (`stray-<n>`), so a client that receives them has someone else's answer.
//
// What a connection does after each answer is the Plan for that request,
// chosen by the config's function from the request's arrival index.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "proxy/env/env.h"

namespace llmproxy::fake {

enum class Misbehaviour : std::uint8_t {
  none,              // a clean keep-alive answer
  interim_100,       // 100 Continue, then the answer
  interim_103,       // 103 Early Hints (with a Link header), then the answer
  interim_many,      // 100, 102 and 103 heads, then the answer, in separate writes
  extra_now,         // the answer and a complete stray response in the same write
  extra_later,       // the answer; a stray response after `delay` if still idle
  idle_garbage,      // the answer; raw stray bytes after `delay` if still idle
  idle_close,        // the answer; close after `delay` if still idle (uvicorn's keep-alive)
  idle_reset,        // the answer; reset after `delay` if still idle
  head_with_body,    // for HEAD: a Content-Length and a body anyway (else like none)
  close_on_request,  // read the request, then close without a byte (an idle close that
                     // crossed the request on the wire)
};
inline constexpr int kMisbehaviourCount = 11;
const char* to_string(Misbehaviour m);

struct HostilePlan {
  Misbehaviour what = Misbehaviour::none;
  Duration delay{0};  // for the `*_later` / `idle_*` kinds
};

struct HostileConfig {
  // The plan for the k-th request this upstream reads (0-based, all
  // connections together, in arrival order).
  std::function<HostilePlan(std::uint64_t k)> plan;
  // A request that arrives on a connection less than this long after the
  // upstream wrote stray bytes or closed it on its own may have been sent by
  // the gateway before those could reach it (they crossed on the wire): no
  // gateway can tell, so its tag is listed in crossed() and a test excuses
  // whatever its client got. Set it to twice the one-way latency plus jitter.
  Duration crossing_window{0};
  // Each SSE event of a /stream answer carries this many bytes of padding
  // (large events, as a slow client's stream may hold).
  std::size_t sse_padding = 0;
};

class HostileUpstream {
 public:
  HostileUpstream(env::Env& env, HostileConfig config);
  ~HostileUpstream();
  HostileUpstream(const HostileUpstream&) = delete;
  HostileUpstream& operator=(const HostileUpstream&) = delete;

  // Serves connections until stop(), then waits for them to end.
  env::Task<void> run(env::Acceptor& acceptor);
  void stop();

  std::uint64_t requests() const { return requests_; }
  std::uint64_t connections() const { return connections_; }
  // Stray responses and idle writes sent so far.
  std::uint64_t strays() const { return strays_; }
  // Tags of requests that arrived within crossing_window of stray bytes or
  // a close on their connection (see HostileConfig).
  const std::set<std::string>& crossed() const { return crossed_; }
  // Tags of requests read and then dropped by close_on_request.
  const std::set<std::string>& dropped() const { return dropped_; }

 private:
  struct Conn;
  env::Task<void> serve(std::unique_ptr<env::Stream> stream);
  env::Task<void> after_answer(Conn& c, const HostilePlan& plan);

  env::Env& env_;
  HostileConfig config_;
  env::Acceptor* acceptor_ = nullptr;
  bool stopping_ = false;
  std::list<Conn*> conns_;
  std::uint64_t requests_ = 0;
  std::uint64_t connections_ = 0;
  std::uint64_t strays_ = 0;
  std::set<std::string> crossed_;
  std::set<std::string> dropped_;
  int live_ = 0;
};

}  // namespace llmproxy::fake
