// What the shell reports about every request that reached it, exactly once,
// when the request ends. Observers: the simulator's checkers, logs, metrics
// and usage reporters (later issues).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/core/time.h"

namespace llmproxy::shell {

enum class Outcome : std::uint8_t {
  completed,      // a response was relayed to its end
  error,          // the gateway answered with its own error (or ended a stream with one)
  rejected,       // refused before any backend was tried (limits, 404/405, 400…)
  client_cancel,  // the client went away first
};

// One upstream attempt of a request, for checkers, traces and logs.
struct AttemptLog {
  std::uint32_t backend = 0;   // index into the shell config's backends
  int status = 0;              // upstream status, 0 if no response head
  std::uint8_t failure = 0;    // routing::AttemptFailure (0 = none)
  std::uint8_t circuit = 0;    // routing::CircuitState of the backend after the attempt
  bool relayed = false;        // this attempt's response went to the client
  std::uint64_t seq_start = 0; // worker-wide order of attempt starts and ends
  std::uint64_t seq_end = 0;
  TimePoint start{};
  TimePoint end{};
  std::vector<AttemptLog> attempt_log;  // in order
};

struct RequestRecord {
  std::string request_id;
  std::string method;
  std::string path;
  std::string target;       // path and query, as the client sent it
  std::string client_ip;
  std::string user_agent;   // for the access log ("" when absent)
  std::string referer;
  // The caller auth let in ("" for an anonymous request): the key's name,
  // its user_id and its prefix (all a log may show of the key).
  std::string key_name;
  std::string user_id;
  std::string key_prefix;
  int http_minor = 1;       // HTTP/1.<minor> of the request
  WallTime wall_start{};    // the request's start on the wall clock
  int status = 0;           // status sent to the client (0 if none was sent)
  Outcome outcome = Outcome::error;
  std::string error_code;   // the catalogue code when the gateway produced the error
  int error_id = -1;        // its openai::ErrorId, -1 when none
  std::string rate_limit;   // the rate-limit rule that rejected the request, "" if none
  std::string backend;      // backend that served the response, if any
  std::string model;
  bool stream = false;
  bool saw_done = false;    // the stream carried [DONE] to the client
  std::uint32_t attempts = 0;
  std::uint32_t retries = 0;    // attempts the routing plan retried
  std::uint32_t fallbacks = 0;  // attempts that went to a fallback backend
  std::uint8_t route = 0;       // http::Route of the request
  std::int64_t prompt_tokens = -1;      // -1: usage unknown
  std::int64_t completion_tokens = -1;
  std::int64_t total_tokens = -1;
  // The counts are the documented estimate (openai/usage_estimate.h) of an
  // event stream whose usage never arrived, not the backend's report.
  bool usage_estimated = false;
  std::uint64_t upstream_body_bytes = 0;
  std::uint64_t client_body_bytes = 0;
  TimePoint start{};
  TimePoint upstream_sent{};    // the request was written upstream (last attempt)
  TimePoint first_byte{};       // first upstream response byte (TTFB); {} if none
  TimePoint first_token{};      // a stream's first event relayed to the client,
                                // else the response head (last attempt); {} if none
  TimePoint last_upstream_read{};  // last upstream read that returned bytes
  TimePoint attempt_end{};      // the last attempt ended (success or failure)
  TimePoint end{};
  std::vector<AttemptLog> attempt_log;  // in order
};

const char* outcome_name(Outcome o);

// Resets `r` for the next request, keeping the capacity of its strings and
// attempt log (no allocation per request once they are warm).
void reset_record(RequestRecord& r);

}  // namespace llmproxy::shell
