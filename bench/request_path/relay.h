// A dumb TCP relay on the environment seam: every accepted connection gets
// its own upstream connection and bytes are copied both ways unchanged. It
// parses nothing, so in the simulator it measures what one more hop costs
// (simulated streams, events, two reads and two writes per chunk); what the
// gateway costs beyond it is the gateway's own work.
#pragma once

#include <cstdint>
#include <string>

#include "proxy/env/env.h"

namespace llmproxy::bench {

// Accepts until the acceptor is closed; each connection is relayed to
// upstream_host:upstream_port.
env::Task<void> run_relay(env::Env& env, env::Acceptor& acceptor, std::string upstream_host,
                          std::uint16_t upstream_port);

}  // namespace llmproxy::bench
