// Runs a test's body coroutine on a real io_context until it ends, bounded
// by `limit`; `stop` then ends everything it started (acceptors, sessions,
// fake backends) so the context runs out of work. Shared by the shell's
// loopback tests, which each used to write this out.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <functional>

#include "proxy/env/env.h"

namespace llmproxy::testing {

// True when the body finished within `limit`; an exception it threw is
// rethrown here.
inline bool run_body(boost::asio::io_context& ioc, const std::function<env::Task<void>()>& body,
                     const std::function<void()>& stop, Duration limit) {
  bool done = false;
  std::exception_ptr failure;
  boost::asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
    failure = e;
    done = true;
    stop();
  });
  ioc.run_for(limit);
  if (failure) std::rethrow_exception(failure);
  return done;
}

}  // namespace llmproxy::testing
