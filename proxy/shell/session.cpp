#include "proxy/shell/session.h"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "proxy/core/log/log.h"
#include "proxy/core/openai/request_fields.h"
#include "proxy/core/openai/sse_relay.h"
#include "proxy/core/openai/usage.h"
#include "proxy/core/http/request_rules.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/core/routing/fallback_chains.h"
#include "proxy/shell/upstream_request.h"
#include "proxy/shell/upstream_response.h"
#include "proxy/stores/limiter_store.h"

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

std::string_view buffer_view(const beast::flat_buffer& b) {
  const auto d = b.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

// 400 or 501 for a request whose body length is ambiguous or encoded in a
// way the gateway does not forward (proxy/core/http/framing.h).
template <class Request>
std::optional<ErrorId> framing_error(const Request& req) {
  http::FramingFields f;
  std::string scratch;  // only when a request has several Transfer-Encoding fields
  for (const auto& field : req) {
    const auto v = field.value();
    const std::string_view value(v.data(), v.size());
    if (field.name() == bhttp::field::transfer_encoding) {
      ++f.te_fields;
      http::join_list(f.transfer_encoding, value, scratch);
    } else if (field.name() == bhttp::field::content_length) {
      ++f.content_length_fields;
      f.content_length = value;
    }
  }
  f.http_minor = req.version() % 10;
  switch (http::check_request_framing(f)) {
    case http::FramingVerdict::ok: return std::nullopt;
    case http::FramingVerdict::bad_request: return ErrorId::invalid_request;
    case http::FramingVerdict::not_implemented: return ErrorId::not_implemented;
  }
  return ErrorId::invalid_request;
}

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

routing::AttemptFailure failure_for(const error_code& ec, bool connecting) {
  if (ec == asio::error::timed_out) return routing::AttemptFailure::timeout;
  if (connecting) return routing::AttemptFailure::connect_failure;
  return routing::AttemptFailure::reset;
}

// The API key a client presented (Authorization: Bearer …, else x-api-key);
// "" when none. Rate limits per key use it until auth exists (BEHAVIOR §6).
template <class Request>
std::string_view presented_key(const Request& req) {
  auto auth = req[bhttp::field::authorization];
  std::string_view a(auth.data(), auth.size());
  if (a.size() > 7 && http::iequals(a.substr(0, 7), "bearer ")) {
    a.remove_prefix(7);
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    return a;
  }
  auto x = req["x-api-key"];
  return std::string_view(x.data(), x.size());
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

Session::Session(Worker& worker, std::unique_ptr<env::Stream> client)
    : worker_(worker),
      client_(std::move(client)),
      client_ip_(client_->remote_ip()),
      body_charge_(worker.admission()),
      event_charge_(worker.admission()) {
  worker_.sessions_.push_front(this);
  registry_ = worker_.sessions_.begin();
  ++worker_.counters_.connections_accepted;
}

Session::~Session() {
  worker_.admission().close_connection();
  worker_.sessions_.erase(registry_);
}

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
    if (r == ReadResult::failed) {
      // The request was answered early (its body may be unread): free its
      // buffers now, then let the client read the answer.
      body_charge_.release();
      parser_.reset();
      co_await linger_close();
      co_return;
    }
    if (r != ReadResult::request) break;
    ++worker_.counters_.requests;
    ++worker_.in_flight_;
    co_await handle_request();
    --worker_.in_flight_;
    body_charge_.release();
    if (record_open_) finish_record(Outcome::error);
    if (!keep_alive_ || !client_->is_open()) break;
  }
  client_->close();
}

