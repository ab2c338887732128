#include "proxy/shell/session.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "proxy/core/log/log.h"
#include "proxy/core/openai/request_fields.h"
#include "proxy/core/openai/sse_relay.h"
#include "proxy/core/openai/usage.h"
#include "proxy/core/http/request_rules.h"
#include "proxy/shell/upstream_response.h"

namespace llmproxy::shell {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using env::error_code;
using openai::ErrorId;

// Upstream reads: SSE chunks are small, but non-stream answers (embeddings)
// can be large, so reads are generous.
constexpr std::size_t kReadChunk = 16 * 1024;
// Client reads. 4 KiB was tried to cut memory per open stream: it saved only
// ~0.3 KB per stream and added ~80 µs to the time to first SSE chunk
// (bench/e2e.sh, 2026-11-26; cause not yet understood), so it stays 16 KiB.
constexpr std::size_t kClientReadChunk = 16 * 1024;
// A watcher stops reading a busy client's pipelined bytes past this much; TCP
// back-pressure then holds the rest.
constexpr std::size_t kWatchLimit = 64 * 1024;
// Non-stream response bodies are copied up to this size for usage extraction.
constexpr std::size_t kUsageCopyLimit = 4 * 1024 * 1024;

TimePoint earliest(TimePoint a, TimePoint b) { return a < b ? a : b; }
TimePoint after(TimePoint now, Duration d) { return d.count() > 0 ? now + d : kNoDeadline; }

std::string_view reason_phrase(int status) {
  return bhttp::obsolete_reason(static_cast<bhttp::status>(status));
}

void append_decimal(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// "1a2\r\n" for a chunk of n bytes.
std::size_t chunk_header(char (&buf)[24], std::size_t n) {
  auto r = std::to_chars(buf, buf + 20, n, 16);
  *r.ptr++ = '\r';
  *r.ptr++ = '\n';
  return static_cast<std::size_t>(r.ptr - buf);
}

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::need_more).category();
}

ErrorId upstream_error_for(const error_code& ec) {
  if (ec == asio::error::timed_out) return ErrorId::upstream_timeout;
  if (ec == asio::error::connection_refused || ec == asio::error::host_not_found ||
      ec == asio::error::host_not_found_try_again || ec == asio::error::network_unreachable ||
      ec == asio::error::host_unreachable)
    return ErrorId::upstream_connect_failed;
  if (is_http_parse_error(ec)) return ErrorId::upstream_protocol_error;
  return ErrorId::upstream_reset;
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
    for (const auto& m : marks_) (*out_)[m.index] = std::string_view(spill_.data() + m.offset, m.size);
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

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::completed: return "completed";
    case Outcome::error: return "error";
    case Outcome::rejected: return "rejected";
    case Outcome::client_cancel: return "client_cancel";
  }
  return "error";
}

// The background reader that notices a client going away while the gateway
// waits on a backend, so the upstream request is cancelled at once (vLLM frees
// the slot) instead of when the next byte is written. Bytes it reads (a
// pipelined next request) stay in the session's buffer.
struct Session::ClientWatch {
  bool active = true;
  bool finished = false;
  bool client_gone = false;
  env::Stream* upstream = nullptr;
  std::unique_ptr<env::Timer> joined;
};

Session::Session(Worker& worker, std::unique_ptr<env::Stream> client)
    : worker_(worker), client_(std::move(client)) {
  worker_.sessions_.push_front(this);
  registry_ = worker_.sessions_.begin();
  ++worker_.counters_.connections_accepted;
}

Session::~Session() { worker_.sessions_.erase(registry_); }

void Session::wake_if_idle() {
  if (idle_) client_->cancel();
}

env::Task<void> run_session(Worker& worker, std::unique_ptr<env::Stream> client) {
  Session s(worker, std::move(client));
  co_await s.run();
}

