// One request from its parsed head to its end: what the pipeline's phases,
// filters and observers are handed explicitly (never read from a session's
// members). A Session owns one Exchange and reuses it for each request of
// its connection, so strings and vectors keep their capacity and the steady
// state allocates nothing.
//
// Phase, the exchange's one state:
//   idle        no request (between requests, or one that failed to parse)
//   open        a request is being handled; nothing sent to the client yet
//   responding  the response head went out: from here the client can only
//               be told more through the body (an SSE error event), and no
//               other attempt may answer
//   ended       the record went to the observers (exactly once)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/core/http/request_rules.h"
#include "proxy/core/random.h"
#include "proxy/core/time.h"
#include "proxy/shell/request_record.h"
#include "proxy/shell/upstream_request.h"

namespace llmproxy::shell {

// Who sent the request, as the auth filter found it (BEHAVIOR §7). The views
// point into the generation's key table, which outlives every request that
// pins the generation.
struct Caller {
  bool checked = false;       // the auth filter ran for this request
  std::string_view id;        // the key's identity (SHA-256 hex); "" = anonymous (a skipped path)
  std::string_view name;      // the key's configured name
  std::string_view user_id;
  std::string_view key_prefix;  // all a log may show of the key
  // The views above point into the auth module's record of the key; a
  // record from a store (which a cache may drop mid-request) is held here
  // until the request ends.
  std::shared_ptr<const void> held;
};

class Exchange {
 public:
  enum class Phase : std::uint8_t { idle, open, responding, ended };

  // Starts a request (capacity kept from the previous one): phase open,
  // request id (the client's X-Request-Id when sane, else a fresh one from
  // `rng`), record started.
  void begin(const ClientRequest& req, TimePoint now, WallTime wall_now, Rng& rng);
  // Back to idle after the request ended (its record was delivered).
  void reset_idle() { phase_ = Phase::idle; }

  Phase phase() const { return phase_; }
  bool responding() const { return phase_ == Phase::responding; }
  bool open() const { return phase_ == Phase::open || phase_ == Phase::responding; }
  // The response head was written.
  void mark_responding() { phase_ = Phase::responding; }
  // The record was delivered (Pipeline::end); false when it already was.
  bool mark_ended() {
    if (!open()) return false;
    phase_ = Phase::ended;
    return true;
  }

  const ClientRequest& request() const { return *request_; }
  std::string_view target() const { return target_; }
  std::string_view path() const { return path_; }
  http::Route route = http::Route::not_found;

  std::string request_id;
  std::string_view client_ip;  // the connection's peer (the socket's remote address)
  // Set by the auth filter; per-key rate limits count on caller.id when it
  // is checked, not on the raw header.
  Caller caller;
  RequestRecord record;
  // Whether the connection may serve another request after this one.
  bool keep_alive = true;
  // Header lines ("Name: value\r\n") every response of this request carries,
  // the gateway's own errors included (rate-limit state, CORS).
  std::string response_headers;
  // The gateway answers CORS itself: a backend's Access-Control-* headers
  // are not relayed.
  bool cors_headers_owned = false;

  // The body as it goes upstream: the client's, unless a transform changed
  // it (the gateway asked a stream for its usage: `strip_usage`, and the
  // extra chunk is removed again on the way back).
  std::string rewritten_body;
  bool body_rewritten = false;
  bool strip_usage = false;
  std::string_view upstream_body() const {
    return body_rewritten ? std::string_view(rewritten_body)
                          : std::string_view(request_->body());
  }
  // For the token reservation of rate limits.
  std::int64_t max_tokens = -1;
  std::size_t prompt_bytes = 0;

 private:
  Phase phase_ = Phase::idle;
  const ClientRequest* request_ = nullptr;
  std::string_view target_;
  std::string_view path_;
};

}  // namespace llmproxy::shell
