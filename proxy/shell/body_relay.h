// Relays a held upstream response to the client: the head (hop-by-hop and
// Connection-listed fields dropped, the gateway's framing and headers set),
// then the body as it arrives. Streams are never buffered: every upstream
// read is written to the client before the next read, through the SSE
// filter (which removes the usage chunk the gateway asked for and finalises
// a stream without [DONE]); a truncated stream (reset, stall past the
// stream idle timeout, malformed event, buffer budget) ends with an SSE
// error event, never [DONE]. Token usage is read from the stream's usage
// chunk or the JSON body.
//
// Framing for the client: the backend's Content-Length when it is passed
// on unchanged; chunked for an HTTP/1.1 client otherwise; close-delimited
// for HTTP/1.0. 1xx, 204, 304 and answers to HEAD have no body.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "proxy/env/env.h"
#include "proxy/shell/admission.h"
#include "proxy/shell/client_watch.h"
#include "proxy/shell/client_writer.h"
#include "proxy/shell/exchange.h"
#include "proxy/shell/request_record.h"
#include "proxy/shell/upstream_attempt.h"

namespace llmproxy::shell {

class Worker;

// Buffers a session's relays reuse (capacity kept across requests).
struct RelayBuffers {
  std::string head;                        // the response head for the client
  std::string scratch;                     // joined Connection values, error events
  std::vector<std::string_view> pieces;    // body pieces of one write
  std::vector<boost::asio::const_buffer> wbufs;  // gather writes
  std::string usage_copy;                  // a non-stream body, for usage
};

struct RelayContext {
  Worker& worker;
  Exchange& ex;
  ClientWriter& writer;
  ClientWatch& watch;
  RelayBuffers& buffers;
  BufferCharge& event_charge;  // SSE events assembled for a slow client
  // The client's read buffer: a stream may stay open for minutes with
  // nothing to read from the client, so its memory goes back meanwhile.
  boost::beast::flat_buffer& client_in;
};

// Relays `attempt`'s held response to its end. Returns how the request
// ended (completed, client_cancel or error); the attempt's connection is
// pooled or closed, and the circuit breaker told.
env::Task<Outcome> relay_response(RelayContext ctx, UpstreamAttempt& attempt);

}  // namespace llmproxy::shell