env::Task<void> Session::run() {
  while (!worker_.draining()) {
    const ReadResult r = co_await read_request();
    if (r != ReadResult::request) break;
    ++worker_.counters_.requests;
    ++worker_.in_flight_;
    co_await handle_request();
    --worker_.in_flight_;
    if (record_open_) finish_record(Outcome::error);
    if (!keep_alive_ || !client_->is_open()) break;
  }
  client_->close();
}

env::Task<Session::ReadResult> Session::read_request() {
  const ShellConfig& cfg = worker_.config();
  auto& env = worker_.env();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(cfg.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(cfg.max_body_size);
  parser_->eager(true);
  response_started_ = false;
  keep_alive_ = true;

  bool started = in_.size() > 0;
  bool sent_continue = false;
  TimePoint deadline = started ? after(env.now(), cfg.read_timeout)
                               : after(env.now(), cfg.idle_timeout);
  for (;;) {
    if (in_.size() > 0) {
      error_code ec;
      const std::size_t used = parser_->put(in_.data(), ec);
      in_.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) {
        keep_alive_ = false;
        if (ec == bhttp::error::header_limit)
          co_await send_error(ErrorId::header_too_large);
        else if (ec == bhttp::error::body_limit)
          co_await send_error(ErrorId::request_too_large);
        else
          co_await send_error(ErrorId::invalid_request,
                              "malformed HTTP request: " + ec.message());
        co_return ReadResult::failed;
      }
      if (parser_->is_done()) co_return ReadResult::request;
      if (parser_->is_header_done() && !sent_continue) {
        sent_continue = true;
        auto expect = parser_->get()[bhttp::field::expect];
        if (http::iequals(std::string_view(expect.data(), expect.size()), "100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          error_code wec;
          co_await client_->write(asio::buffer(kContinue), after(env.now(), cfg.write_timeout), wec);
          if (wec) co_return ReadResult::closed;
        }
      }
    }
    idle_ = !started;
    error_code ec;
    const std::size_t n =
        co_await client_->read_some(in_.prepare(kClientReadChunk), deadline, ec);
    idle_ = false;
    in_.commit(n);
    if (ec) {
      if (!started && in_.size() == 0) co_return ReadResult::closed;  // idle close, EOF, drain
      if (ec == asio::error::timed_out) {
        keep_alive_ = false;
        co_await send_error(ErrorId::request_timeout);
        co_return ReadResult::failed;
      }
      if (ec == asio::error::eof && in_.size() == 0 && !parser_->got_some())
        co_return ReadResult::closed;
      co_return ReadResult::closed;  // client went away mid-request: nobody to answer
    }
    if (!started) {
      started = true;
      deadline = after(env.now(), cfg.read_timeout);
    }
  }
}

void Session::finish_record(Outcome outcome) {
  if (!record_open_) return;
  record_open_ = false;
  record_.outcome = outcome;
  record_.end = worker_.env().now();
  if (worker_.on_request_end) worker_.on_request_end(record_);
}

env::Task<void> Session::handle_request() {
  auto& env = worker_.env();
  auto& req = parser_->get();
  keep_alive_ = req.keep_alive();

  // x-request-id: the client's if it is sane, else a fresh one.
  auto rid = req["X-Request-Id"];
  const std::string_view client_rid(rid.data(), rid.size());
  if (http::valid_request_id(client_rid)) {
    request_id_.assign(client_rid);
  } else {
    request_id_ = http::generate_request_id(env.rng());
  }

  record_ = RequestRecord{};
  record_open_ = true;
  record_.request_id = request_id_;
  record_.start = env.now();
  auto method = req.method_string();
  record_.method.assign(method.data(), method.size());
  auto target = req.target();
  const std::string_view target_sv(target.data(), target.size());
  const auto qpos = target_sv.find('?');
  const std::string_view path = target_sv.substr(0, qpos);
  record_.path.assign(path);

  const auto route = http::classify(record_.method, path, worker_.config().metrics_path);
  if (!route.method_allowed) {
    std::string allow = "Allow: ";
    allow += route.allow;
    allow += "\r\n";
    co_await send_error(ErrorId::method_not_allowed, {}, allow);
    finish_record(Outcome::rejected);
    co_return;
  }
  switch (route.route) {
    case http::Route::health:
      co_await send_simple(200, "application/json", R"({"status":"ok"})");
      finish_record(Outcome::completed);
      co_return;
    case http::Route::ready: {
      if (worker_.draining()) {
        co_await send_error(ErrorId::draining);
        finish_record(Outcome::rejected);
      } else if (!worker_.any_backend_routable()) {
        co_await send_error(ErrorId::no_backend_available);
        finish_record(Outcome::rejected);
      } else {
        co_await send_simple(200, "application/json", R"({"status":"ready"})");
        finish_record(Outcome::completed);
      }
      co_return;
    }
    case http::Route::chat_completions:
    case http::Route::completions:
    case http::Route::embeddings:
    case http::Route::models:
    case http::Route::v1_passthrough:
      co_await proxy_request(route.route, target_sv);
      co_return;
    default:
      // metrics and admin arrive with their own issues; until then they are
      // unknown paths, like any other.
      co_await send_error(ErrorId::not_found, "no route for " + std::string(path));
      finish_record(Outcome::rejected);
      co_return;
  }
}

env::Task<void> Session::proxy_request(http::Route route, std::string_view target) {
  auto& req = parser_->get();
  const ShellConfig& cfg = worker_.config();

  if (http::needs_json_body(route)) {
    const auto fields = openai::read_request_fields(req.body(), scratch_);
    if (fields.error) {
      co_await send_error(*fields.error, {}, {});
      finish_record(Outcome::rejected);
      co_return;
    }
    if (fields.model) record_.model.assign(*fields.model);
    record_.stream = fields.stream;
    // Streaming requests learn their usage: ask the backend for it (the
    // extra chunk is stripped again on the way back).
    body_out_.clear();
    strip_usage_ = fields.stream && openai::inject_include_usage(req.body(), fields, body_out_);
  } else {
    strip_usage_ = false;
  }
  if (cfg.backends.empty()) {
    co_await send_error(ErrorId::no_backend_available);
    finish_record(Outcome::error);
    co_return;
  }
  const std::size_t idx = worker_.pick_backend();
  co_await run_attempt(idx, target);
}

// One attempt against one backend, relaying its response. Returns true when a
// response (of any status) was relayed to its end.
env::Task<bool> Session::run_attempt(std::size_t backend_index, std::string_view target) {
  auto& env = worker_.env();
  const ShellConfig& cfg = worker_.config();
  const BackendTarget& b = cfg.backends[backend_index];
  auto& req = parser_->get();
  record_.backend = b.name;
  ++record_.attempts;

  // Body: byte for byte, unless a streaming request must learn its usage.
  const bool strip_usage = strip_usage_;
  const std::string_view body = strip_usage ? std::string_view(body_out_) : std::string_view(req.body());

  // Upstream request head.
  std::string& head = head_;
  head.clear();
  auto method = req.method_string();
  head.append(method.data(), method.size());
  head += ' ';
  head += b.base_path;
  head += target;
  head += " HTTP/1.1\r\nHost: ";
  head += b.host_header;
  head += kCrlf;
  auto connection = req[bhttp::field::connection];
  const std::string_view connection_sv(connection.data(), connection.size());
  std::string_view prior_xff;
  for (const auto& f : req) {
    auto name = f.name_string();
    const std::string_view n(name.data(), name.size());
    const auto v = f.value();
    const std::string_view value(v.data(), v.size());
    if (http::is_hop_by_hop(n, connection_sv)) continue;
    switch (f.name()) {
      case bhttp::field::host:
      case bhttp::field::content_length:
      case bhttp::field::expect:
        continue;
      case bhttp::field::authorization:
        if (!b.forward_api_key) continue;
        break;
      default:
        // Set by the gateway itself below (Beast has no enum for these).
        if (http::iequals(n, "x-request-id") || http::iequals(n, "x-forwarded-proto")) continue;
        if (http::iequals(n, "x-forwarded-for")) {
          prior_xff = value;
          continue;
        }
        if (!b.forward_api_key && http::iequals(n, "x-api-key")) continue;
        break;
    }
    head += n;
    head += ": ";
    head += value;
    head += kCrlf;
  }
  head += "X-Forwarded-For: ";
  http::append_forwarded_for(head, prior_xff, client_->remote_ip());
  head += "\r\nX-Forwarded-Proto: http\r\nX-Request-Id: ";
  head += request_id_;
  head += kCrlf;
  for (const auto& [k, v] : b.headers) {
    head += k;
    head += ": ";
    head += v;
    head += kCrlf;
  }
  if (!body.empty() || req.method() == bhttp::verb::post || req.method() == bhttp::verb::put ||
      req.method() == bhttp::verb::patch) {
    head += "Content-Length: ";
    append_decimal(head, body.size());
    head += kCrlf;
  }
  head += kCrlf;
  const std::string upstream_head = std::move(head);  // head_ is reused for the response
  head_.clear();

  const TimePoint attempt_deadline = after(env.now(), b.timeout);
  std::unique_ptr<env::Stream> up;
  error_code ec;
  UpstreamResponseParser parser;
  // The answer to HEAD has headers only, whatever Content-Length says.
  const bool head_request = req.method() == bhttp::verb::head;
  if (head_request) parser.skip(true);
  beast::flat_buffer ubuf;
  bool reused = false;

  // Connect (or reuse) and send; a reused connection that the backend closed
  // while idle is retried once on a fresh one, before any response byte.
  for (int round = 0; round < 2; ++round) {
    up = round == 0 ? worker_.pool().take(backend_index, env.now()) : nullptr;
    reused = up != nullptr;
    if (reused) {
      ++worker_.counters_.upstream_reuses;
    } else {
      ++worker_.counters_.upstream_connects;
      up = co_await env.connect(b.host, b.port,
                                earliest(attempt_deadline, after(env.now(), b.connect_timeout)), ec);
      if (ec) {
        log::warn("upstream connect failed", {{"backend", b.name}, {"error", ec.message()},
                                              {"request_id", request_id_}});
        co_await send_error(upstream_error_for(ec), "backend " + b.name + ": " + ec.message());
        finish_record(Outcome::error);
        co_return false;
      }
    }
    const asio::const_buffer out[2] = {asio::buffer(upstream_head), asio::buffer(body)};
    co_await up->write(std::span<const asio::const_buffer>(out, 2), attempt_deadline, ec);
    if (!ec) {
      record_.upstream_sent = env.now();
      break;
    }
    up->close();
    if (!reused) {
      co_await send_error(upstream_error_for(ec), "backend " + b.name + ": " + ec.message());
      finish_record(Outcome::error);
      co_return false;
    }
  }

  // From here a client that goes away cancels the upstream request.
  auto watch = std::make_shared<ClientWatch>();
  watch->upstream = up.get();
  watch->joined = env.make_timer();
  asio::co_spawn(env.executor(), watch_client(watch), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });

  // Response head, bounded by the attempt and first-byte deadlines.
  const TimePoint first_byte_deadline =
      earliest(attempt_deadline, after(env.now(), b.first_byte_timeout));
  bool got_bytes = false;
  while (!parser.is_header_done()) {
    const std::size_t n =
        co_await up->read_some(ubuf.prepare(kReadChunk), first_byte_deadline, ec);
    ubuf.commit(n);
    if (n > 0) {
      record_.last_upstream_read = env.now();
      if (!got_bytes) {
        got_bytes = true;
        record_.first_byte = env.now();
      }
    }
    if (!ec) {
      parser.clear_body();
      const std::size_t used = parser.put(ubuf.data(), ec);
      ubuf.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
    }
    if (ec) break;
  }
  if (ec) {
    record_.attempt_end = env.now();
    up->close();
    co_await stop_watch(watch);
    if (watch->client_gone) {
      finish_record(Outcome::client_cancel);
      keep_alive_ = false;
      co_return false;
    }
    const ErrorId id = upstream_error_for(ec);
    log::warn("upstream failed before response", {{"backend", b.name}, {"error", ec.message()},
                                                  {"request_id", request_id_}});
    co_await send_error(id, "backend " + b.name + ": " + ec.message());
    finish_record(Outcome::error);
    co_return false;
  }

  // Decide how the body is framed for the client.
  const bool sse = parser.is_event_stream();
  const bool client_11 = req.version() >= 11;
  // 1xx, 204, 304 and answers to HEAD never have a body (RFC 9112 §6.3).
  const int st = parser.status();
  const bool bodiless = head_request || st == 204 || st == 304 || (st >= 100 && st < 200);
  const bool pass_length =
      !sse && parser.declared_length().has_value() && !strip_usage && !bodiless;
  const bool chunked = !pass_length && client_11 && !bodiless;
  if (!pass_length && !client_11 && !bodiless) keep_alive_ = false;  // close-delimited
  record_.status = parser.status();

  std::string& rh = head_;
  rh.clear();
  append_response_head(rh, parser.status(), parser.reason());
  for (const auto& [name, value] : parser.fields()) {
    if (http::is_hop_by_hop(name, {})) continue;
    if (http::iequals(name, "x-request-id")) continue;
    // Bodiless answers keep the backend's Content-Length (it describes the
    // GET answer); otherwise the gateway frames the body itself.
    if (http::iequals(name, "content-length") && !bodiless) continue;
    rh += name;
    rh += ": ";
    rh += value;
    rh += kCrlf;
  }
  if (pass_length) {
    rh += "Content-Length: ";
    append_decimal(rh, *parser.declared_length());
    rh += kCrlf;
  } else if (chunked) {
    rh += "Transfer-Encoding: chunked\r\n";
  }
  if (!keep_alive_ || worker_.draining()) rh += "Connection: close\r\n";
  rh += kCrlf;

  openai::SseRelayFilter filter(strip_usage);
  std::string usage_copy;
  const bool copy_for_usage = !sse && parser.status() < 300;
  bool client_ok = true;
  const TimePoint body_deadline = sse ? kNoDeadline : attempt_deadline;

  // Writes the head (first call only) and one framed piece of body.
  char hex[24];
  auto relay = [&](std::span<const std::string_view> pieces,
                   bool last) -> env::Task<bool> {
    wbufs_.clear();
    if (!response_started_) {
      response_started_ = true;
      wbufs_.push_back(asio::buffer(head_));
    }
    std::size_t total = 0;
    const std::size_t header_at = wbufs_.size();
    if (chunked) wbufs_.push_back({});  // placeholder for the chunk header
    for (auto p : pieces) {
      if (p.empty()) continue;
      wbufs_.push_back(asio::buffer(p));
      total += p.size();
    }
    if (chunked) {
      if (total > 0) {
        wbufs_[header_at] = asio::buffer(hex, chunk_header(hex, total));
        wbufs_.push_back(asio::buffer(kCrlf));
      } else {
        wbufs_.erase(wbufs_.begin() + static_cast<std::ptrdiff_t>(header_at));
      }
      if (last) wbufs_.push_back(asio::buffer(kLastChunk));
    }
    record_.client_body_bytes += total;
    if (wbufs_.empty()) co_return true;
    co_return co_await write_all(wbufs_);
  };

  std::vector<std::string_view> out_pieces;
  CollectingSink sink;
  auto process_body = [&]() -> env::Task<bool> {
    if (parser.body().empty()) co_return true;
    out_pieces.clear();
    sink.begin(out_pieces);
    for (auto piece : parser.body()) {
      if (sse) {
        sink.set_piece(piece);
        filter.feed(piece, sink);
      } else {
        out_pieces.push_back(piece);
        if (copy_for_usage && usage_copy.size() + piece.size() <= kUsageCopyLimit)
          usage_copy.append(piece);
      }
    }
    sink.end();
    co_return co_await relay(out_pieces, false);
  };

  // Head plus whatever body arrived with it.
  record_.upstream_body_bytes = parser.body_bytes();
  if (parser.body().empty() && !parser.is_done()) {
    client_ok = co_await relay({}, false);
  } else {
    client_ok = co_await process_body();
  }

  std::optional<ErrorId> failure;
  std::string failure_detail;
  // The SSE filter stops forwarding after a malformed event; the stream then
  // ends with an error event, whether more bytes were pending or not.
  auto check_malformed = [&] {
    if (sse && filter.malformed() && !failure) {
      failure = ErrorId::upstream_protocol_error;
      failure_detail = "malformed SSE event from backend";
    }
    return failure.has_value();
  };
  check_malformed();
  while (client_ok && !failure && !parser.is_done()) {
    const TimePoint idle_deadline = after(env.now(), b.stream_idle_timeout);
    const std::size_t n =
        co_await up->read_some(ubuf.prepare(kReadChunk), earliest(body_deadline, idle_deadline), ec);
    ubuf.commit(n);
    if (n > 0) record_.last_upstream_read = env.now();
    parser.clear_body();
    if (ec == asio::error::eof && !parser.declared_length() && !parser.chunked()) {
      ec = {};
      parser.put_eof(ec);  // close-delimited body ends here
      if (!ec) break;
    }
    if (!ec) {
      const std::size_t used = parser.put(ubuf.data(), ec);
      ubuf.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
    }
    if (ec) {
      if (ec == asio::error::operation_aborted && watch->client_gone) break;
      failure = ec == asio::error::eof ? ErrorId::upstream_reset : upstream_error_for(ec);
      failure_detail = ec.message();
      break;
    }
    record_.upstream_body_bytes = parser.body_bytes();
    client_ok = co_await process_body();
    if (check_malformed()) break;
  }
  record_.attempt_end = env.now();
  co_await stop_watch(watch);

  if (sse) {
    if (auto u = filter.usage(); u.present) {
      record_.prompt_tokens = u.prompt_tokens;
      record_.completion_tokens = u.completion_tokens;
      record_.total_tokens = u.total_tokens;
    }
    record_.saw_done = filter.saw_done() && !failure;
  } else if (copy_for_usage) {
    if (auto u = openai::extract_usage_from_body(usage_copy); u.present) {
      record_.prompt_tokens = u.prompt_tokens;
      record_.completion_tokens = u.completion_tokens;
      record_.total_tokens = u.total_tokens;
    }
  }

  if (!client_ok || watch->client_gone) {
    up->close();
    keep_alive_ = false;
    client_->close();
    finish_record(Outcome::client_cancel);
    co_return false;
  }
  if (failure) {
    up->close();
    keep_alive_ = false;
    log::warn("upstream failed mid-response", {{"backend", b.name}, {"error", failure_detail},
                                               {"request_id", request_id_}});
    if (sse && chunked) {
      // The client learns the answer is incomplete: an error event, never [DONE].
      scratch_.assign(filter.close_for_error());  // end a partial event first
      openai::append_sse_error_event(scratch_, *failure,
                                     "backend " + b.name + " failed mid-stream: " + failure_detail);
      const std::string_view ev = scratch_;
      co_await relay(std::span<const std::string_view>(&ev, 1), true);
    }
    client_->close();
    record_.error_code = std::string(openai::error_info(*failure).code);
    finish_record(Outcome::error);
    co_return false;
  }

  // Clean end. A stream without [DONE] is finalised now, not waited on.
  if (sse) {
    out_pieces.clear();
    sink.begin(out_pieces);
    sink.set_piece({});
    filter.finish(sink);
    sink.end();
    client_ok = co_await relay(out_pieces, true);
  } else if (chunked) {
    client_ok = co_await relay({}, true);
  }
  if (parser.backend_wants_close() || !parser.is_done() || worker_.draining() ||
      worker_.closed()) {
    up->close();
  } else {
    worker_.pool().give_back(backend_index, std::move(up), env.now(), b.max_idle_conns);
  }
  if (!pass_length && !chunked && !bodiless) keep_alive_ = false;
  finish_record(client_ok ? Outcome::completed : Outcome::client_cancel);
  co_return client_ok;
}

