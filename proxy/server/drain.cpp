#include "proxy/server/drain.h"

#include "proxy/env/env.h"
#include "proxy/shell/worker.h"

namespace llmproxy::server {

void begin_drain(shell::Worker& worker, env::Acceptor& acceptor, env::Acceptor* admin) {
  // Closing first: a connection accepted between the two steps would be
  // closed by serve()'s draining check anyway, but this way it is refused
  // by the network instead of accepted and dropped.
  acceptor.close();
  if (admin) admin->close();
  worker.start_draining();
}

void end_drain(shell::Worker& worker) { worker.close_all_sessions(); }

}  // namespace llmproxy::server
