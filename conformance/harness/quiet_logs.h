// Simulation tests break backends on purpose; the gateway's warnings about
// every injected fault would drown their output. Including this header sets
// the log level to errors for the test binary.
#pragma once

#include "proxy/core/log/log.h"

namespace llmproxy::harness {

inline const bool kQuietLogs = [] {
  log::LoggerOptions o;
  o.level = log::Level::error;
  log::configure(o);
  return true;
}();

}  // namespace llmproxy::harness