env::Task<void> Session::watch_client(std::shared_ptr<ClientWatch> watch) {
  while (watch->active && in_.size() < kWatchLimit) {
    error_code ec;
    const std::size_t n = co_await client_->read_some(in_.prepare(kClientReadChunk), kNoDeadline, ec);
    in_.commit(n);
    if (ec) {
      if (ec != asio::error::operation_aborted || watch->active) {
        watch->client_gone = watch->active;
        if (watch->active && watch->upstream) watch->upstream->cancel();
      }
      break;
    }
  }
  watch->finished = true;
  watch->joined->cancel();
}

env::Task<void> Session::stop_watch(const std::shared_ptr<ClientWatch>& watch) {
  if (watch->finished) co_return;
  watch->active = false;
  client_->cancel();
  while (!watch->finished) {
    error_code ec;
    co_await watch->joined->sleep_until(kNoDeadline, ec);
  }
}

void Session::append_response_head(std::string& out, int status, std::string_view reason) {
  out += "HTTP/1.1 ";
  append_decimal(out, static_cast<std::uint64_t>(status));
  out += ' ';
  out += reason.empty() ? reason_phrase(status) : reason;
  out += "\r\nx-request-id: ";
  out += request_id_;
  out += kCrlf;
}

env::Task<bool> Session::write_all(std::span<const asio::const_buffer> bufs) {
  error_code ec;
  co_await client_->write(bufs, after(worker_.env().now(), worker_.config().write_timeout), ec);
  co_return !ec;
}

