// The route phase of the pipeline: attempts on backends until a response is
// relayed or nothing is left to try (BEHAVIOR §4, docs/routing.md). Each
// attempt ends at its held response head (upstream_attempt.h); the routing
// plan (proxy/core/routing/route_plan.h) then decides, once, whether the
// request retries, falls back or stops; on stop the held response is
// relayed (body_relay.h), or the last failure becomes the client's error.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>

#include "proxy/core/routing/route_plan.h"
#include "proxy/env/env.h"
#include "proxy/shell/admission.h"
#include "proxy/shell/body_relay.h"
#include "proxy/shell/client_watch.h"
#include "proxy/shell/client_writer.h"
#include "proxy/shell/exchange.h"
#include "proxy/shell/request_record.h"
#include "proxy/shell/upstream_attempt.h"

namespace llmproxy::shell {

class Worker;
class Generation;

struct ForwardContext {
  Worker& worker;
  Generation& gen;  // the one the request pinned
  Exchange& ex;
  ClientWriter& writer;
  ClientWatch& watch;
  routing::RoutePlan& plan;
  AttemptBuffers& attempt_buffers;
  RelayBuffers& relay_buffers;
  BufferCharge& event_charge;
  boost::beast::flat_buffer& client_in;
};

// Returns how the request ended. The gateway's own error (nothing routable,
// the last attempt's failure) is sent here.
env::Task<Outcome> forward(ForwardContext ctx);

}  // namespace llmproxy::shell
