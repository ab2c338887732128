// Everything the gateway writes to a client goes through here: relayed
// responses (their head is built by append_head) and the gateway's own
// answers, where send_error() is the one place a catalogue error becomes a
// response (OpenAI-shaped JSON, the catalogue's status, x-request-id and
// the exchange's response headers).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "proxy/core/openai/error_catalogue.h"
#include "proxy/env/env.h"
#include "proxy/shell/exchange.h"

namespace llmproxy::shell {

class Worker;

class ClientWriter {
 public:
  ClientWriter(Worker& worker, env::Stream& client) : worker_(worker), client_(client) {}

  // One gathered write, bounded by server.write_timeout; false on failure.
  env::Task<bool> write(std::span<const boost::asio::const_buffer> bufs);

  // The status line and the headers every response of `ex` carries
  // (x-request-id, the exchange's response headers). `reason` "" = standard.
  static void append_head(const Exchange& ex, std::string& out, int status,
                          std::string_view reason);
  // "Connection: close" when the connection ends after this response.
  void append_connection(const Exchange& ex, std::string& out) const;

  // A complete response of the gateway's own. Nothing is written when the
  // exchange is responding already. A HEAD request gets the head only.
  env::Task<void> send_simple(Exchange& ex, int status, std::string_view content_type,
                              std::string_view body, std::string_view extra_headers = {});
  // A response without a body (204 has no Content-Length, others say 0).
  env::Task<void> send_empty(Exchange& ex, int status, std::string_view extra_headers);
  env::Task<void> send_error(Exchange& ex, openai::ErrorId id, std::string_view message = {},
                             std::string_view extra_headers = {});

 private:
  Worker& worker_;
  env::Stream& client_;
  std::string head_;  // reused
  std::string body_;  // reused: error bodies
};

// Appends the decimal digits of v.
void append_decimal(std::string& out, std::uint64_t v);

}  // namespace llmproxy::shell