env::Task<void> Session::send_simple(int status, std::string_view content_type,
                                     std::string_view body, std::string_view extra_headers) {
  if (response_started_) co_return;
  response_started_ = true;
  record_.status = status;
  if (request_id_.empty()) request_id_ = http::generate_request_id(worker_.env().rng());
  head_.clear();
  append_response_head(head_, status, {});
  head_ += "Content-Type: ";
  head_ += content_type;
  head_ += "\r\nContent-Length: ";
  append_decimal(head_, body.size());
  head_ += kCrlf;
  head_ += extra_headers;
  if (!keep_alive_ || worker_.draining()) head_ += "Connection: close\r\n";
  head_ += kCrlf;
  // A HEAD request gets the headers of the GET answer, without its body.
  const bool head_only = parser_ && parser_->is_header_done() &&
                         parser_->get().method() == bhttp::verb::head;
  const asio::const_buffer out[2] = {asio::buffer(head_),
                                     asio::buffer(head_only ? std::string_view() : body)};
  const bool written = co_await write_all(std::span<const asio::const_buffer>(out, 2));
  if (!written) keep_alive_ = false;
}

env::Task<void> Session::send_error(ErrorId id, std::string_view message,
                                    std::string_view extra_headers) {
  const auto& info = openai::error_info(id);
  record_.error_code = std::string(info.code);
  std::string body;
  openai::append_error_body(body, id, message);
  co_await send_simple(info.http_status, "application/json", body, extra_headers);
}

}  // namespace llmproxy::shell