env::Task<void> Session::linger_close() {
  // nginx's lingering_time / lingering_timeout, shorter: long enough for a
  // client to notice the answer and stop, bounded so that a client that
  // never stops costs one small buffer for a few seconds.
  constexpr Duration kLingerTotal = std::chrono::seconds(5);
  constexpr Duration kLingerIdle = std::chrono::seconds(1);
  constexpr std::size_t kLingerBytes = 64u << 20;
  auto& env = worker_.env();
  if (!client_->is_open()) co_return;
  client_->shutdown_send();
  const TimePoint end = env.now() + kLingerTotal;
  std::size_t discarded = in_.size();
  in_.clear();
  while (discarded < kLingerBytes && !worker_.closed()) {
    error_code ec;
    idle_ = true;  // a drain may end the wait at once
    const std::size_t n = co_await client_->read_some(in_.prepare(kClientReadChunk),
                                                      earliest(end, env.now() + kLingerIdle), ec);
    idle_ = false;
    discarded += n;
    if (ec) break;
  }
  in_.clear();
  in_.shrink_to_fit();
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
  line_guard_.reset();
  bool framing_checked = false;
  for (;;) {
    if (in_.size() > 0) {
      // A header line Beast cannot store would make it throw (431), and a
      // folded header line could be read differently by a proxy in front (400).
      if (!parser_->is_header_done()) {
        const auto v = line_guard_.check(buffer_view(in_));
        if (v != http::HeaderLineGuard::Verdict::ok) {
          keep_alive_ = false;
          if (v == http::HeaderLineGuard::Verdict::line_too_long)
            co_await send_error(ErrorId::header_too_large, "a request header line is too long");
          else
            co_await send_error(ErrorId::invalid_request,
                                "obsolete line folding in request headers");
          co_return ReadResult::failed;
        }
      }
      error_code ec;
      const bool in_head = !parser_->is_header_done();
      const std::size_t used = parser_->put(in_.data(), ec);
      in_.consume(used);
      if (in_head) line_guard_.consumed(used);
      if (ec == bhttp::error::need_more) ec = {};
      // Framing is judged once, on the head alone, before the body counts
      // for anything: eager parsing may already have taken some of it, or
      // failed on it (a body framed by a coding the gateway refuses).
      if (parser_->is_header_done() && !framing_checked) {
        framing_checked = true;
        if (const auto bad = framing_error(parser_->get())) {
          keep_alive_ = false;
          co_await send_error(*bad, *bad == ErrorId::not_implemented
                                        ? "unsupported Transfer-Encoding"
                                        : "ambiguous request framing (Transfer-Encoding / "
                                          "Content-Length)");
          co_return ReadResult::failed;
        }
      }
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
      // The body's buffer, not its length so far: Beast reserves a declared
      // Content-Length up front.
      if (!body_charge_.charge_to(parser_->get().body().capacity())) {
        keep_alive_ = false;
        co_await send_error(ErrorId::overloaded);
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
  if (!record_.attempt_log.empty() && record_.attempt_log.back().seq_end == 0) {
    record_.attempt_log.back().end = record_.end;
    record_.attempt_log.back().seq_end = worker_.next_attempt_seq();
  }
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
    http::generate_request_id(env.rng(), request_id_);
  }

  {
    // Keep the attempt log's capacity: no allocation per request for it.
    auto attempts = std::move(record_.attempt_log);
    attempts.clear();
    record_ = RequestRecord{};
    record_.attempt_log = std::move(attempts);
  }
  record_open_ = true;
  rate_headers_.clear();
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

  std::int64_t max_tokens = -1;  // for the token reservation
  std::size_t prompt_bytes = 0;
  if (http::needs_json_body(route)) {
    const auto fields = openai::read_request_fields(req.body(), scratch_);
    if (fields.error) {
      co_await send_error(*fields.error, {}, {});
      finish_record(Outcome::rejected);
      co_return;
    }
    if (fields.model) record_.model.assign(*fields.model);
    record_.stream = fields.stream;
    if (fields.max_completion_tokens) max_tokens = *fields.max_completion_tokens;
    if (fields.max_tokens) max_tokens = *fields.max_tokens;
    prompt_bytes = fields.prompt_bytes;
    // Streaming requests learn their usage: ask the backend for it (the
    // extra chunk is stripped again on the way back).
    body_out_.clear();
    strip_usage_ = fields.stream && openai::inject_include_usage(req.body(), fields, body_out_);
  } else {
    strip_usage_ = false;
  }
  // Rate limits: one store round trip; the verdict's headers go on every
  // response of this request, and the slot is always given back at the end.
  stores::LimiterStore* limiter = worker_.limiter();
  stores::AdmitRequest admit;
  if (limiter) {
    admit.now = worker_.env().now();
    admit.key = presented_key(req);
    admit.token_reservation = ratelimit::token_reservation(
        max_tokens, prompt_bytes);
    const ratelimit::Verdict verdict = co_await limiter->admit(admit);
    ratelimit::append_rate_limit_headers(rate_headers_, verdict);
    if (!verdict.admitted) {
      std::string msg = "rate limit exceeded: ";
      msg += verdict.limit;
      co_await send_error(ErrorId::rate_limit_exceeded, msg);
      finish_record(Outcome::rejected);
      co_return;
    }
  }
  co_await route_request(target);
  if (limiter) {
    stores::FinishRequest fin;
    fin.now = worker_.env().now();
    fin.key = admit.key;
    fin.token_reservation = admit.token_reservation;
    fin.actual_tokens = record_.total_tokens;
    co_await limiter->finish(fin);
  }
}

// Picks the first backend and walks retries and fallbacks (BEHAVIOR §4,
// docs/routing.md) until a response is relayed or nothing is left to try.
env::Task<void> Session::route_request(std::string_view target) {
  auto& env = worker_.env();
  const ShellConfig& cfg = worker_.config();
  const auto& rs = cfg.routing;
  const std::size_t n = cfg.backends.size();
  route_.failed.assign(n, 0);
  route_.fallbacks = {};
  route_.next_fallback = 0;
  route_.retries = 0;
  route_.model = record_.model;
  route_.deadline = after(record_.start, rs.request_timeout);

  std::size_t backend = pick(false);
  route_.balanced = true;
  if (backend != routing::kNoBackend) {
    route_.fallbacks = rs.fallback.fallbacks_of(backend, route_.model);
    route_.balanced = route_.fallbacks.empty();
  } else {
    // No primary is routable: a fallback chain still may be.
    route_.fallbacks = rs.fallback.first_fallbacks(route_.model);
    route_.balanced = false;
    backend = take_fallback(env.now());
  }
  if (backend == routing::kNoBackend) {
    std::string msg;
    if (n == 0) {
      msg = "no backends configured";
    } else if (!record_.model.empty()) {
      msg = "no healthy backend for model " + record_.model;
    }
    co_await send_error(ErrorId::no_backend_available, msg);
    finish_record(Outcome::error);
    co_return;
  }

  for (;;) {
    route_.planned = Step{};
    AttemptResult r = co_await run_attempt(backend, target);
    if (r.finished) co_return;
    route_.failed[backend] = 1;
    // A response head already decided the next step; other failures decide now.
    const Step step = route_.planned.kind != Step::stop
                          ? route_.planned
                          : next_step(backend, r.failure, std::nullopt);
    if (step.kind == Step::stop) {
      co_await send_error(r.error, r.detail);
      finish_record(Outcome::error);
      co_return;
    }
    if (step.kind == Step::retry && step.wait.count() > 0) {
      error_code ec;
      co_await env.sleep_for(step.wait, ec);
    }
    backend = step.backend;
  }
}

std::size_t Session::pick(bool exclude_failed) {
  auto& env = worker_.env();
  const ShellConfig& cfg = worker_.config();
  const std::size_t n = cfg.backends.size();
  auto& eligible = route_.eligible;
  eligible.assign(n, 0);
  if (!cfg.routing.fallback.empty()) cfg.routing.fallback.standbys(route_.model, eligible);
  const TimePoint now = env.now();
  for (std::size_t i = 0; i < n; ++i) {
    // `eligible` holds the standby marks so far; turn it into the answer.
    const bool standby = eligible[i] != 0;
    eligible[i] = !standby && !(exclude_failed && route_.failed[i]) && can_serve(i, now);
  }
  return worker_.balancer().pick(eligible, env.rng(), now);
}

bool Session::can_serve(std::size_t backend, TimePoint now) const {
  return worker_.routable(backend, now) &&
         routing::model_matches(worker_.config().backends[backend].models, route_.model);
}

std::size_t Session::take_fallback(TimePoint now) {
  while (route_.next_fallback < route_.fallbacks.size()) {
    const std::size_t f = route_.fallbacks[route_.next_fallback++];
    if (can_serve(f, now)) return f;
  }
  return routing::kNoBackend;
}

// After backend `backend` failed: retry (same backend, or a re-pick when the
// balancer chose it), move to the next fallback, or stop. A retry whose wait
// would pass max_wait (a long Retry-After) or the request deadline moves on
// to the fallbacks instead of sleeping.
Session::Step Session::next_step(std::size_t backend, routing::AttemptFailure failure,
                                 std::optional<Duration> retry_after) {
  using routing::AttemptFailure;
  auto& env = worker_.env();
  const auto& policy = worker_.config().routing.retry;
  const TimePoint now = env.now();
  Step step;
  if (failure == AttemptFailure::none || failure == AttemptFailure::client_error) return step;
  if (now >= route_.deadline) return step;  // routing.request_timeout: nothing more
  if (policy.retryable(failure) && route_.retries < policy.max_retries) {
    Duration wait = policy.wait_before(route_.retries + 1, env.rng());
    bool fits = true;
    if (retry_after) {
      if (*retry_after > policy.max_wait) fits = false;
      wait = std::max(wait, *retry_after);
    }
    if (fits && route_.deadline != kNoDeadline && now + wait >= route_.deadline) fits = false;
    if (fits) {
      std::size_t next = backend;
      if (route_.balanced) {
        // A retry may go elsewhere: another routable backend first.
        next = pick(true);
        if (next == routing::kNoBackend) next = pick(false);
      } else if (!worker_.routable(backend, now)) {
        next = routing::kNoBackend;
      }
      if (next != routing::kNoBackend) {
        ++route_.retries;
        step.kind = Step::retry;
        step.wait = wait;
        step.backend = next;
        return step;
      }
    }
  }
  if (const std::size_t f = take_fallback(now); f != routing::kNoBackend) {
    route_.balanced = false;
    step.kind = Step::fallback;
    step.backend = f;
  }
  return step;
}

// Balancer and circuit-breaker bookkeeping of one attempt: started when the
// attempt starts, ended exactly once however it ends.
class AttemptAccounting {
 public:
  AttemptAccounting(Worker& w, std::size_t i, AttemptLog& log) : w_(w), i_(i), log_(log) {
    w_.balancer().on_start(i_);
    ticket_ = w_.circuit().on_attempt(i_, w_.env().now());
    log_.backend = static_cast<std::uint32_t>(i_);
    log_.start = w_.env().now();
    log_.seq_start = w_.next_attempt_seq();
  }
  ~AttemptAccounting() {
    w_.balancer().on_end(i_);
    if (!reported_) w_.circuit().on_abandoned(i_, ticket_);
    if (log_.seq_end == 0) {  // finish_record() closes it first when the request ends here
      log_.end = w_.env().now();
      log_.seq_end = w_.next_attempt_seq();
    }
  }
  AttemptAccounting(const AttemptAccounting&) = delete;
  AttemptAccounting& operator=(const AttemptAccounting&) = delete;
  void result(bool backend_ok) {
    if (reported_) return;
    reported_ = true;
    w_.circuit().on_result(i_, ticket_, backend_ok, w_.env().now());
  }

 private:
  routing::CircuitTicket ticket_;
  Worker& w_;
  std::size_t i_;
  AttemptLog& log_;
  bool reported_ = false;
};

// One attempt against one backend. Relays the response unless it is a
// failure the request will try again after (next_step()); failures before a
// response head are returned for route_request() to decide.
env::Task<Session::AttemptResult> Session::run_attempt(std::size_t backend_index,
                                                       std::string_view target) {
  auto& env = worker_.env();
  const ShellConfig& cfg = worker_.config();
  const BackendTarget& b = cfg.backends[backend_index];
  auto& req = parser_->get();
  record_.backend = b.name;
  ++record_.attempts;
  // The record's timings describe the last attempt.
  record_.upstream_sent = {};
  record_.first_byte = {};
  record_.last_upstream_read = {};
  record_.attempt_log.emplace_back();
  const std::size_t log_index = record_.attempt_log.size() - 1;
  AttemptAccounting accounting(worker_, backend_index, record_.attempt_log[log_index]);
  AttemptResult result;
  auto fail = [&](routing::AttemptFailure f, ErrorId id, std::string detail) {
    record_.attempt_log[log_index].failure = static_cast<std::uint8_t>(f);
    accounting.result(false);
    result.finished = false;
    result.failure = f;
    result.error = id;
    result.detail = std::move(detail);
    return result;
  };
  auto finished = [&] {
    record_.attempt_log[log_index].relayed = response_started_;
    result.finished = true;
    return result;
  };

  // Body: byte for byte, unless a streaming request must learn its usage.
  const bool strip_usage = strip_usage_;
  const std::string_view body = strip_usage ? std::string_view(body_out_) : std::string_view(req.body());

  UpstreamRequestInfo info;
  info.target = target;
  info.body_size = body.size();
  info.client_ip = client_ip_;
  info.request_id = request_id_;
  build_upstream_head(upstream_head_, req, b, info, head_scratch_);
  const std::string& upstream_head = upstream_head_;

  const TimePoint attempt_deadline = earliest(after(env.now(), b.timeout), route_.deadline);
  std::unique_ptr<env::Stream> up;
  error_code ec;
  std::optional<UpstreamResponseParser> head_parser;
  // The answer to HEAD has headers only, whatever Content-Length says.
  const bool head_request = req.method() == bhttp::verb::head;
  beast::flat_buffer& ubuf = ubuf_;
  bool got_bytes = false;

  // Connect (or reuse), send, and read the response head. A reused
  // connection that the backend closed while it sat idle (uvicorn closes
  // idle keep-alives after 5 s) shows up as a failed write or, on Linux
  // usually, as EOF or a reset before any response byte: the request then
  // goes once more on a fresh connection. That is neither a retry nor a
  // backend failure, since the backend never saw the request.
  for (int round = 0;; ++round) {
    ubuf.clear();  // nothing of an earlier connection is kept
    up = round == 0 ? worker_.pool().take(backend_index, env.now()) : nullptr;
    const bool reused = up != nullptr;
    if (reused) {
      ++worker_.counters_.upstream_reuses;
    } else {
      ++worker_.counters_.upstream_connects;
      up = co_await env.connect(b.host, b.port,
                                earliest(attempt_deadline, after(env.now(), b.connect_timeout)), ec);
      if (ec) {
        log::warn("upstream connect failed", {{"backend", b.name}, {"error", ec.message()},
                                              {"request_id", request_id_}});
        record_.attempt_end = env.now();
        co_return fail(failure_for(ec, true), upstream_error_for(ec),
                       "backend " + b.name + ": " + ec.message());
      }
    }
    const asio::const_buffer out[2] = {asio::buffer(upstream_head), asio::buffer(body)};
    co_await up->write(std::span<const asio::const_buffer>(out, 2), attempt_deadline, ec);
    if (ec) {
      up->close();
      if (reused && round == 0) continue;
      record_.attempt_end = env.now();
      co_return fail(failure_for(ec, false), upstream_error_for(ec),
                     "backend " + b.name + ": " + ec.message());
    }
    record_.upstream_sent = env.now();

    // From here a client that goes away cancels the upstream request.
    watch_client(*up);
    // Response head, bounded by the attempt and first-byte deadlines.
    const TimePoint first_byte_deadline =
        earliest(attempt_deadline, after(env.now(), b.first_byte_timeout));
    ec = co_await read_response_head(*up, head_parser, head_request, first_byte_deadline,
                                     got_bytes);
    if (ec && reused && round == 0 && !got_bytes && !client_gone() &&
        (ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe)) {
      stop_watch();
      up->close();
      ++worker_.counters_.stale_reuses;
      log::info("pooled upstream connection was closed by the backend; sending on a new one",
                {{"backend", b.name}, {"request_id", request_id_}});
      continue;
    }
    break;
  }
  if (ec) {
    record_.attempt_end = env.now();
    up->close();
    stop_watch();
    if (client_gone()) {
      finish_record(Outcome::client_cancel);
      keep_alive_ = false;
      co_return finished();
    }
    // A backend that never answers must look slow to latency_based.
    if (ec == asio::error::timed_out && !got_bytes)
      worker_.balancer().on_first_byte(backend_index, env.now() - record_.upstream_sent);
    const ErrorId id = upstream_error_for(ec);
    log::warn("upstream failed before response", {{"backend", b.name}, {"error", ec.message()},
                                                  {"request_id", request_id_}});
    co_return fail(failure_for(ec, false), id, "backend " + b.name + ": " + ec.message());
  }
  UpstreamResponseParser& parser = *head_parser;
  if (got_bytes && record_.first_byte >= record_.upstream_sent)
    worker_.balancer().on_first_byte(backend_index, record_.first_byte - record_.upstream_sent);

  // An error status the request will try again after is not relayed.
  {
    const routing::AttemptFailure f = routing::classify_status(parser.status());
    if (f != routing::AttemptFailure::none) {
      std::optional<Duration> retry_after;
      for (const auto& [name, value] : parser.fields())
        if (http::iequals(name, "retry-after"))
          retry_after = routing::parse_retry_after(value, env.wall_now());
      record_.attempt_log[log_index].status = parser.status();
      record_.attempt_log[log_index].failure = static_cast<std::uint8_t>(f);
      const Step step = next_step(backend_index, f, retry_after);
      if (step.kind != Step::stop) {
        route_.planned = step;
        record_.status = parser.status();
        record_.attempt_end = env.now();
        up->close();
        stop_watch();
        accounting.result(f == routing::AttemptFailure::too_many_requests);
        if (client_gone()) {
          finish_record(Outcome::client_cancel);
          keep_alive_ = false;
          co_return finished();
        }
        log::info("retrying after upstream status",
                  {{"backend", b.name}, {"status", std::to_string(parser.status())},
                   {"request_id", request_id_}});
        result.failure = f;
        co_return result;
      }
    }
  }

  // Decide how the body is framed for the client.
  const bool sse = parser.is_event_stream();
  // A stream may stay open for minutes with nothing to read from the client,
  // which is watched without a buffer: its read buffer goes back now
  // (read_request makes a new one for the next request).
  if (sse && in_.size() == 0) in_.shrink_to_fit();
  const bool client_11 = req.version() >= 11;
  // 1xx, 204, 304 and answers to HEAD never have a body (RFC 9112 §6.3).
  const int st = parser.status();
  const bool bodiless = head_request || st == 204 || st == 304 || (st >= 100 && st < 200);
  const bool pass_length =
      !sse && parser.declared_length().has_value() && !strip_usage && !bodiless;
  const bool chunked = !pass_length && client_11 && !bodiless;
  if (!pass_length && !client_11 && !bodiless) keep_alive_ = false;  // close-delimited
  record_.status = parser.status();
  record_.attempt_log[log_index].status = parser.status();

  std::string& rh = head_;
  rh.clear();
  append_response_head(rh, parser.status(), parser.reason());
  // Headers the backend's Connection fields name are hop-by-hop too.
  std::string_view resp_connection;
  for (const auto& [name, value] : parser.fields())
    if (http::iequals(name, "connection")) http::join_list(resp_connection, value, head_scratch_);
  for (const auto& [name, value] : parser.fields()) {
    if (http::is_hop_by_hop(name, resp_connection)) continue;
    if (http::iequals(name, "x-request-id")) continue;
    // The gateway's own limits replace whatever the backend said.
    if (!rate_headers_.empty() && http::istarts_with(name, "x-ratelimit-")) continue;
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
  std::string& usage_copy = usage_copy_;
  usage_copy.clear();
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

  std::vector<std::string_view>& out_pieces = out_pieces_;
  CollectingSink sink;
  // Relays what the last put() delivered. The head goes with the first call,
  // whatever the body; the response's end (the SSE filter's finish, the last
  // chunk) goes in the same write as its last bytes.
  bool ended = false;
  auto process_body = [&]() -> env::Task<bool> {
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
    // After a malformed event the stream ends with an error event instead.
    const bool last = parser.is_done() && !(sse && filter.malformed());
    if (last && sse) {
      sink.set_piece({});
      filter.finish(sink);  // a stream without [DONE] is finalised now
    }
    sink.end();
    ended = last;
    if (out_pieces.empty() && !last && response_started_) co_return true;
    co_return co_await relay(out_pieces, last);
  };

  // Head plus whatever body arrived with it.
  record_.upstream_body_bytes = parser.body_bytes();
  client_ok = co_await process_body();

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
  TimePoint idle_deadline = after(env.now(), b.stream_idle_timeout);
  while (client_ok && !failure && !parser.is_done()) {
    if (check_pipelined_client()) break;
    const TimePoint limit = earliest(body_deadline, idle_deadline);
    const std::size_t n =
        co_await up->read_some(ubuf.prepare(kReadChunk), pipelined_check_deadline(limit), ec);
    ubuf.commit(n);
    if (n > 0) record_.last_upstream_read = env.now();
    if (woke_for_client(ec, limit)) {
      ec = {};
      continue;  // the loop's top looks at the client
    }
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
      if (ec == asio::error::operation_aborted && client_gone()) break;
      failure = ec == asio::error::eof ? ErrorId::upstream_reset : upstream_error_for(ec);
      failure_detail = ec.message();
      break;
    }
    record_.upstream_body_bytes = parser.body_bytes();
    client_ok = co_await process_body();
    if (check_malformed()) break;
    if (sse && !event_charge_.charge_to(filter.buffered_bytes())) {
      // Large events assembled for slow clients passed the process's buffer
      // budget: this stream ends with an error event rather than memory
      // growing without bound.
      failure = ErrorId::overloaded;
      failure_detail = "too much memory held for large stream events";
      break;
    }
    idle_deadline = after(env.now(), b.stream_idle_timeout);
  }
  event_charge_.release();
  record_.attempt_end = env.now();
  stop_watch();

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

  if (!client_ok || client_gone()) {
    up->close();
    keep_alive_ = false;
    client_->close();
    accounting.result(parser.status() < 500);
    finish_record(Outcome::client_cancel);
    co_return finished();
  }
  if (failure) {
    accounting.result(false);
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
    co_return finished();
  }
  accounting.result(parser.status() < 500);

  // Clean end not relayed yet (a close-delimited body ended by EOF). A
  // stream without [DONE] is finalised now, not waited on.
  if (!ended) {
    out_pieces.clear();
    sink.begin(out_pieces);
    if (sse) {
      sink.set_piece({});
      filter.finish(sink);
    }
    sink.end();
    client_ok = co_await relay(out_pieces, true);
  }
  // Reused only when the response ended cleanly and nothing follows it:
  // bytes past the end (more than Content-Length, a body after a HEAD
  // answer) would be read as the next client's response.
  if (parser.backend_wants_close() || !parser.is_done() || ubuf.size() > 0 ||
      worker_.draining() || worker_.closed()) {
    if (ubuf.size() > 0)
      log::warn("backend sent bytes after the end of its response; connection closed",
                {{"backend", b.name}, {"bytes", std::to_string(ubuf.size())},
                 {"request_id", request_id_}});
    up->close();
  } else {
    worker_.pool().give_back(backend_index, std::move(up), env.now(), b.max_idle_conns);
  }
  if (!pass_length && !chunked && !bodiless) keep_alive_ = false;
  finish_record(client_ok ? Outcome::completed : Outcome::client_cancel);
  co_return finished();
}

// Reads until the final response head (for a stream: its first event, so a
// backend slow to its first token can still be retried or fallen back from;
// the head then goes out together with that event). Interim 1xx answers
// (100 Continue, 103 Early Hints) are read and dropped: relaying one as the
// final answer would leave the real answer on the connection for the next
// request. The parser is made anew for each head; `got_bytes` tells whether
// any response byte arrived.
env::Task<error_code> Session::read_response_head(env::Stream& up,
                                                  std::optional<UpstreamResponseParser>& parser,
                                                  bool head_request, TimePoint deadline,
                                                  bool& got_bytes) {
  // More interim heads than this is an upstream that never answers.
  constexpr int kMaxInterimHeads = 8;
  auto fresh = [&] {
    parser.emplace(upstream_storage_);
    if (head_request) parser->skip(true);
  };
  fresh();
  int interim = 0;
  auto& env = worker_.env();
  for (;;) {
    if (ubuf_.size() > 0) {
      error_code ec;
      parser->clear_body();
      const std::size_t used = parser->put(ubuf_.data(), ec);
      ubuf_.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) co_return ec;
      if (parser->is_header_done() && parser->status() / 100 == 1) {
        // 101 would switch protocols, which the gateway never asked for.
        if (parser->status() == 101 || ++interim > kMaxInterimHeads)
          co_return bhttp::error::bad_status;
        fresh();
        continue;
      }
      const bool answered =
          parser->is_header_done() &&
          !(parser->is_event_stream() && parser->status() / 100 == 2 &&
            parser->body().empty() && !parser->is_done());
      if (answered) co_return error_code{};
    }
    error_code ec;
    const std::size_t n =
        co_await up.read_some(ubuf_.prepare(kReadChunk), pipelined_check_deadline(deadline), ec);
    ubuf_.commit(n);
    if (n > 0) {
      record_.last_upstream_read = env.now();
      if (!got_bytes) {
        got_bytes = true;
        record_.first_byte = env.now();
      }
    }
    if (woke_for_client(ec, deadline)) {
      if (check_pipelined_client()) co_return asio::error::operation_aborted;
      continue;
    }
    if (ec) co_return ec;
  }
}

void Session::watch_client(env::Stream& upstream) {
  watched_upstream_ = &upstream;
  watch_ = ClientWatch::watching;
  client_->watch_readable(*this);
}

void Session::stop_watch() {
  if (watch_ == ClientWatch::watching) client_->unwatch_readable();
  if (watch_ != ClientWatch::gone) watch_ = ClientWatch::off;
  watched_upstream_ = nullptr;
}

void Session::client_left() {
  watch_ = ClientWatch::gone;
  if (watched_upstream_) watched_upstream_->cancel();
}

void Session::on_readable() {
  if (watch_ != ClientWatch::watching) return;
  switch (client_->peek()) {
    case env::Readiness::nothing:  // spurious: keep watching
      client_->watch_readable(*this);
      return;
    case env::Readiness::data:
      // A pipelined next request: it waits in the kernel until this one is
      // answered. A readiness watch would now fire at once, again and
      // again, so the upstream loops look at the client now and then
      // instead (check_pipelined_client). The upstream read under way has
      // its long deadline: it is woken to start again with the short one.
      watch_ = ClientWatch::pipelined;
      next_client_check_ = worker_.env().now() + kPipelinedClientCheck;
      if (watched_upstream_) watched_upstream_->cancel();
      return;
    case env::Readiness::data_then_eof:
      // Pipelined, then hung up: gone, as nginx judges it (EPOLLRDHUP).
    case env::Readiness::eof:
    case env::Readiness::failed:
      client_left();
      return;
  }
}

TimePoint Session::pipelined_check_deadline(TimePoint deadline) const {
  return watch_ == ClientWatch::pipelined ? earliest(deadline, next_client_check_) : deadline;
}

bool Session::woke_for_client(const error_code& ec, TimePoint deadline) const {
  if (watch_ != ClientWatch::pipelined) return false;
  // The short wait ran out before the operation's own deadline, or the
  // watch cancelled the read when the client pipelined.
  return (ec == asio::error::timed_out && worker_.env().now() < deadline) ||
         ec == asio::error::operation_aborted;
}

bool Session::check_pipelined_client() {
  if (watch_ != ClientWatch::pipelined) return false;
  const TimePoint now = worker_.env().now();
  if (now < next_client_check_) return false;
  next_client_check_ = now + kPipelinedClientCheck;
  const env::Readiness r = client_->peek();
  if (r == env::Readiness::data) return false;
  client_left();
  return true;
}

void Session::append_response_head(std::string& out, int status, std::string_view reason) {
  out += "HTTP/1.1 ";
  append_decimal(out, static_cast<std::uint64_t>(status));
  out += ' ';
  out += reason.empty() ? reason_phrase(status) : reason;
  out += "\r\nx-request-id: ";
  out += request_id_;
  out += kCrlf;
  out += rate_headers_;
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
