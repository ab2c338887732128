// A small HTTP/1.1 client on the environment seam, for tests and the
// simulator's workload: sends raw request bytes on a Stream and records the
// response as it arrives (status, headers, de-chunked body, arrival times).
// It parses with Beast's response parser, independently of the shell's own
// upstream parser, so the two do not share bugs.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "proxy/env/env.h"

namespace llmproxy::testing {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;       // de-chunked
  bool complete = false;  // the whole message was received
  bool keep_alive = false;
  env::error_code error;  // transport error that ended the read, if any
  // (time, body bytes so far) after every read that delivered body bytes.
  std::vector<std::pair<TimePoint, std::size_t>> arrivals;

  std::string header(std::string_view name) const;
};

// Writes `request` and reads one response. `stop` (optional) is asked after
// every read; returning true stops reading early (the caller then usually
// closes the stream to simulate a client that goes away).
env::Task<ClientResponse> exchange(env::Env& env, env::Stream& stream, std::string request,
                                   TimePoint deadline,
                                   std::function<bool(const ClientResponse&)> stop = {});

// The same, keeping bytes read past the response in `carry` for the next
// call (pipelined or keep-alive responses that arrive in one read).
env::Task<ClientResponse> exchange(env::Env& env, env::Stream& stream, std::string& carry,
                                   std::string request, TimePoint deadline,
                                   std::function<bool(const ClientResponse&)> stop = {});

// "POST /v1/chat/completions" with a JSON body and the usual headers.
std::string json_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view extra_headers = {});

}  // namespace llmproxy::testing
