// One client connection: reads HTTP/1.1 requests (keep-alive; pipelining-
// safe, since bytes that arrive early stay in the session's buffer) and runs
// each through the worker's pipeline (pipeline.h): built-in endpoints, then
// filters, then the route phase (forward.h), then the end (filters' on_end,
// observers). A session owns its buffers and reuses them across requests.
//
// Connection state (one enum): waiting for a request, reading one, handling
// one, or lingering after an early final answer. A drain ends the waits.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <list>
#include <memory>
#include <optional>
#include <string>

#include "proxy/core/http/framing.h"
#include "proxy/core/routing/route_plan.h"
#include "proxy/env/env.h"
#include "proxy/shell/admission.h"
#include "proxy/shell/body_relay.h"
#include "proxy/shell/client_watch.h"
#include "proxy/shell/client_writer.h"
#include "proxy/shell/exchange.h"
#include "proxy/shell/pipeline.h"
#include "proxy/shell/upstream_attempt.h"

namespace llmproxy::shell {

class Worker;
class Generation;

class Session {
 public:
  Session(Worker& worker, std::unique_ptr<env::Stream> client, Listener listener = Listener::main);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  env::Task<void> run();

  // Closes the connection if it is waiting for a next request (draining).
  void wake_if_idle();
  // Ends the connection now; pending operations finish with an error.
  void close_now() { client_->close(); }

 private:
  enum class ConnState : std::uint8_t { waiting, reading, handling, lingering };
  enum class ReadResult : std::uint8_t { request, closed, failed };

  env::Task<ReadResult> read_request();
  // Answers an unusable request (before it has an exchange) and closes.
  env::Task<ReadResult> refuse(openai::ErrorId id, std::string_view message = {});
  // After an early final response (400, 408, 413, 431, 501, 503) the client
  // may still be sending: closing with unread input would send a reset that
  // can destroy the response before the client reads it. So: shut down the
  // sending side, read and discard for a bounded time and size, then close.
  env::Task<void> linger_close();
  // Client bytes not read yet (in the buffer, or waiting on the socket).
  bool input_pending();

  env::Task<void> handle_request();
  env::Task<Outcome> answer_endpoint(http::Route route);
  env::Task<void> send_method_not_allowed(std::string_view allow);
  // Reads what the request path needs from a JSON body (model, stream,
  // token limits) and asks a stream for its usage; an error when unusable.
  std::optional<openai::ErrorId> read_body_fields();
  // Runs the filters of phases [from, until) from index `next` on; false
  // (and the request answered) when one refused or answered it.
  env::Task<bool> run_filters(FilterPhase until, std::size_t& next, Outcome& outcome);
  env::Task<Outcome> handle_proxied(const http::RouteMatch& match, std::size_t& filters_ran);
  void end_exchange(Outcome outcome);

  Worker& worker_;
  std::unique_ptr<env::Stream> client_;
  const Listener listener_;  // which endpoint table answers (pipeline.h)
  const std::string client_ip_;  // for X-Forwarded-For (asked once, not per attempt)
  ConnState state_ = ConnState::waiting;
  boost::beast::flat_buffer in_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  http::HeaderLineGuard line_guard_;
  // The process's buffer budget (shell/admission.h): the request body's
  // buffer while it is received and handled (503 when it does not fit), and
  // an SSE filter's buffers while large events are assembled.
  BufferCharge body_charge_;
  BufferCharge event_charge_;
  Exchange ex_;
  ClientWriter writer_;
  ClientWatch watch_;
  // The generation the current request pinned (null between requests).
  Generation* gen_ = nullptr;
  std::optional<routing::RoutePlan> plan_;
  std::uint64_t plan_generation_ = 0;
  AttemptBuffers attempt_buffers_;
  RelayBuffers relay_buffers_;
  std::string scratch_;  // reused: JSON decoding, endpoint bodies
  std::list<Session*>::iterator registry_;
};

// Serves one accepted connection to its end.
env::Task<void> run_session(Worker& worker, std::unique_ptr<env::Stream> client,
                            Listener listener = Listener::main);

}  // namespace llmproxy::shell
