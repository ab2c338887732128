// One attempt of a request on one backend, up to the held response head:
// connect (or reuse a pooled connection), send the request, read until the
// final response head (for a stream: its first event, so a backend slow to
// its first token can still be retried or fallen back from). Nothing goes
// to the client here; the route loop (forward.h) decides from the result
// whether the held head is relayed (body_relay.h) or another attempt runs.
//
// run() ends in one of three states:
//   failed       no usable head (connect, write, timeout, reset, protocol):
//                failure()/error()/detail() say why; the connection is closed
//   client_left  the client went away while the gateway waited
//   head         a final response head is held: parser(), upstream()
// Interim 1xx answers are read and dropped (relaying one as the final
// answer would leave the real answer on the connection for the next
// request); 101 or more than 8 of them is a bad response. A reused
// connection that turns out closed by the backend before any response byte
// (uvicorn closes idle keep-alives after 5 s) sends the request once more
// on a fresh connection: neither a retry nor a backend failure.
//
// Balancer and circuit-breaker bookkeeping: started with the attempt, ended
// exactly once however it ends (report() or, if never reported, abandoned).
#pragma once

#include <boost/beast/core/flat_buffer.hpp>

#include <memory>
#include <optional>
#include <string>

#include "proxy/core/openai/error_catalogue.h"
#include "proxy/core/routing/circuit_breaker.h"
#include "proxy/core/routing/retry_policy.h"
#include "proxy/env/env.h"
#include "proxy/shell/client_watch.h"
#include "proxy/shell/exchange.h"
#include "proxy/shell/upstream_response.h"

namespace llmproxy::shell {

class Worker;
class Generation;
struct BackendTarget;

// Buffers a session's attempts reuse (capacity kept across requests).
struct AttemptBuffers {
  std::string head;             // the upstream request head
  std::string scratch;          // header values that appear more than once, joined
  boost::beast::flat_buffer in; // upstream reads
  UpstreamHeadStorage storage;  // the parsed response head
};

class UpstreamAttempt {
 public:
  enum class State : std::uint8_t { pending, failed, client_left, head };

  // `gen`: the generation the request pinned (its backends, pool, balancer
  // and circuit breaker).
  UpstreamAttempt(Worker& worker, Generation& gen, Exchange& ex, ClientWatch& watch,
                  AttemptBuffers& buffers, std::size_t backend);
  ~UpstreamAttempt();
  UpstreamAttempt(const UpstreamAttempt&) = delete;
  UpstreamAttempt& operator=(const UpstreamAttempt&) = delete;

  // `hold_stream_head`: a stream's head is held until its first event (so a
  // slow first token can still be retried or fallen back from); without
  // it the head is relayed as soon as it is complete, and the first event
  // is still bounded by first_event_deadline().
  env::Task<void> run(TimePoint request_deadline, bool hold_stream_head);

  State state() const { return state_; }
  std::size_t backend_index() const { return backend_; }
  const BackendTarget& backend() const { return b_; }
  AttemptLog& log();
  TimePoint deadline() const { return deadline_; }
  // The first-byte deadline, which also bounds a stream's first event.
  TimePoint first_event_deadline() const { return first_event_deadline_; }

  // failed:
  routing::AttemptFailure failure() const { return failure_; }
  openai::ErrorId error() const { return error_; }
  const std::string& detail() const { return detail_; }

  // head:
  UpstreamResponseParser& parser() { return *parser_; }
  env::Stream& upstream() { return *up_; }
  boost::beast::flat_buffer& buffer() { return buffers_.in; }
  // The held head's Retry-After, if it has one.
  std::optional<Duration> retry_after() const;

  // Tells the circuit breaker how the backend did (once; later calls are
  // ignored).
  void report(bool backend_ok);
  // Ends the attempt without relaying: the connection is closed.
  void close();
  // The response ended cleanly: the connection goes back to the pool when
  // nothing follows it; else it is closed.
  void release_connection(bool reusable);

 private:
  env::Task<env::error_code> read_head(TimePoint deadline, bool& got_bytes);
  void fail(routing::AttemptFailure f, openai::ErrorId id, std::string detail);

  Worker& worker_;
  Generation& gen_;
  Exchange& ex_;
  ClientWatch& watch_;
  AttemptBuffers& buffers_;
  const std::size_t backend_;
  const BackendTarget& b_;
  const std::size_t log_index_;
  routing::CircuitTicket ticket_;
  bool reported_ = false;
  State state_ = State::pending;
  TimePoint deadline_ = kNoDeadline;
  TimePoint first_event_deadline_ = kNoDeadline;
  bool hold_stream_head_ = true;
  std::unique_ptr<env::Stream> up_;
  std::optional<UpstreamResponseParser> parser_;
  routing::AttemptFailure failure_ = routing::AttemptFailure::none;
  openai::ErrorId error_ = openai::ErrorId::upstream_reset;
  std::string detail_;
};

// Catalogue error and routing class of an upstream I/O error.
openai::ErrorId upstream_error_for(const env::error_code& ec);
routing::AttemptFailure failure_for(const env::error_code& ec, bool connecting);

}  // namespace llmproxy::shell
