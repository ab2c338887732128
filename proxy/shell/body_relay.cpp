#include "proxy/shell/body_relay.h"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/verb.hpp>

#include <charconv>
#include <optional>
#include <span>

#include "proxy/core/http/cors.h"
#include "proxy/core/http/request_rules.h"
#include "proxy/core/log/log.h"
#include "proxy/core/openai/sse_relay.h"
#include "proxy/core/openai/usage.h"
#include "proxy/core/openai/usage_estimate.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/shell/worker.h"

namespace llmproxy::shell {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using env::error_code;
using openai::ErrorId;

constexpr std::size_t kReadChunk = 16 * 1024;
// Non-stream response bodies are copied up to this size for usage extraction.
constexpr std::size_t kUsageCopyLimit = 4 * 1024 * 1024;
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";


// "1a2\r\n" for a chunk of n bytes.
std::size_t chunk_header(char (&buf)[24], std::size_t n) {
  auto r = std::to_chars(buf, buf + 20, n, 16);
  *r.ptr++ = '\r';
  *r.ptr++ = '\n';
  return static_cast<std::size_t>(r.ptr - buf);
}

// Collects what the SSE filter forwards for one batch of body pieces. Views
// into the pieces stay valid until the upstream buffer is reused, so they are
// kept as they are; bytes the filter had held back (strip mode only) live in
// its own buffers until its next feed(), so those are copied aside.
class CollectingSink final : public openai::SseSink {
 public:
  void begin(std::vector<std::string_view>& out) {
    out_ = &out;
    spill_.clear();
    marks_.clear();
  }
  void set_piece(std::string_view piece) { piece_ = piece; }
  void write(std::string_view bytes) override {
    if (bytes.empty()) return;
    const char* b = bytes.data();
    if (b >= piece_.data() && b + bytes.size() <= piece_.data() + piece_.size()) {
      out_->push_back(bytes);
      return;
    }
    marks_.push_back({out_->size(), spill_.size(), bytes.size()});
    spill_.append(bytes);
    out_->push_back({});
  }
  // Points the copied entries at their final place (spill_ no longer grows).
  void end() {
    for (const auto& m : marks_)
      (*out_)[m.index] = std::string_view(spill_.data() + m.offset, m.size);
  }

 private:
  struct Mark {
    std::size_t index, offset, size;
  };
  std::vector<std::string_view>* out_ = nullptr;
  std::string_view piece_;
  std::string spill_;
  std::vector<Mark> marks_;
};

// How the body is framed for the client.
struct Framing {
  bool sse = false;
  bool bodiless = false;     // 1xx, 204, 304, HEAD (RFC 9112 §6.3)
  bool pass_length = false;  // the backend's Content-Length, unchanged
  bool chunked = false;      // else close-delimited (HTTP/1.0 client)
};

Framing framing_for(const UpstreamResponseParser& parser, const Exchange& ex) {
  Framing f;
  f.sse = parser.is_event_stream();
  const int st = parser.status();
  f.bodiless = ex.request().method() == bhttp::verb::head || st == 204 || st == 304 ||
               (st >= 100 && st < 200);
  f.pass_length =
      !f.sse && parser.declared_length().has_value() && !ex.strip_usage && !f.bodiless;
  f.chunked = !f.pass_length && ex.request().version() >= 11 && !f.bodiless;
  return f;
}

class Relay {
 public:
  Relay(RelayContext& ctx, UpstreamAttempt& attempt)
      : ctx_(ctx),
        ex_(ctx.ex),
        attempt_(attempt),
        parser_(attempt.parser()),
        framing_(framing_for(parser_, ctx.ex)),
        filter_(ctx.ex.strip_usage) {}

  env::Task<Outcome> run();

 private:
  void build_head();
  env::Task<bool> write_pieces(std::span<const std::string_view> pieces, bool last);
  env::Task<bool> relay_parsed();
  env::Task<void> read_body();
  bool check_malformed();
  void take_usage();
  env::Task<Outcome> end_with_failure();

