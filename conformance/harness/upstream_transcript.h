// The harness's own reading of what crossed the gateway's upstream
// connections (from TapEnv's byte logs, parsed with Beast independently of
// the shell's parser): one entry per HTTP exchange, with the request id the
// gateway forwarded, the backend's status and body, and when it happened.
// The checkers compare clients with it; `llmproxy conform` prints it as a
// request's attempt trace.
#pragma once

#include <string>
#include <vector>

#include "conformance/harness/tap_env.h"

namespace llmproxy::harness {

struct UpstreamExchange {
  std::size_t tap = 0;      // ConnectionTap::id
  std::string peer;         // "host:port" the gateway connected to
  std::string request_id;   // X-Request-Id forwarded ("" e.g. for health probes)
  std::string method, target;
  int status = 0;           // 0: no response head arrived
  bool complete = false;    // the whole response arrived
  bool event_stream = false;
  bool reset = false;       // the connection was reset before the response was whole
  std::string retry_after;  // Retry-After of the response, if any
  std::string body;         // de-chunked, as far as it arrived
  TimePoint sent{};         // the request's last byte was written
  TimePoint first_byte{};   // the response's first byte was read ({} if none)
  TimePoint ended{};        // the response completed or the connection closed ({} if neither)
};

// The exchanges of one connection, in order.
std::vector<UpstreamExchange> split_exchanges(const ConnectionTap& tap);
// Every connection's exchanges, ordered by the time their request was sent.
std::vector<UpstreamExchange> all_exchanges(const std::vector<ConnectionTap>& taps);

}  // namespace llmproxy::harness
