// The access log's line formats (logging.access.format, BEHAVIOR §10): one
// request in, exactly one line out ("\n"-terminated, no other "\n" in it),
// whatever bytes the request carried. Pure; appends to the caller's string.
//
// combined — exactly the Apache/nginx "combined" format, so every log tool
// parses it:
//   <client_ip> - - [<dd/Mon/yyyy:HH:MM:SS +0000>] "<method> <target> <protocol>"
//   <status> <body_bytes> "<referer>" "<user_agent>"      (one line, one space)
//   (the access-log module writes 499, as nginx does, for a request whose
//   client left before any status was sent)
//   Time is UTC (+0000), never the local zone. An empty client ip, referer
//   or user agent is "-", an empty request line "-" (empty parts of it are
//   left out). Escaped as nginx escapes variables: `"`, `\`, bytes below
//   0x20 and bytes 0x7F and above become \xHH (upper-case hex), so a field
//   can neither end its quotes nor the line. The gateway's own fields
//   (request id, timings, backend, model, tokens) are only in `json`.
//
// json — one object per line, keys in this order:
//   {"time":"2024-05-01T13:45:07.123Z","client_ip":…,"method":…,"target":…,
//    "protocol":…,"status":200,"body_bytes":1234,"referer":…,"user_agent":…,
//    "request_id":…,"duration":0.532,"backend":…,"model":…,
//    "prompt_tokens":12,"completion_tokens":34,"stream":true,"ttft":0.101,
//    "outcome":…,"error":…}
//   Text fields are always strings ("" when absent), escaped as JSON
//   requires (control characters as \uXXXX, invalid UTF-8 as U+FFFD), so
//   every line parses. duration and ttft are seconds with millisecond
//   precision; a negative token count, a negative or non-finite duration or
//   ttft is null (unknown / none). time has millisecond precision, UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/config/common.h"
#include "proxy/core/time.h"

namespace llmproxy::log {

// One finished request, as the access log sees it. Views only: the entry
// must not outlive what it points at (the request record being closed).
struct AccessEntry {
  std::string_view client_ip;
  WallTime time{};                      // when the request arrived
  std::string_view method;
  std::string_view target;              // path and query as received
  std::string_view protocol = "HTTP/1.1";
  int status = 0;
  std::uint64_t body_bytes = 0;         // response body bytes sent
  std::string_view referer;
  std::string_view user_agent;
  std::string_view request_id;
  double duration_seconds = 0;          // arrival to last byte sent
  std::string_view backend;             // backend name; "" when none was chosen
  std::string_view model;
  std::int64_t prompt_tokens = -1;      // -1: unknown
  std::int64_t completion_tokens = -1;  // -1: unknown
  bool stream = false;
  double upstream_ttft_seconds = -1;    // first upstream byte; -1: none
  std::string_view outcome;             // the request path's own word ("ok", "client_closed", …)
  std::string_view error_code;          // the OpenAI error code the gateway answered with; "" for none
  bool usage_estimated = false;         // the token counts are the usage estimate
  std::string_view key_name;            // the caller auth let in; "" when anonymous
  std::string_view user_id;
  std::string_view key_prefix;          // all a log may show of the key
};

void append_combined(std::string& out, const AccessEntry& e);
void append_json(std::string& out, const AccessEntry& e);
void append_access_line(std::string& out, const AccessEntry& e, config::AccessFormat format);

}  // namespace llmproxy::log