  RelayContext& ctx_;
  Exchange& ex_;
  UpstreamAttempt& attempt_;
  UpstreamResponseParser& parser_;
  const Framing framing_;
  openai::SseRelayFilter filter_;
  CollectingSink sink_;
  bool copy_for_usage_ = false;
  bool client_ok_ = true;
  bool ended_ = false;  // the body's end went to the client
  std::optional<ErrorId> failure_;
  std::string failure_detail_;
  char hex_[24];
};

void Relay::build_head() {
  std::string& rh = ctx_.buffers.head;
  std::string& scratch = ctx_.buffers.scratch;
  rh.clear();
  ClientWriter::append_head(ex_, rh, parser_.status(), parser_.reason());
  // Headers the backend's Connection fields name are hop-by-hop too.
  std::string_view resp_connection;
  for (const auto& [name, value] : parser_.fields())
    if (http::iequals(name, "connection")) http::join_list(resp_connection, value, scratch);
  const bool own_rate_headers = ex_.response_headers.find("x-ratelimit-") != std::string::npos;
  for (const auto& [name, value] : parser_.fields()) {
    if (http::is_hop_by_hop(name, resp_connection)) continue;
    if (http::iequals(name, "x-request-id")) continue;
    if (ex_.cors_headers_owned && http::is_cors_response_header(name)) continue;
    // The gateway's own limits replace whatever the backend said.
    if (own_rate_headers && http::istarts_with(name, "x-ratelimit-")) continue;
    // Bodiless answers keep the backend's Content-Length (it describes the
    // GET answer); otherwise the gateway frames the body itself.
    if (http::iequals(name, "content-length") && !framing_.bodiless) continue;
    rh += name;
    rh += ": ";
    rh += value;
    rh += kCrlf;
  }
  if (framing_.pass_length) {
    rh += "Content-Length: ";
    append_decimal(rh, *parser_.declared_length());
    rh += kCrlf;
  } else if (framing_.chunked) {
    rh += "Transfer-Encoding: chunked\r\n";
  }
  ctx_.writer.append_connection(ex_, rh);
  rh += kCrlf;
}

// Writes the head (first call only) and one framed piece of body.
env::Task<bool> Relay::write_pieces(std::span<const std::string_view> pieces, bool last) {
  auto& wbufs = ctx_.buffers.wbufs;
  wbufs.clear();
  if (!ex_.responding()) {
    ex_.mark_responding();
    wbufs.push_back(asio::buffer(ctx_.buffers.head));
  }
  std::size_t total = 0;
  const std::size_t header_at = wbufs.size();
  if (framing_.chunked) wbufs.push_back({});  // placeholder for the chunk header
  for (auto p : pieces) {
    if (p.empty()) continue;
    wbufs.push_back(asio::buffer(p));
    total += p.size();
  }
  if (framing_.chunked) {
    if (total > 0) {
      wbufs[header_at] = asio::buffer(hex_, chunk_header(hex_, total));
      wbufs.push_back(asio::buffer(kCrlf));
    } else {
      wbufs.erase(wbufs.begin() + static_cast<std::ptrdiff_t>(header_at));
    }
    if (last) wbufs.push_back(asio::buffer(kLastChunk));
  }
  ex_.record.client_body_bytes += total;
  if (wbufs.empty()) co_return true;
  co_return co_await ctx_.writer.write(wbufs);
}

// Relays what the last put() delivered. The head goes with the first call,
// whatever the body; the response's end (the SSE filter's finish, the last
// chunk) goes in the same write as its last bytes.
env::Task<bool> Relay::relay_parsed() {
  auto& pieces = ctx_.buffers.pieces;
  auto& usage_copy = ctx_.buffers.usage_copy;
  pieces.clear();
  sink_.begin(pieces);
  for (auto piece : parser_.body()) {
    if (framing_.sse) {
      sink_.set_piece(piece);
      filter_.feed(piece, sink_);
    } else {
      pieces.push_back(piece);
      if (copy_for_usage_ && usage_copy.size() + piece.size() <= kUsageCopyLimit)
        usage_copy.append(piece);
    }
  }
  // After a malformed event the stream ends with an error event instead.
  const bool last = parser_.is_done() && !(framing_.sse && filter_.malformed());
  if (last && framing_.sse) {
    sink_.set_piece({});
    filter_.finish(sink_);  // a stream without [DONE] is finalised now
  }
  sink_.end();
  ended_ = last;
  // A stream's first token: the first event that reaches the client.
  if (framing_.sse && !pieces.empty() && ex_.record.first_token == TimePoint{})
    ex_.record.first_token = ctx_.worker.env().now();
  if (pieces.empty() && !last && ex_.responding()) co_return true;
  co_return co_await write_pieces(pieces, last);
}

// The SSE filter stops forwarding after a malformed event; the stream then
// ends with an error event, whether more bytes were pending or not.
bool Relay::check_malformed() {
  if (framing_.sse && filter_.malformed() && !failure_) {
    failure_ = ErrorId::upstream_protocol_error;
    failure_detail_ = "malformed SSE event from backend";
  }
  return failure_.has_value();
}

env::Task<void> Relay::read_body() {
  auto& env = ctx_.worker.env();
  auto& watch = ctx_.watch;
  auto& in = attempt_.buffer();
  auto& up = attempt_.upstream();
  const BackendTarget& b = attempt_.backend();
  const TimePoint body_deadline = framing_.sse ? kNoDeadline : attempt_.deadline();
  // A stream whose head went out before its first event: that event is
  // still bounded by the first-byte deadline.
  auto next_idle_deadline = [&] {
    const TimePoint idle = deadline_after(env.now(), b.stream_idle_timeout);
    return ex_.record.first_token == TimePoint{} ? earliest(idle, attempt_.first_event_deadline())
                                                 : idle;
  };
  TimePoint idle_deadline = next_idle_deadline();
  while (client_ok_ && !failure_ && !parser_.is_done()) {
    if (watch.check()) break;
    const TimePoint limit = earliest(body_deadline, idle_deadline);
    error_code ec;
    const std::size_t n = co_await up.read_some(in.prepare(kReadChunk), watch.read_deadline(limit), ec);
    in.commit(n);
    if (n > 0) ex_.record.last_upstream_read = env.now();
    if (watch.woke_for_client(ec, limit)) continue;  // the loop's top looks at the client
    parser_.clear_body();
    if (ec == asio::error::eof && !parser_.declared_length() && !parser_.chunked()) {
      ec = {};
      parser_.put_eof(ec);  // close-delimited body ends here
      if (!ec) break;
    }
    if (!ec) {
      const std::size_t used = parser_.put(in.data(), ec);
      in.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
    }
    if (ec) {
      if (ec == asio::error::operation_aborted && watch.gone()) break;
      failure_ = ec == asio::error::eof ? ErrorId::upstream_reset : upstream_error_for(ec);
      failure_detail_ = ec.message();
      break;
    }
    ex_.record.upstream_body_bytes = parser_.body_bytes();
    client_ok_ = co_await relay_parsed();
    if (check_malformed()) break;
    if (framing_.sse && !ctx_.event_charge.charge_to(filter_.buffered_bytes())) {
      // Large events assembled for slow clients passed the process's buffer
      // budget: this stream ends with an error event rather than memory
      // growing without bound.
      failure_ = ErrorId::overloaded;
      failure_detail_ = "too much memory held for large stream events";
      break;
    }
    idle_deadline = next_idle_deadline();
  }
  ctx_.event_charge.release();
}

void Relay::take_usage() {
  openai::Usage u;
  if (framing_.sse) {
    u = filter_.usage();
    ex_.record.saw_done = filter_.saw_done() && !failure_;
    // A stream whose usage never arrived (cut, or a backend that does not
    // send it) is charged the documented estimate rather than left unknown,
    // so the limiter and the logs agree on one count.
    if (!u.present && parser_.status() < 300) {
      u = openai::estimate_stream_usage(filter_.output_events(),
                                        ratelimit::prompt_token_estimate(ex_.prompt_bytes));
      ex_.record.usage_estimated = true;
    }
  } else if (copy_for_usage_) {
    u = openai::extract_usage_from_body(ctx_.buffers.usage_copy);
  }
  if (u.present) {
    ex_.record.prompt_tokens = u.prompt_tokens;
    ex_.record.completion_tokens = u.completion_tokens;
    ex_.record.total_tokens = u.total_tokens;
  }
}

env::Task<Outcome> Relay::end_with_failure() {
  attempt_.report(false);
  attempt_.close();
  ex_.keep_alive = false;
  const BackendTarget& b = attempt_.backend();
  log::warn("upstream failed mid-response", {{"backend", b.name}, {"error", failure_detail_},
                                             {"request_id", ex_.request_id}});
  if (framing_.sse && framing_.chunked) {
    // The client learns the answer is incomplete: an error event, never [DONE].
    std::string& ev = ctx_.buffers.scratch;
    ev.assign(filter_.close_for_error());  // end a partial event first
    openai::append_sse_error_event(ev, *failure_,
                                   "backend " + b.name + " failed mid-stream: " + failure_detail_);
    const std::string_view view = ev;
    co_await write_pieces(std::span<const std::string_view>(&view, 1), true);
  }
  ex_.record.error_code = std::string(openai::error_info(*failure_).code);
  ex_.record.error_id = static_cast<int>(*failure_);
  co_return Outcome::error;
}

env::Task<Outcome> Relay::run() {
  auto& env = ctx_.worker.env();
  if (framing_.sse && ctx_.client_in.size() == 0) ctx_.client_in.shrink_to_fit();
  if (!framing_.pass_length && !framing_.chunked && !framing_.bodiless) ex_.keep_alive = false;
  build_head();
  ctx_.buffers.usage_copy.clear();
  copy_for_usage_ = !framing_.sse && parser_.status() < 300;

  // Head plus whatever body arrived with it.
  ex_.record.upstream_body_bytes = parser_.body_bytes();
  client_ok_ = co_await relay_parsed();
  check_malformed();
  co_await read_body();
  ex_.record.attempt_end = env.now();
  ctx_.watch.stop();
  take_usage();

  if (!client_ok_ || ctx_.watch.gone()) {
    attempt_.report(parser_.status() < 500);
    attempt_.close();
    ex_.keep_alive = false;
    co_return Outcome::client_cancel;
  }
  if (failure_) co_return co_await end_with_failure();
  attempt_.report(parser_.status() < 500);

  // Clean end not relayed yet (a close-delimited body ended by EOF). A
  // stream without [DONE] is finalised now, not waited on.
  if (!ended_) {
    auto& pieces = ctx_.buffers.pieces;
    pieces.clear();
    sink_.begin(pieces);
    if (framing_.sse) {
      sink_.set_piece({});
      filter_.finish(sink_);
    }
    sink_.end();
    client_ok_ = co_await write_pieces(pieces, true);
  }
  // Reused only when the response ended cleanly and nothing follows it:
  // bytes past the end (more than Content-Length, a body after a HEAD
  // answer) would be read as the next client's response.
  const std::size_t leftover = attempt_.buffer().size();
  if (leftover > 0)
    log::warn("backend sent bytes after the end of its response; connection closed",
              {{"backend", attempt_.backend().name}, {"bytes", std::to_string(leftover)},
               {"request_id", ex_.request_id}});
  attempt_.release_connection(!parser_.backend_wants_close() && parser_.is_done() &&
                              leftover == 0 && !ctx_.worker.draining() &&
                              !ctx_.worker.closed());
  co_return client_ok_ ? Outcome::completed : Outcome::client_cancel;
}

}  // namespace

env::Task<Outcome> relay_response(RelayContext ctx, UpstreamAttempt& attempt) {
  Relay relay(ctx, attempt);
  co_return co_await relay.run();
}

}  // namespace llmproxy::shell
