// One client connection: reads HTTP/1.1 requests (keep-alive, pipelining-safe
// since bytes that arrive early stay in the session's buffer), answers the
// gateway's own endpoints, and forwards the rest to a backend, relaying the
// response as it arrives. Everything the gateway says itself goes through
// send_error(), the one place where catalogue errors become responses.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proxy/core/http/framing.h"
#include "proxy/core/http/request_rules.h"
#include "proxy/core/openai/error_catalogue.h"
#include "proxy/core/routing/retry_policy.h"
#include "proxy/env/env.h"
#include "proxy/shell/request_record.h"
#include "proxy/shell/upstream_response.h"
#include "proxy/shell/worker.h"

namespace llmproxy::shell {

class Session final : private env::ReadListener {
 public:
  Session(Worker& worker, std::unique_ptr<env::Stream> client);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  env::Task<void> run();

  // Closes the connection if it is waiting for a next request (draining).
  void wake_if_idle();
  // Ends the connection now; pending operations finish with an error.
  void close_now() { client_->close(); }

 private:
  enum class ReadResult { request, closed, failed };
  // The client, seen while the gateway waits on a backend for it:
  // off (not waiting), watching (a readiness watch is set), pipelined (it
  // sent its next request already, so it is checked by peeking now and
  // then), gone (it closed or reset: the upstream request is cancelled).
  enum class ClientWatch : std::uint8_t { off, watching, pipelined, gone };

  // How one attempt ended. `finished`: the request is over (a response was
  // relayed, an error sent, or the client left). Otherwise nothing reached
  // the client and the request may try again (see next_step()).
  struct AttemptResult {
    bool finished = false;
    routing::AttemptFailure failure = routing::AttemptFailure::none;
    openai::ErrorId error = openai::ErrorId::upstream_reset;  // for the client if nothing follows
    std::string detail;
  };
  // What the request does after a failed attempt.
  struct Step {
    enum Kind : std::uint8_t { stop, retry, fallback } kind = stop;
    Duration wait{0};             // retry: the backoff before it
    std::size_t backend = 0;      // the backend of the next attempt
  };
  // Per-request routing state (buffers reused across requests).
  struct RouteState {
    std::vector<std::uint8_t> eligible;
    std::vector<std::uint8_t> failed;   // backends that failed this request
    std::span<const std::size_t> fallbacks;
    std::size_t next_fallback = 0;
    bool balanced = true;   // the current backend came from the balancer
    int retries = 0;
    TimePoint deadline = kNoDeadline;  // routing.request_timeout
    std::string_view model;
    Step planned;           // decided when a response head arrived
  };

  env::Task<ReadResult> read_request();
  // After an early final response (400, 408, 413, 431, 501, 503) the client
  // may still be sending: closing with unread input would send a reset that
  // can destroy the response before the client reads it. So: shut down the
  // sending side, read and discard for a bounded time and size, then close.
  env::Task<void> linger_close();
  env::Task<void> handle_request();
  env::Task<void> proxy_request(http::Route route, std::string_view target);
  env::Task<void> route_request(std::string_view target);
  env::Task<AttemptResult> run_attempt(std::size_t backend_index, std::string_view target);
  env::Task<env::error_code> read_response_head(env::Stream& up,
                                                std::optional<UpstreamResponseParser>& parser,
                                                bool head_request, TimePoint deadline,
                                                bool& got_bytes);
  // Chooses the backend for a new request (or after a failure, a retry may
  // re-pick); routing::kNoBackend when nothing is eligible.
  std::size_t pick(bool exclude_failed);
  // Backend i is routable now and serves the request's model.
  bool can_serve(std::size_t backend, TimePoint now) const;
  // The next fallback of the chain that can serve; kNoBackend when none is left.
  std::size_t take_fallback(TimePoint now);
  Step next_step(std::size_t backend, routing::AttemptFailure failure,
                 std::optional<Duration> retry_after);

  env::Task<void> send_error(openai::ErrorId id, std::string_view message = {},
                             std::string_view extra_headers = {});
  env::Task<void> send_simple(int status, std::string_view content_type, std::string_view body,
                              std::string_view extra_headers = {});
  env::Task<bool> write_all(std::span<const boost::asio::const_buffer> bufs);
  void finish_record(Outcome outcome);

  // While the gateway waits on a backend, a client that goes away cancels
  // the upstream request at once (vLLM frees the slot) instead of when the
  // next byte is written. A readiness watch, not a read: no buffer is held,
  // and bytes that arrive (a pipelined next request) stay in the kernel.
  void watch_client(env::Stream& upstream);
  void stop_watch();
  void on_readable() override;
  void client_left();
  bool client_gone() const { return watch_ == ClientWatch::gone; }
  // While a pipelined next request sits unread, the client cannot be
  // watched by readiness (it is always readable): upstream reads wake at
  // least every kPipelinedClientCheck (pipelined_check_deadline) and
  // check_pipelined_client() peeks; true when the client has left.
  static constexpr Duration kPipelinedClientCheck = std::chrono::milliseconds(200);
  TimePoint pipelined_check_deadline(TimePoint deadline) const;
  bool check_pipelined_client();
  // An upstream read ended only so that the client could be looked at.
  bool woke_for_client(const env::error_code& ec, TimePoint deadline) const;

  void append_response_head(std::string& out, int status, std::string_view reason);

  Worker& worker_;
  std::unique_ptr<env::Stream> client_;
  const std::string client_ip_;  // for X-Forwarded-For (asked once, not per attempt)
  boost::beast::flat_buffer in_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool idle_ = false;
  bool keep_alive_ = true;
  bool response_started_ = false;
  bool record_open_ = false;
  bool strip_usage_ = false;  // the gateway injected include_usage
  http::HeaderLineGuard line_guard_;
  // The process's buffer budget (shell/admission.h): the request body's
  // buffer while it is received and handled (503 when it does not fit), and
  // an SSE filter's buffers while large events are assembled.
  BufferCharge body_charge_;
  BufferCharge event_charge_;
  RequestRecord record_;
  std::string request_id_;
  std::string head_;         // reused: the response head for the client
  std::string scratch_;      // reused: JSON decoding, error bodies
  std::string body_out_;     // reused: rewritten request body
  std::vector<boost::asio::const_buffer> wbufs_;  // reused: gather writes
  RouteState route_;
  env::Stream* watched_upstream_ = nullptr;  // cancelled when the client leaves
  ClientWatch watch_ = ClientWatch::off;
  TimePoint next_client_check_{};  // ClientWatch::pipelined: when to peek next
  // Reused per attempt (capacity kept): the upstream request head, the
  // upstream read buffer, the parsed upstream head, SSE pieces to write, and
  // the copy of a non-stream body for usage extraction.
  std::string upstream_head_;
  std::string head_scratch_;  // headers that appear more than once, joined
  boost::beast::flat_buffer ubuf_;
  UpstreamHeadStorage upstream_storage_;
  std::vector<std::string_view> out_pieces_;
  std::string usage_copy_;
  std::string rate_headers_;  // x-ratelimit-* lines for every response of the request
  std::list<Session*>::iterator registry_;
};

// Serves one accepted connection to its end.
env::Task<void> run_session(Worker& worker, std::unique_ptr<env::Stream> client);

}  // namespace llmproxy::shell
