// A tiny HTTP/1.1 client on env::Stream for the fake backend's tests (and the
// simulator's, if useful): writes raw request bytes, reads one response with
// Beast's response_parser, and keeps the raw bytes and any transport error so
// tests can observe resets, truncation and malformed streams.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/env/env.h"

namespace llmproxy::fake::testing {

struct ClientResponse {
  // Transport error while reading (connection_reset, eof before the end,
  // timed_out); clear when the response was read completely.
  boost::system::error_code ec;
  bool complete = false;
  bool header_done = false;
  boost::beast::http::response<boost::beast::http::string_body> msg;  // body decoded so far
  std::string raw;  // every byte received for this response

  int status() const { return static_cast<int>(msg.result_int()); }
  std::string header(std::string_view name) const;
  const std::string& body() const { return msg.body(); }
};

// "POST /v1/chat/completions HTTP/1.1" with Host, Content-Type/Length and
// `extra_headers` (each "Name: value\r\n").
std::string make_request(std::string_view method, std::string_view target, std::string_view body = {},
                         std::string_view extra_headers = {});

// Reads one response from `stream`. `leftover` carries bytes that arrived
// after it (pipelining) into the next call.
env::Task<ClientResponse> read_response(env::Stream& stream, TimePoint deadline, std::string& leftover);

// Connects to 127.0.0.1:port, sends `request`, reads one response, closes.
env::Task<ClientResponse> roundtrip(env::Env& env, std::uint16_t port, std::string request,
                                    TimePoint deadline);

// The payloads of "data: ...\n\n" events, in order.
std::vector<std::string> sse_payloads(std::string_view body);

}  // namespace llmproxy::fake::testing
