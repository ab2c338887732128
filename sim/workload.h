// A fake HTTP/1.1 client for simulated workloads: sends raw request bytes on
// a fresh env::Stream and records every response byte exactly as received,
// with timings, so harness invariants can compare what a client saw with
// what a backend sent (e.g. SSE bytes in order, nothing after a truncation).
// It only frames the response (Content-Length, chunked, or close-delimited);
// it does not interpret bodies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/env/env.h"

namespace llmproxy::sim {

struct HttpExchange {
  std::string request;   // bytes sent
  std::string response;  // bytes received, raw (head and body, framing included)
  int status = 0;        // 0 until a status line arrived
  bool complete = false;  // the response's framing says it is whole
  bool cancelled = false;  // the client gave up (cancel_after) and reset
  env::error_code connect_error;
  env::error_code error;  // what ended reading early (eof on a close-delimited body is not an error)
  TimePoint started{}, connected{}, first_byte{}, finished{};
  // (arrival time, bytes) for every read that delivered bytes.
  std::vector<std::pair<TimePoint, std::size_t>> reads;

  // The body as received (still chunk-encoded if chunked), empty if no head.
  std::string_view raw_body() const;
};

struct FakeClientOptions {
  std::string host;
  std::uint16_t port = 0;
  Duration connect_timeout = std::chrono::seconds(10);
  Duration response_timeout = std::chrono::seconds(300);
  std::size_t read_buffer = 16 * 1024;
};

class FakeClient {
 public:
  FakeClient(env::Env& env, FakeClientOptions options)
      : env_(env), options_(std::move(options)) {}

  // Sends `request` on a new connection and reads one response. With
  // cancel_after, the client resets the connection that long after sending
  // (a user closing the tab) unless the response completed first.
  env::Task<HttpExchange> send(std::string request,
                               std::optional<Duration> cancel_after = std::nullopt);

 private:
  env::Env& env_;
  FakeClientOptions options_;
};

// "POST <target>" with a JSON body, Host, Content-Type and Content-Length.
// extra_headers: complete lines, each ending in "\r\n".
std::string http_post_json(std::string_view target, std::string_view host, std::string_view body,
                           std::string_view extra_headers = {});

// Framing of one HTTP/1.1 response in `bytes`:
struct ResponseFraming {
  bool head_complete = false;
  int status = 0;
  std::size_t head_size = 0;  // through the blank line
  // Total size once known complete; nullopt while more bytes are needed or
  // the body is close-delimited.
  std::optional<std::size_t> total_size;
  bool close_delimited = false;
  bool malformed = false;
};
ResponseFraming frame_response(std::string_view bytes);

}  // namespace llmproxy::sim
